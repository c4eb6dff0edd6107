import Actors
import Crypto
import Foundation

/// The sign-in limits: per account (tight), per client IP (loose: many canvassers share an office
/// NAT), both within a window that starts at the first failure.
struct LoginPolicy: Sendable {
    var maxFailuresPerAccount: Int
    var maxFailuresPerIP: Int
    var window: Duration
    /// The longest an account stays locked however often it is locked again.
    var longestLock: Duration = .seconds(24 * 3600)
}

/// Counts failed sign-ins in Redis, so the limits hold across every API process. Campaign and
/// staff sign-ins are counted apart (`Realm`): failures at the campaign login never block staff.
///
/// Back-off per account: the first lock lasts the window; each further lock within a day doubles
/// (window × 2^(locks−1), at most `longestLock`), so guessing a password slows down exponentially
/// while a user who mistyped a few times is never locked at all.
struct LoginRateLimiter: Sendable {
    enum Realm: String, Sendable { case campaign, staff }

    let redis: RedisClient
    let prefix: String
    let policy: LoginPolicy

    /// KEYS: account count, account locks, IP count. ARGV: window s, account limit, longest lock s.
    /// Counts the failure; when it reaches the account limit the account is locked for the window
    /// doubled per earlier lock, and the lock count is remembered for a day.
    static let recordScript = """
        local n = redis.call('INCR', KEYS[1])
        if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
        if n == tonumber(ARGV[2]) then
          local locks = redis.call('INCR', KEYS[2])
          redis.call('EXPIRE', KEYS[2], ARGV[3])
          local lock = math.min(tonumber(ARGV[1]) * 2 ^ (locks - 1), tonumber(ARGV[3]))
          redis.call('EXPIRE', KEYS[1], math.floor(lock))
        end
        if redis.call('INCR', KEYS[3]) == 1 then redis.call('EXPIRE', KEYS[3], ARGV[1]) end
        return n
        """

    func keys(_ realm: Realm, email: String, ip: String) -> (account: String, locks: String, ip: String) {
        // The email is hashed so that addresses do not sit in Redis in clear.
        let digest = SHA256.hash(data: Data(email.lowercased().utf8)).map { String(format: "%02x", $0) }.joined()
        let base = "\(prefix)login:\(realm.rawValue):"
        return ("\(base)email:\(digest)", "\(base)locks:\(digest)", "\(base)ip:\(ip)")
    }

    /// Throws 429 (with the seconds until the lock ends) while the account or the IP is at its limit.
    func check(_ realm: Realm, email: String, ip: String) async throws {
        let keys = keys(realm, email: email, ip: ip)
        let replies = try await redis.pipeline([["GET", keys.account], ["TTL", keys.account], ["GET", keys.ip], ["TTL", keys.ip]])
        let limits = [(0, policy.maxFailuresPerAccount), (2, policy.maxFailuresPerIP)]
        for (index, limit) in limits {
            let count = (try? replies[index].get())?.int ?? 0
            if count >= limit {
                let ttl = (try? replies[index + 1].get())?.int ?? Int(policy.window.components.seconds)
                throw APIError.rateLimited(retryAfter: max(ttl, 1))
            }
        }
    }

    func recordFailure(_ realm: Realm, email: String, ip: String) async throws {
        let keys = keys(realm, email: email, ip: ip)
        _ = try await redis.eval(
            Self.recordScript,
            keys: [keys.account, keys.locks, keys.ip],
            arguments: [
                String(policy.window.components.seconds), String(policy.maxFailuresPerAccount),
                String(policy.longestLock.components.seconds),
            ]
        )
    }

    /// A successful sign-in clears the account's count and its lock history (the IP's count stays).
    func recordSuccess(_ realm: Realm, email: String, ip: String) async throws {
        let keys = keys(realm, email: email, ip: ip)
        _ = try await redis.command("DEL", keys.account, keys.locks)
    }
}
