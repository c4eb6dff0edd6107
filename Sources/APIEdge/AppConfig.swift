import Actors
import Configuration
import Foundation
import Logging

/// A configuration value that cannot be used: names the variable and what it expects.
public struct ConfigError: Error, CustomStringConvertible {
    public let variable: String
    public let expected: String
    public var description: String { "\(variable): \(expected)" }
}

/// A platform staff account from `FIELDWORK_STAFF`.
public struct StaffAccount: Sendable {
    public let email: String
    public let passwordHash: String
}

/// Everything the process reads from its environment, validated at start.
public struct AppConfig: Sendable {
    public var databaseURL: String
    public var redisURL: String
    public var storageURL: String
    public var host: String
    public var port: Int
    public var jwtSecret: String
    public var accessTokenTTL: Duration
    public var refreshTokenTTL: Duration
    public var logLevel: Logger.Level
    public var maxUploadBytes: Int
    /// Limit for JSON request bodies (every route that is not an upload).
    public var maxJSONBodyBytes: Int
    public var staff: [StaffAccount]
    /// Browser origins allowed to call the API (CORS), exactly as the browser sends them.
    public var corsAllowedOrigins: [String]
    /// Failed sign-ins of one account within `loginRateWindow` before sign-in answers 429.
    public var loginMaxFailures: Int
    /// Failed sign-ins from one client IP within `loginRateWindow` before sign-in answers 429
    /// (far higher: a field office puts dozens of canvassers behind one address).
    public var loginMaxFailuresPerIP: Int
    public var loginRateWindow: Duration
    /// Prefix of every Redis key this process writes (tests give each application its own).
    public var redisKeyPrefix: String
    /// bcrypt cost for new password hashes.
    public var bcryptCost: UInt8
    /// Directory of `*.yaml` pipeline files.
    public var pipelinesDirectory: String
    /// Jobs of one pipeline a worker process runs at once (pipeline caps also apply).
    public var workerConcurrency: Int
    /// How long running jobs may take to finish after SIGTERM before their leases are handed back.
    public var shutdownGrace: Duration
    /// Promotion of due jobs and the lease sweeper run this often.
    public var maintenanceInterval: Duration
    /// The reconciler (ledger → Redis) runs this often; a job must have been queued `reconcileGrace` first.
    public var reconcileInterval: Duration
    public var reconcileGrace: Duration
    /// How often the scheduler looks at the clock.
    public var schedulerTick: Duration
    /// Jobs per second a bulk retry releases.
    public var bulkRetryRate: Int
    /// `fieldwork work` commits its ledger writes with `synchronous_commit = off`.
    public var workerAsyncCommit: Bool
    /// How long an export's file is kept once written (`EXPORT_TTL`, seconds; default 7 days).
    public var exportTTL: Duration = .seconds(7 * 86_400)
    /// `DASHBOARD_INSECURE_COOKIES=1`: the dashboard's session cookie goes without `Secure` (development
    /// over plain http on another host; plain http on loopback never needs it).
    public var dashboardInsecureCookies: Bool = false

    /// Reads and validates the environment. Throws `ConfigError` naming the first bad variable.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> AppConfig {
        let reader = ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: environment))
        func string(_ key: ConfigKey, _ name: String) -> String? {
            guard let value = reader.string(forKey: key, isSecret: name.contains("SECRET")), !value.isEmpty else { return nil }
            return value
        }
        func integer(_ key: ConfigKey, _ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
            guard let text = string(key, name) else { return value }
            guard let number = Int(text), range.contains(number) else {
                throw ConfigError(variable: name, expected: "a whole number in \(range.lowerBound)...\(range.upperBound), got \"\(text)\"")
            }
            return number
        }

        guard let databaseURL = string("database.url", "DATABASE_URL") else {
            throw ConfigError(variable: "DATABASE_URL", expected: "a postgres://user@host:port/database URL (ops/stack env prints one)")
        }
        guard let redisURL = string("redis.url", "REDIS_URL") else {
            throw ConfigError(variable: "REDIS_URL", expected: "a redis://host:port/db URL (ops/stack env prints one)")
        }
        let storageURL = string("storage.url", "STORAGE_URL") ?? "file://.data/objects"
        guard storageURL.hasPrefix("file://") || storageURL.hasPrefix("s3://") else {
            throw ConfigError(variable: "STORAGE_URL", expected: "file://<directory> or s3://<bucket>?endpoint=<url>&region=<region>")
        }
        var secret = string("jwt.secret", "JWT_SECRET")
        if secret == nil, let file = string("jwt.key.file", "JWT_KEY_FILE") {
            guard let contents = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ConfigError(variable: "JWT_KEY_FILE", expected: "a readable file holding the signing secret, got \"\(file)\"")
            }
            secret = contents.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let jwtSecret = secret, jwtSecret.utf8.count >= 32 else {
            throw ConfigError(variable: "JWT_SECRET", expected: "a secret of at least 32 bytes (or JWT_KEY_FILE naming a file with one)")
        }
        let levelText = string("log.level", "LOG_LEVEL") ?? "info"
        guard let level = Logger.Level(rawValue: levelText.lowercased()) else {
            throw ConfigError(variable: "LOG_LEVEL", expected: "trace, debug, info, notice, warning, error or critical, got \"\(levelText)\"")
        }
        var config = AppConfig(
            databaseURL: databaseURL,
            redisURL: redisURL,
            storageURL: storageURL,
            host: string("host", "HOST") ?? "127.0.0.1",
            port: try integer("port", "PORT", default: 8080, range: 0...65535),
            jwtSecret: jwtSecret,
            accessTokenTTL: .seconds(try integer("access.token.ttl", "ACCESS_TOKEN_TTL", default: 900, range: 30...86_400)),
            refreshTokenTTL: .seconds(
                try integer("refresh.token.ttl", "REFRESH_TOKEN_TTL", default: 30 * 86_400, range: 60...365 * 86_400)
            ),
            logLevel: level,
            maxUploadBytes: try integer("max.upload.bytes", "MAX_UPLOAD_BYTES", default: 2 << 30, range: 1024...(64 << 30)),
            maxJSONBodyBytes: 1 << 20,
            staff: try parseStaff(string("fieldwork.staff", "FIELDWORK_STAFF")),
            corsAllowedOrigins: try parseOrigins(string("cors.allowed.origins", "CORS_ALLOWED_ORIGINS")),
            loginMaxFailures: try integer("login.max.failures", "LOGIN_MAX_FAILURES", default: 10, range: 3...1000),
            loginMaxFailuresPerIP: try integer("login.max.failures.per.ip", "LOGIN_MAX_FAILURES_PER_IP", default: 500, range: 10...1_000_000),
            loginRateWindow: .seconds(try integer("login.rate.window", "LOGIN_RATE_WINDOW", default: 15 * 60, range: 1...86_400)),
            redisKeyPrefix: string("redis.key.prefix", "REDIS_KEY_PREFIX") ?? "fw:",
            bcryptCost: 11,
            pipelinesDirectory: string("pipelines.dir", "PIPELINES_DIR") ?? "pipelines",
            workerConcurrency: try integer("worker.concurrency", "WORKER_CONCURRENCY", default: 32, range: 1...4096),
            shutdownGrace: .seconds(try integer("shutdown.grace", "SHUTDOWN_GRACE", default: 25, range: 0...3600)),
            maintenanceInterval: .milliseconds(try integer("maintenance.interval.ms", "MAINTENANCE_INTERVAL_MS", default: 1000, range: 50...60_000)),
            reconcileInterval: .milliseconds(try integer("reconcile.interval.ms", "RECONCILE_INTERVAL_MS", default: 10_000, range: 100...3_600_000)),
            reconcileGrace: .milliseconds(try integer("reconcile.grace.ms", "RECONCILE_GRACE_MS", default: 5000, range: 0...3_600_000)),
            schedulerTick: .milliseconds(try integer("scheduler.tick.ms", "SCHEDULER_TICK_MS", default: 1000, range: 50...60_000)),
            bulkRetryRate: try integer("bulk.retry.rate", "BULK_RETRY_RATE", default: 500, range: 1...100_000),
            workerAsyncCommit: try integer("worker.async.commit", "WORKER_ASYNC_COMMIT", default: 0, range: 0...1) == 1,
            dashboardInsecureCookies: try integer("dashboard.insecure.cookies", "DASHBOARD_INSECURE_COOKIES", default: 0, range: 0...1) == 1
        )
        config.exportTTL = .seconds(try integer("export.ttl", "EXPORT_TTL", default: 7 * 86_400, range: 60...(366 * 86_400)))
        return config
    }

    /// The pipelines of `pipelinesDirectory`, validated (the error names the file and key).
    public func loadCatalog() throws -> PipelineCatalog {
        try PipelineCatalog.load(directory: pipelinesDirectory)
    }

    /// Worker settings from this configuration.
    public var workerSettings: WorkerSettings {
        WorkerSettings(
            concurrency: workerConcurrency,
            shutdownGrace: shutdownGrace,
            maintenanceInterval: maintenanceInterval,
            reconcileInterval: reconcileInterval,
            reconcileGrace: reconcileGrace
        )
    }

    /// The sign-in limits (see `LoginRateLimiter`).
    var loginPolicy: LoginPolicy {
        LoginPolicy(maxFailuresPerAccount: loginMaxFailures, maxFailuresPerIP: loginMaxFailuresPerIP, window: loginRateWindow)
    }

    /// `https://app.example.org,http://localhost:5173`: scheme, host and optional port, no path.
    static func parseOrigins(_ text: String?) throws -> [String] {
        guard let text else { return [] }
        return try text.split(separator: ",").map { entry in
            let origin = entry.trimmingCharacters(in: .whitespaces)
            guard let url = URLComponents(string: origin), ["http", "https"].contains(url.scheme ?? ""), url.host?.isEmpty == false,
                url.path.isEmpty, url.query == nil, url.fragment == nil
            else {
                throw ConfigError(
                    variable: "CORS_ALLOWED_ORIGINS",
                    expected: "comma-separated origins like https://app.example.org, got \"\(origin)\""
                )
            }
            return origin
        }
    }

    /// `email:bcrypt-hash,email:bcrypt-hash`.
    static func parseStaff(_ text: String?) throws -> [StaffAccount] {
        guard let text else { return [] }
        return try text.split(separator: ",").map { entry in
            let parts = entry.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, parts[0].contains("@"), parts[1].hasPrefix("$2") else {
                throw ConfigError(
                    variable: "FIELDWORK_STAFF",
                    expected: "comma-separated email:bcrypt-hash entries (fieldwork hash-password makes a hash)"
                )
            }
            return StaffAccount(email: parts[0].lowercased(), passwordHash: parts[1])
        }
    }
}
