import Actors
import Crypto
import Foundation

/// Counts failed sign-ins per email and per client IP in Redis, so the limit holds across every
/// API process. A fixed window starts at the first failure.
struct LoginRateLimiter: Sendable {
    let redis: RedisClient
    let prefix: String
    let maxFailures: Int
    let window: Duration

    /// INCR each key, starting its window on the first failure.
    static let recordScript = """
        for i, key in ipairs(KEYS) do
          if redis.call('INCR', key) == 1 then redis.call('EXPIRE', key, ARGV[1]) end
        end
        return 1
        """

    func keys(email: String, ip: String) -> [String] {
        // The email is hashed so that addresses do not sit in Redis in clear.
        let digest = SHA256.hash(data: Data(email.lowercased().utf8)).map { String(format: "%02x", $0) }.joined()
        return ["\(prefix)login:email:\(digest)", "\(prefix)login:ip:\(ip)"]
    }

    /// Throws 429 (with the seconds until the window ends) while either count is at the limit.
    func check(email: String, ip: String) async throws {
        let keys = keys(email: email, ip: ip)
        let replies = try await redis.pipeline(keys.flatMap { [["GET", $0], ["TTL", $0]] })
        for index in stride(from: 0, to: replies.count, by: 2) {
            let count = (try? replies[index].get())?.int ?? 0
            if count >= maxFailures {
                let ttl = (try? replies[index + 1].get())?.int ?? Int(window.components.seconds)
                throw APIError.rateLimited(retryAfter: max(ttl, 1))
            }
        }
    }

    func recordFailure(email: String, ip: String) async throws {
        _ = try await redis.eval(Self.recordScript, keys: keys(email: email, ip: ip), arguments: [String(window.components.seconds)])
    }

    /// A successful sign-in clears the email's count (the IP's stays).
    func recordSuccess(email: String, ip: String) async throws {
        try await redis.command("DEL", keys(email: email, ip: ip)[0])
    }
}
