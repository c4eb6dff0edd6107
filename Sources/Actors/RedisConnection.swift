import CHiredis
import Foundation

/// One blocking hiredis connection. Not thread-safe: the `RedisClient` pool hands it to one
/// thread-pool thread at a time.
final class RedisConnection: @unchecked Sendable {
    private let context: UnsafeMutablePointer<redisContext>

    init(host: String, port: Int, database: Int, timeout: Duration) throws {
        let tv = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
        guard let context = redisConnectWithTimeout(host, Int32(port), tv) else {
            throw RedisError.connection("cannot allocate a redis context")
        }
        if context.pointee.err != 0 {
            let message = Self.errorText(context)
            redisFree(context)
            throw RedisError.connection(message)
        }
        redisSetTimeout(context, tv)
        self.context = context
        if database != 0 {
            _ = try command(["SELECT", String(database)])
        }
    }

    deinit {
        redisFree(context)
    }

    /// True once hiredis reported an I/O or protocol error: the connection must be dropped.
    var isBroken: Bool { context.pointee.err != 0 }

    static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// Sends one command (binary-safe arguments) and waits for its reply.
    func command(_ arguments: [String]) throws -> RedisValue {
        try pipeline([arguments])[0].get()
    }

    /// Sends several commands in one write and reads their replies in order.
    func pipeline(_ commands: [[String]]) throws -> [Result<RedisValue, RedisError>] {
        for arguments in commands {
            try append(arguments)
        }
        var results: [Result<RedisValue, RedisError>] = []
        results.reserveCapacity(commands.count)
        for _ in commands {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(context, &raw) == REDIS_OK, let reply = raw?.assumingMemoryBound(to: redisReply.self) else {
                throw RedisError.connection(Self.errorText(context))
            }
            defer { freeReplyObject(reply) }
            do {
                results.append(.success(try RedisValue.from(reply)))
            } catch let error as RedisError {
                results.append(.failure(error))
            }
        }
        return results
    }

    private func append(_ arguments: [String]) throws {
        let buffers = arguments.map { Array($0.utf8) }
        var lengths = buffers.map { $0.count }
        let status: Int32 = try withPointers(to: buffers) { pointers in
            var argv = pointers
            return argv.withUnsafeMutableBufferPointer { argvBuffer in
                lengths.withUnsafeMutableBufferPointer { lengthBuffer in
                    redisAppendCommandArgv(context, Int32(buffers.count), argvBuffer.baseAddress, lengthBuffer.baseAddress)
                }
            }
        }
        guard status == REDIS_OK else { throw RedisError.connection(Self.errorText(context)) }
    }

    private func withPointers<R>(
        to buffers: [[UInt8]],
        _ body: ([UnsafePointer<CChar>?]) throws -> R
    ) throws -> R {
        // Copies into one contiguous allocation that outlives the call.
        let total = buffers.reduce(0) { $0 + $1.count + 1 }
        let storage = UnsafeMutablePointer<CChar>.allocate(capacity: max(total, 1))
        defer { storage.deallocate() }
        var pointers: [UnsafePointer<CChar>?] = []
        var offset = 0
        for buffer in buffers {
            let start = storage + offset
            buffer.withUnsafeBytes { raw in
                if raw.count > 0 { UnsafeMutableRawPointer(start).copyMemory(from: raw.baseAddress!, byteCount: raw.count) }
            }
            start[buffer.count] = 0
            pointers.append(UnsafePointer(start))
            offset += buffer.count + 1
        }
        return try body(pointers)
    }
}
