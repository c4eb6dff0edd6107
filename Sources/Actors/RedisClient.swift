import Crypto
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix

/// A small pool of hiredis connections. Every blocking call runs on a dedicated `NIOThreadPool` thread,
/// never on Swift's cooperative pool. A connection that errors is dropped; the next call dials
/// again, so a restarted Redis is picked up without restarting the process.
public final class RedisClient: Sendable {
    public let host: String
    public let port: Int
    public let database: Int
    let timeout: Duration
    let maxIdle: Int
    let threadPool: NIOThreadPool
    private let idle = NIOLockedValueBox<[RedisConnection]>([])

    /// Threads for blocking hiredis calls: Redis round trips wait on the network, not the CPU,
    /// so this pool is larger than NIO's core-count singleton (which bcrypt also uses).
    public static let sharedThreadPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 8)
        pool.start()
        return pool
    }()

    /// Parses `redis://host:port/db`.
    public convenience init(
        url: String,
        timeout: Duration = .seconds(2),
        maxIdle: Int = 8,
        threadPool: NIOThreadPool = RedisClient.sharedThreadPool
    ) throws {
        guard let components = URLComponents(string: url), components.scheme == "redis",
            let host = components.host, !host.isEmpty
        else { throw RedisError.badURL("expected redis://host[:port][/db]") }
        let path = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        guard let database = path.isEmpty ? 0 : Int(path), database >= 0 else {
            throw RedisError.badURL("the path must be a database number, like /0")
        }
        self.init(host: host, port: components.port ?? 6379, database: database, timeout: timeout, maxIdle: maxIdle, threadPool: threadPool)
    }

    public init(
        host: String,
        port: Int,
        database: Int = 0,
        timeout: Duration = .seconds(2),
        maxIdle: Int = 8,
        threadPool: NIOThreadPool = RedisClient.sharedThreadPool
    ) {
        self.host = host
        self.port = port
        self.database = database
        self.timeout = timeout
        self.maxIdle = maxIdle
        self.threadPool = threadPool
    }

    /// Runs one command, e.g. `["SET", "k", "v"]`.
    @discardableResult
    public func command(_ arguments: String...) async throws -> RedisValue {
        try await command(arguments)
    }

    @discardableResult
    public func command(_ arguments: [String]) async throws -> RedisValue {
        try await withConnection { try $0.command(arguments) }
    }

    /// Sends commands in one round trip; each reply (or error reply) in order.
    public func pipeline(_ commands: [[String]]) async throws -> [Result<RedisValue, RedisError>] {
        try await withConnection { try $0.pipeline(commands) }
    }

    /// Runs a Lua script by its digest (`EVALSHA`). A Redis that does not hold it (restarted
    /// empty, or new) answers `NOSCRIPT`: the script is loaded (`SCRIPT LOAD`) and called again.
    @discardableResult
    public func run(_ script: RedisScript, keys: [String], arguments: [String]) async throws -> RedisValue {
        let call = ["EVALSHA", script.sha1, String(keys.count)] + keys + arguments
        do {
            return try await command(call)
        } catch RedisError.reply(let message) where message.hasPrefix("NOSCRIPT") {
            try await command("SCRIPT", "LOAD", script.source)
            return try await command(call)
        }
    }

    /// Runs the Lua script `source` (by digest, as `run` does).
    @discardableResult
    public func eval(_ source: String, keys: [String], arguments: [String]) async throws -> RedisValue {
        try await run(RedisScript(source), keys: keys, arguments: arguments)
    }

    private func withConnection<T: Sendable>(_ body: @escaping @Sendable (RedisConnection) throws -> T) async throws -> T {
        try await threadPool.runIfActive { [self] in
            let connection =
                try idle.withLockedValue { $0.popLast() }
                ?? RedisConnection(host: host, port: port, database: database, timeout: timeout)
            do {
                let result = try body(connection)
                checkIn(connection)
                return result
            } catch let error as RedisError {
                if case .reply = error { checkIn(connection) }
                throw error
            }
        }
    }

    private func checkIn(_ connection: RedisConnection) {
        guard !connection.isBroken else { return }
        idle.withLockedValue { pool in
            if pool.count < maxIdle { pool.append(connection) }
        }
    }
}

/// A Lua script and its SHA-1 digest, the name Redis knows it by once loaded.
public struct RedisScript: Sendable {
    /// The Lua text.
    public let source: String
    /// Its SHA-1 digest in hex, as `EVALSHA` takes it.
    public let sha1: String

    /// Computes the digest once, here.
    public init(_ source: String) {
        self.source = source
        self.sha1 = Insecure.SHA1.hash(data: Data(source.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
