import APIEdge
import Actors
import CHiredis
import Foundation
import Logging
import PostgresNIO
import Store
import Testing

@Suite struct InfrastructureTests {
    static var databaseURL: String { ProcessInfo.processInfo.environment["DATABASE_URL"] ?? "postgres://fieldwork@127.0.0.1:55432/fieldwork" }
    static var redisURL: String { ProcessInfo.processInfo.environment["REDIS_URL"] ?? "redis://127.0.0.1:56379/0" }
    static var redisPort: Int { Int(redisURL.split(separator: ":").last!.split(separator: "/").first!)! }

    /// Runs `body` with a started Postgres client on a scratch database of its own.
    static func withScratchDatabase(_ body: @escaping @Sendable (String) async throws -> Void) async throws {
        try await TestGate.slot { try await scratchDatabase(body) }
    }

    private static func scratchDatabase(_ body: @escaping @Sendable (String) async throws -> Void) async throws {
        let name = "scratch_\(UUID().uuidString.prefix(8).lowercased())"
        let logger = Logger(label: "test")
        let admin = PostgresClient(configuration: try DatabaseSettings.configuration(url: databaseURL), backgroundLogger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await admin.run() }
            defer { group.cancelAll() }
            try await admin.query("CREATE DATABASE \(unescaped: name)", logger: logger).consume()
            let url = String(databaseURL[..<databaseURL.lastIndex(of: "/")!]) + "/\(name)"
            do { try await body(url) } catch {
                try? await admin.query("DROP DATABASE \(unescaped: name) WITH (FORCE)", logger: logger).consume()
                throw error
            }
            try await admin.query("DROP DATABASE \(unescaped: name) WITH (FORCE)", logger: logger).consume()
        }
    }

    @Test func migrationsAreIdempotentAndSafeWhenConcurrent() async throws {
        try await Self.withScratchDatabase { url in
            let logger = Logger(label: "test")
            let clients = try (0..<2).map { _ in PostgresClient(configuration: try DatabaseSettings.configuration(url: url), backgroundLogger: logger)
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for client in clients { group.addTask { await client.run() } }
                defer { group.cancelAll() }
                async let first = Migrator(client: clients[0], logger: logger).migrate()
                async let second = Migrator(client: clients[1], logger: logger).migrate()
                let (a, b) = try await (first, second)
                let files = try Migrator.files().map(\.name)
                #expect((a + b).sorted() == files.sorted(), "each file applied exactly once across both runs")
                #expect(try await Migrator(client: clients[0], logger: logger).migrate().isEmpty)
                var count = 0
                for try await n in try await clients[0].query("SELECT count(*) FROM schema_migrations", logger: logger).decode(Int.self) { count = n }
                #expect(count == files.count)
            }
        }
    }

    @Test func auditLogRefusesUpdateAndDelete() async throws {
        let logger = Logger(label: "test")
        let client = PostgresClient(configuration: try DatabaseSettings.configuration(url: Self.databaseURL), backgroundLogger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await Migrator(client: client, logger: logger).migrate()
            try await AuditLog(logger: logger).append(
                AuditRecord(orgId: nil, actorId: "test", actorKind: .system, action: "test.append", entityType: "test", requestId: nil),
                on: client
            )
            await #expect(throws: PSQLError.self) {
                try await client.query("UPDATE audit_logs SET action = 'x' WHERE action = 'test.append'", logger: logger).consume()
            }
            await #expect(throws: PSQLError.self) {
                try await client.query("DELETE FROM audit_logs WHERE action = 'test.append'", logger: logger).consume()
            }
        }
    }

    /// The hiredis system library links and talks to the real Redis, directly and through the pool.
    @Test func hiredisTalksToRedis() async throws {
        #expect(try RedisConnectionProbe.ping(port: Self.redisPort))

        let client = try RedisClient(url: Self.redisURL)
        let key = "fwtest:hiredis:\(UUID().uuidString)"
        try await client.command("SET", key, "välue with spaces\r\n")
        #expect(try await client.command("GET", key) == .string("välue with spaces\r\n"))
        let replies = try await client.pipeline([["INCR", key + ":n"], ["INCR", key + ":n"], ["DEL", key, key + ":n"]])
        #expect(replies.map { try? $0.get() } == [.integer(1), .integer(2), .integer(2)])
        await #expect(throws: RedisError.self) { try await client.command("NOSUCHCOMMAND") }
        #expect(try await client.command("PING") == .status("PONG"))
    }

    /// A Redis of the test's own, stopped and started again: /ready says 503 naming the queue, then 200.
    @Test func readyReportsRedisOutageAndRecovery() async throws {
        let port = 56_400 + Int.random(in: 0..<500)
        let redis = Locked(try Self.startRedis(port: port))
        try await Harness.run({ $0.redisURL = "redis://127.0.0.1:\(port)/0" }) { h in
            #expect(try await h.call(.get, "/ready").status == .ok)
            try await Self.stop(redis.value)
            let down = try await h.call(.get, "/ready")
            #expect(down.status == .serviceUnavailable)
            #expect((down.json["checks"] as? [String: String])?["queue"]?.hasPrefix("failed") == true)
            #expect((down.json["checks"] as? [String: String])?["database"] == "ok")
            #expect((down.json["error"] as? [String: Any])?["code"] as? String == "UNAVAILABLE")
            // Sign-in depends on the limiter: with Redis gone it answers 503, not 500.
            #expect(try await h.login("anyone@x.test").status == .serviceUnavailable)
            redis.value = try Self.startRedis(port: port)
            #expect(try await h.call(.get, "/ready").status == .ok)
        }
        try await Self.stop(redis.value)
    }

    /// A foreground redis-server child on `port`, answering once this returns.
    static func startRedis(port: Int) throws -> Child {
        let child = try Child(["redis-server", "--bind", "127.0.0.1", "--port", "\(port)", "--save", "", "--appendonly", "no"])
        for _ in 0..<100 {
            if (try? RedisConnectionProbe.ping(port: port)) == true { return child }
            usleep(20_000)
        }
        throw TestFailure("redis-server on \(port) did not start: \(child.output)")
    }

    static func stop(_ child: Child) async throws {
        child.signal(SIGTERM)
        _ = try await child.wait()
    }

    /// `fieldwork work` and `fieldwork schedule` start, log, and exit cleanly on SIGTERM.
    @Test(arguments: ["work", "schedule"])
    func rolesStopOnSIGTERM(role: String) async throws {
        guard let bin = ProcessInfo.processInfo.environment["FIELDWORK_BIN"] else {
            Issue.record("FIELDWORK_BIN is not set: ops/test sets it to the built binary")
            return
        }
        var env = ProcessInfo.processInfo.environment
        env["JWT_SECRET"] = TestEnv.jwtSecret
        env["DATABASE_URL"] = Self.databaseURL
        env["REDIS_URL"] = Self.redisURL
        let child = try Child([bin, role], environment: env)
        let name = role == "work" ? "worker" : "scheduler"
        let deadline = ContinuousClock.now + .seconds(15)
        while !child.output.contains("\"msg\":\"\(name) started\""), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(child.output.contains("\"msg\":\"\(name) started\""))
        child.signal(SIGTERM)
        let status = try await child.wait(timeout: .seconds(10))
        #expect(status == 0, "exit status after SIGTERM: \(String(describing: status))")
        #expect(child.output.contains("\"msg\":\"\(name) stopped\""))
        if status == nil {
            child.signal(SIGKILL)
            _ = try await child.wait()
        }
    }
}

/// A blocking PING straight through hiredis.
enum RedisConnectionProbe {
    static func ping(port: Int) throws -> Bool {
        guard let context = redisConnect("127.0.0.1", Int32(port)) else { return false }
        defer { redisFree(context) }
        guard context.pointee.err == 0 else { return false }
        let ping = strdup("PING")!
        defer { free(ping) }
        var argv: [UnsafePointer<CChar>?] = [UnsafePointer(ping)]
        guard let raw = argv.withUnsafeMutableBufferPointer({ redisCommandArgv(context, 1, $0.baseAddress, nil) }) else { return false }
        let reply = raw.assumingMemoryBound(to: redisReply.self)
        defer { freeReplyObject(reply) }
        return String(cString: reply.pointee.str) == "PONG"
    }
}
