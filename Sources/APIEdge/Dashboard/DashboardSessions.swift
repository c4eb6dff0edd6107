import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PostgresNIO
import Store

/// A signed-in staff member's dashboard session.
struct DashboardSession: Sendable {
    let staffEmail: String
    /// Every form that changes something carries it; a post without it is refused.
    let csrfToken: String
}

/// Dashboard sessions in Postgres (`dashboard_sessions`), so every API process knows them and
/// sign-out ends them at once. The cookie holds a random token; the table only its SHA-256.
struct DashboardSessions: Sendable {
    static let cookieName = "fw_dash"
    /// The sign-in form's double-submit cookie (sign-in has no session to hold a CSRF token yet).
    static let loginCookieName = "fw_dash_login"
    static let lifetime: Duration = .seconds(8 * 3600)

    let db: PostgresClient
    let logger: Logger

    /// Opens a session for `email`; returns the cookie token.
    func open(for email: String) async throws -> String {
        let token = Self.randomToken()
        let seconds = Int(Self.lifetime.components.seconds)
        _ = try await db.run(
            """
            INSERT INTO dashboard_sessions (token_hash, staff_email, csrf_token, expires_at)
            VALUES (\(Self.hash(token)), \(email), \(Self.randomToken()), now() + \(seconds) * interval '1 second')
            """,
            logger: logger
        )
        // Expired sessions go on sign-in, so the table never outgrows the staff's sign-ins of a day.
        _ = try await db.run("DELETE FROM dashboard_sessions WHERE expires_at < now()", logger: logger)
        return token
    }

    /// The live session a cookie token names, if any.
    func session(token: String) async throws -> DashboardSession? {
        let rows = try await db.run(
            "SELECT staff_email, csrf_token FROM dashboard_sessions WHERE token_hash = \(Self.hash(token)) AND expires_at > now()",
            logger: logger
        )
        for try await (email, csrf) in rows.decode((String, String).self) { return DashboardSession(staffEmail: email, csrfToken: csrf) }
        return nil
    }

    /// Ends the session of `token` (sign-out).
    func close(token: String) async throws {
        _ = try await db.run("DELETE FROM dashboard_sessions WHERE token_hash = \(Self.hash(token))", logger: logger)
    }

    static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// 32 random bytes, base64url.
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Compares without an early exit, so the time taken does not tell how much of a token matched.
    static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// Cookies of the dashboard: read from requests, written as `Set-Cookie` values.
enum DashboardCookies {
    /// The value of cookie `name` in the request's `Cookie` headers.
    static func value(_ name: String, in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0] == name { return String(parts[1]) }
            }
        }
        return nil
    }

    /// A `Set-Cookie` value: HttpOnly and SameSite=Strict always, scoped to `/dashboard`; `Secure`
    /// when `secure`; `maxAge` 0 deletes it.
    static func setCookie(_ name: String, _ value: String, maxAge: Int, secure: Bool) -> String {
        "\(name)=\(value); Path=/dashboard; Max-Age=\(maxAge); HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    /// Whether the cookie gets `Secure`: always, unless `DASHBOARD_INSECURE_COOKIES=1`, or the
    /// request came over plain http from loopback (local development and tests; a proxy that
    /// terminates TLS says `X-Forwarded-Proto: https`, which keeps `Secure`).
    static func secure(_ request: Request, remoteIP: String?, insecureAllowed: Bool) -> Bool {
        if insecureAllowed { return false }
        let forwarded = request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased()
        if forwarded == "https" { return true }
        let loopback = remoteIP.map { $0 == "::1" || $0.hasPrefix("127.") || $0.hasPrefix("::ffff:127.") } ?? false
        return !loopback
    }
}
