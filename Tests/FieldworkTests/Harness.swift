import APIEdge
import Foundation
import Glibc
import HTTPTypes
import Hummingbird
import HummingbirdBcrypt
import HummingbirdTesting
import Logging
import NIOCore
import PostgresNIO
@_spi(TenantAuth) import Store
import Telemetry

/// Settings shared by every test: the stack from `ops/stack` (DATABASE_URL, REDIS_URL) and a
/// fixed signing secret and staff account.
enum TestEnv {
    static let jwtSecret = "test-secret-that-is-long-enough-for-hs256-0123456789"
    static let password = "correct horse battery"
    static let staffEmail = "staff@tests.fieldwork.test"
    static let staffPassword = "staff-password-123"
    /// Cost 4 keeps the suite fast; production hashes use the configured cost.
    static let passwordHash = Bcrypt.hash(password, cost: 4)
    static let staffHash = Bcrypt.hash(staffPassword, cost: 4)

    static func config(_ adjust: (inout AppConfig) -> Void = { _ in }) throws -> AppConfig {
        var env = ProcessInfo.processInfo.environment
        env["DATABASE_URL"] = env["DATABASE_URL"] ?? "postgres://fieldwork@127.0.0.1:55432/fieldwork"
        env["REDIS_URL"] = env["REDIS_URL"] ?? "redis://127.0.0.1:56379/0"
        env["STORAGE_URL"] = "file://\(FileManager.default.temporaryDirectory.path)/fieldwork-test-objects"
        env["JWT_SECRET"] = jwtSecret
        env["JWT_KEY_FILE"] = nil
        env["FIELDWORK_STAFF"] = "\(staffEmail):\(staffHash)"
        env["LOG_LEVEL"] = "info"
        if let unreachable = stackProbe { throw TestFailure(unreachable) }
        var config = try AppConfig.fromEnvironment(env)
        config.host = "127.0.0.1"
        config.port = 0
        config.bcryptCost = 4
        // Each application counts sign-in failures under its own keys, so parallel tests
        // (all from 127.0.0.1) never trip each other's limits.
        config.redisKeyPrefix = "fwtest:\(UUID().uuidString.prefix(8)):"
        adjust(&config)
        return config
    }
}

extension TestEnv {
    /// Checked once per test process: a stack that is down fails every test at once with this
    /// message instead of leaving clients retrying connections until the run is killed.
    static let stackProbe: String? = {
        let env = ProcessInfo.processInfo.environment
        for (name, url, fallback) in [
            ("Postgres", env["DATABASE_URL"], 55432), ("Redis", env["REDIS_URL"], 56379),
        ] {
            let port = url.flatMap { URLComponents(string: $0)?.port } ?? fallback
            let host = url.flatMap { URLComponents(string: $0)?.host } ?? "127.0.0.1"
            if !tcpReachable(host: host, port: port) {
                return "\(name) is not reachable at \(host):\(port): start the stack with ./ops/stack up"
            }
        }
        return nil
    }()

    private static func tcpReachable(host: String, port: Int) -> Bool {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else { return false }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0
    }
}

/// A live application for one test, with its log lines captured.
struct Harness {
    let client: any TestClientProtocol
    let logs: LogSink
    let db: PostgresClient

    /// Builds and starts the app on a free port, runs `body` against it over real HTTP.
    static func run(
        _ adjust: (inout AppConfig) -> Void = { _ in },
        _ body: @escaping @Sendable (Harness) async throws -> Void
    ) async throws {
        try await TestGate.slot { try await live(adjust, body) }
    }

    private static func live(
        _ adjust: (inout AppConfig) -> Void,
        _ body: @escaping @Sendable (Harness) async throws -> Void
    ) async throws {
        let config = try TestEnv.config(adjust)
        let sink = LogSink(stdout: false, capture: true)
        let logger = Telemetry.logger(label: "fieldwork-test", level: .info, sink: sink)
        let app = try await buildApplication(config: config, logger: logger)
        let db = PostgresClient(configuration: try DatabaseSettings.configuration(url: config.databaseURL), backgroundLogger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await db.run() }
            defer { group.cancelAll() }
            try await app.test(.live) { client in
                try await body(Harness(client: client, logs: sink, db: db))
            }
        }
    }

    /// An HTTP exchange's result.
    struct Reply: Sendable {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let text: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:] }
        var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
        var requestId: String? { headers[HTTPField.Name("X-Request-Id")!] }
    }

    @discardableResult
    func call(
        _ method: HTTPRequest.Method,
        _ path: String,
        token: String? = nil,
        json: Any? = nil,
        raw: String? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> Reply {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        var body: ByteBuffer?
        if let json {
            body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json))
            if headers[.contentType] == nil { headers[.contentType] = "application/json" }
        } else if let raw {
            body = ByteBuffer(string: raw)
            if headers[.contentType] == nil { headers[.contentType] = "application/json" }
        }
        return try await client.execute(uri: path, method: method, headers: headers, body: body) { response in
            Reply(status: response.status, headers: response.headers, text: String(buffer: response.body))
        }
    }

    /// Signs in and returns the session JSON.
    func login(_ email: String, password: String = TestEnv.password, orgId: UUID? = nil) async throws -> Reply {
        var body: [String: Any] = ["email": email, "password": password]
        if let orgId { body["orgId"] = orgId.uuidString.lowercased() }
        return try await call(.post, "/api/v1/auth/login", json: body)
    }

    func token(_ email: String, orgId: UUID? = nil) async throws -> String {
        let reply = try await login(email, orgId: orgId)
        guard let token = reply.json["accessToken"] as? String else { throw TestFailure("login of \(email) failed: \(reply.status) \(reply.text)") }
        return token
    }

    func staffToken() async throws -> String {
        let reply = try await call(.post, "/api/v1/internal/auth/login", json: ["email": TestEnv.staffEmail, "password": TestEnv.staffPassword])
        guard let token = reply.json["accessToken"] as? String else { throw TestFailure("staff login failed: \(reply.text)") }
        return token
    }

    /// A fresh organization with an admin, an organizer and a canvasser (password `TestEnv.password`).
    func makeOrg() async throws -> TestOrg {
        let tag = UUID().uuidString.prefix(8).lowercased()
        let logger = Logger(label: "fixture")
        let org = try await OrganizationRepository(logger: logger).create(
            name: "Test \(tag)",
            slug: "t-\(tag)",
            timezone: "America/Chicago",
            on: db
        )!
        var ids: [Role: UUID] = [:]
        for role in Role.allCases {
            let (user, _) = try await UserRepository(logger: logger).findOrCreate(
                email: "\(role.rawValue)@\(tag).test",
                name: "\(role.rawValue) \(tag)",
                passwordHash: TestEnv.passwordHash,
                on: db
            )
            _ = try await MembershipRepository(logger: logger).add(user.id, role: role, in: OrgScope(orgId: org.id), on: db)
            ids[role] = user.id
        }
        return TestOrg(id: org.id, tag: String(tag), userIds: ids)
    }
}

struct TestOrg: Sendable {
    let id: UUID
    let tag: String
    let userIds: [Role: UUID]
    func email(_ role: Role) -> String { "\(role.rawValue)@\(tag).test" }
    func userId(_ role: Role) -> String { userIds[role]!.uuidString.lowercased() }
    var idString: String { id.uuidString.lowercased() }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
