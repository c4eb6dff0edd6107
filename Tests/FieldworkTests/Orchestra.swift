import APIEdge
import Foundation
import Logging
import Pipelines
import PostgresNIO
import Store
import Telemetry
import Testing

@testable import Actors

/// A test's own orchestrator world: a scratch database (the ledger's sweeper and reconciler are
/// global, so tests never share one), its own Redis key prefix, its own pipeline files, and the
/// live API on top. Workers run in process (`withWorker`) or as `fieldwork work` children.
struct Orchestra {
    let h: Harness
    let config: AppConfig
    let jobs: JobSystem
    let pipelinesDirectory: String
    let logger: Logger

    static let defaultPipelines: [String: String] = [
        "noop": """
        name: noop
        max_attempts: 3
        lease: 2s
        per_org_concurrency: 16
        global_concurrency: 64
        """,
        "sleep": """
        name: sleep
        max_attempts: 3
        backoff:
          base: 100ms
          cap: 1s
          jitter: full
        timeout: 2m
        lease: 1s
        per_org_concurrency: 10
        global_concurrency: 20
        """,
        "fail": """
        name: fail
        max_attempts: 3
        backoff:
          base: 200ms
          cap: 10s
          jitter: none
        lease: 2s
        per_org_concurrency: 4
        global_concurrency: 16
        """,
    ]

    static func run(
        pipelines: [String: String] = defaultPipelines,
        redisURL: String? = nil,
        storageURL: String? = nil,
        _ body: @escaping @Sendable (Orchestra) async throws -> Void
    ) async throws {
        try await InfrastructureTests.withScratchDatabase { url in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pipelines-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            for (name, text) in pipelines {
                try text.write(to: directory.appendingPathComponent("\(name).yaml"), atomically: true, encoding: .utf8)
            }
            let prefix = "fwtest:\(UUID().uuidString.prefix(8)):"
            let adjust: @Sendable (inout AppConfig) -> Void = { c in
                c.databaseURL = url
                c.pipelinesDirectory = directory.path
                c.redisKeyPrefix = prefix
                c.maintenanceInterval = .milliseconds(100)
                c.reconcileInterval = .milliseconds(500)
                c.reconcileGrace = .milliseconds(300)
                c.shutdownGrace = .seconds(5)
                if let redisURL { c.redisURL = redisURL }
                if let storageURL { c.storageURL = storageURL }
            }
            let config = try TestEnv.config(adjust)
            try await Harness.run(adjust) { h in
                let logger = Telemetry.logger(label: "orchestra", level: .info, sink: h.logs)
                let jobs = JobSystem(
                    db: h.db,
                    queue: JobQueue(redis: try RedisClient(url: config.redisURL), prefix: prefix),
                    catalog: try config.loadCatalog(),
                    logger: logger
                )
                try await body(Orchestra(h: h, config: config, jobs: jobs, pipelinesDirectory: directory.path, logger: logger))
            }
        }
    }

    /// The pipelines of this build, over this world's clients.
    var pipelines: PipelineRegistry {
        get throws { .standard(PipelineDependencies(db: h.db, objectStore: try makeObjectStore(url: config.storageURL), catalog: jobs.catalog)) }
    }

    /// Runs an in-process worker (a `Supervisor` over `pipelines`, the build's by default) while
    /// `body` runs, then drains it.
    func withWorker(
        _ adjust: (inout WorkerSettings) -> Void = { _ in },
        pipelines: PipelineRegistry? = nil,
        _ body: (Supervisor) async throws -> Void
    ) async throws {
        var settings = config.workerSettings
        adjust(&settings)
        let supervisor = try Supervisor(settings: settings, jobs: jobs, pipelines: try pipelines ?? self.pipelines, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await supervisor.run() }
            let outcome: Result<Void, any Error>
            do {
                try await body(supervisor)
                outcome = .success(())
            } catch {
                outcome = .failure(error)
            }
            // Drained gracefully whether `body` passed or threw.
            supervisor.beginShutdown()
            try await group.waitForAll()
            try outcome.get()
        }
    }

    /// The environment of a `fieldwork work` child that shares this world.
    var childEnvironment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["DATABASE_URL"] = config.databaseURL
        env["REDIS_URL"] = config.redisURL
        env["REDIS_KEY_PREFIX"] = config.redisKeyPrefix
        env["PIPELINES_DIR"] = pipelinesDirectory
        env["JWT_SECRET"] = TestEnv.jwtSecret
        env["JWT_KEY_FILE"] = nil
        env["MAINTENANCE_INTERVAL_MS"] = "100"
        env["RECONCILE_INTERVAL_MS"] = "500"
        env["RECONCILE_GRACE_MS"] = "300"
        env["SHUTDOWN_GRACE"] = "5"
        env["LOG_LEVEL"] = "info"
        return env
    }

    /// Starts `fieldwork work` and waits for its "worker started" line.
    func startWorkerProcess(environment extra: [String: String] = [:]) async throws -> Child {
        guard let bin = ProcessInfo.processInfo.environment["FIELDWORK_BIN"] else {
            throw TestFailure("FIELDWORK_BIN is not set: ops/test sets it to the built binary")
        }
        let child = try Child([bin, "work"], environment: childEnvironment.merging(extra) { $1 })
        try await waitUntil("worker process started", timeout: .seconds(20)) { child.output.contains("\"msg\":\"worker started\"") }
        return child
    }

    /// POST /internal/diagnostics/jobs as staff; returns the reply.
    @discardableResult
    func enqueue(
        _ pipeline: String,
        count: Int,
        orgIds: [UUID]? = nil,
        args: [String: Any]? = nil,
        token: String? = nil
    ) async throws -> Harness.Reply {
        var body: [String: Any] = ["pipeline": pipeline, "count": count]
        if let orgIds { body["orgIds"] = orgIds.map { $0.uuidString.lowercased() } }
        if let args { body["args"] = args }
        let bearer: String
        if let token { bearer = token } else { bearer = try await h.staffToken() }
        let reply = try await h.call(.post, "/api/v1/internal/diagnostics/jobs", token: bearer, json: body)
        guard reply.status == .accepted else { throw TestFailure("enqueue failed: \(reply.status) \(reply.text)") }
        return reply
    }

    /// Counts of jobs by state (optionally of one org).
    func states(org: UUID? = nil) async throws -> [String: Int] {
        var result: [String: Int] = [:]
        let rows = try await h.db.query(
            "SELECT state, count(*)::int8 FROM jobs WHERE (\(org)::uuid IS NULL OR org_id = \(org)) GROUP BY state",
            logger: logger
        )
        for try await (state, count) in rows.decode((String, Int).self) { result[state] = count }
        return result
    }

    func scalar<T: PostgresDecodable & Sendable>(_ query: PostgresQuery, as type: T.Type = T.self) async throws -> T? {
        for try await value in try await h.db.query(query, logger: logger).decode(T.self) { return value }
        return nil
    }

    func job(_ id: UUID) async throws -> JobRecord {
        guard let job = try await jobs.ledger.job(id: id, on: h.db) else { throw TestFailure("job \(id) not found") }
        return job
    }
}

/// Polls `condition` until it holds; throws naming `what` at the timeout.
func waitUntil(
    _ what: String,
    timeout: Duration = .seconds(30),
    every: Duration = .milliseconds(50),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: every)
    }
    throw TestFailure("timed out after \(timeout) waiting for: \(what)")
}
