import CHiredis

/// A Redis reply.
public enum RedisValue: Sendable, Equatable {
    case string(String)
    case integer(Int)
    case array([RedisValue])
    case status(String)
    case null

    /// The integer value, parsing bulk strings that hold one.
    public var int: Int? {
        switch self {
        case .integer(let value): value
        case .string(let text), .status(let text): Int(text)
        default: nil
        }
    }

    public var string: String? {
        switch self {
        case .string(let text), .status(let text): text
        case .integer(let value): String(value)
        default: nil
        }
    }

    /// Converts a hiredis reply; an error reply becomes a thrown `RedisError.reply`.
    static func from(_ reply: UnsafeMutablePointer<redisReply>) throws -> RedisValue {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_STRING:
            return .string(String(decoding: UnsafeRawBufferPointer(start: r.str, count: Int(r.len)), as: UTF8.self))
        case REDIS_REPLY_STATUS:
            return .status(String(cString: r.str))
        case REDIS_REPLY_ERROR:
            throw RedisError.reply(String(cString: r.str))
        case REDIS_REPLY_INTEGER:
            return .integer(Int(r.integer))
        case REDIS_REPLY_NIL:
            return .null
        case REDIS_REPLY_ARRAY:
            var items: [RedisValue] = []
            items.reserveCapacity(Int(r.elements))
            for index in 0..<Int(r.elements) {
                items.append(try from(r.element[index]!))
            }
            return .array(items)
        default:
            return .null
        }
    }
}

/// Why a Redis call failed.
public enum RedisError: Error, Equatable {
    /// Could not connect, or the connection broke (message from hiredis).
    case connection(String)
    /// Redis answered with an error reply.
    case reply(String)
    /// `REDIS_URL` cannot be used.
    case badURL(String)
}
