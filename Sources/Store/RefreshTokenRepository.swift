import Crypto
import Foundation
import Logging
import PostgresNIO

/// Refresh tokens: random, stored only as SHA-256 hashes, rotated on every use. A family is the
/// chain of rotations from one sign-in; a token presented after it was rotated means it leaked,
/// so the whole family is revoked.
public struct RefreshTokenRepository: Sendable {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// What presenting a refresh token led to.
    public enum Rotation: Sendable {
        case rotated(token: String, orgId: UUID, userId: UUID)
        /// The token was already rotated: its family is now revoked.
        case reused(familyId: UUID, orgId: UUID, userId: UUID)
        case invalid
    }

    static func hash(_ token: String) -> Data {
        Data(SHA256.hash(data: Data(token.utf8)))
    }

    static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Base64URL.encode(bytes)
    }

    /// Issues a token for a membership, starting a new family unless one is given.
    public func issue(
        orgId: UUID,
        userId: UUID,
        family: UUID? = nil,
        ttl: Duration,
        on db: some QueryRunner
    ) async throws -> String {
        let token = Self.newToken()
        let seconds = Double(ttl.components.seconds)
        try await db.run(
            """
            INSERT INTO refresh_tokens (org_id, user_id, family_id, token_hash, expires_at)
            VALUES (\(orgId), \(userId), \(family ?? UUID()), \(Self.hash(token)), now() + \(seconds) * interval '1 second')
            """,
            logger: logger
        ).consume()
        return token
    }

    /// Spends `token` and issues its successor in one transaction, or revokes the family on reuse.
    /// The row lock makes two concurrent presentations of one token resolve as one rotation and one reuse.
    public func rotate(_ token: String, ttl: Duration, client: PostgresClient) async throws -> Rotation {
        try await client.inTransaction(logger: logger) { connection in
            let rows = try await connection.run(
                """
                SELECT r.org_id, r.user_id, r.family_id, r.expires_at > now(), r.used_at IS NOT NULL, r.revoked_at IS NOT NULL,
                       EXISTS (SELECT 1 FROM memberships m WHERE m.org_id = r.org_id AND m.user_id = r.user_id)
                FROM refresh_tokens r WHERE r.token_hash = \(Self.hash(token)) FOR UPDATE
                """,
                logger: logger
            )
            var found: (UUID, UUID, UUID, Bool, Bool, Bool, Bool)?
            for try await row in rows { found = try row.decode((UUID, UUID, UUID, Bool, Bool, Bool, Bool).self) }
            guard let (orgId, userId, family, live, used, revoked, member) = found else { return .invalid }
            if used {
                try await revokeFamily(family, on: connection)
                return .reused(familyId: family, orgId: orgId, userId: userId)
            }
            guard live, !revoked, member else { return .invalid }
            try await connection.run(
                "UPDATE refresh_tokens SET used_at = now() WHERE token_hash = \(Self.hash(token))",
                logger: logger
            ).consume()
            let next = try await issue(orgId: orgId, userId: userId, family: family, ttl: ttl, on: connection)
            return .rotated(token: next, orgId: orgId, userId: userId)
        }
    }

    func revokeFamily(_ family: UUID, on db: some QueryRunner) async throws {
        try await db.run(
            "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = \(family) AND revoked_at IS NULL",
            logger: logger
        ).consume()
    }

    /// Revokes the family of `token` if it belongs to `userId` (logout); true when something was revoked.
    @discardableResult
    public func revoke(_ token: String, ownedBy userId: UUID, on db: some QueryRunner) async throws -> Bool {
        let rows = try await db.run(
            """
            UPDATE refresh_tokens SET revoked_at = now()
            WHERE revoked_at IS NULL AND family_id = (
                SELECT family_id FROM refresh_tokens WHERE token_hash = \(Self.hash(token)) AND user_id = \(userId))
            RETURNING id
            """,
            logger: logger
        )
        var any = false
        for try await _ in rows { any = true }
        return any
    }

    /// Revokes every live token a member holds in the scope's organization.
    public func revokeMember(_ userId: UUID, in scope: OrgScope, on db: some QueryRunner) async throws {
        try await db.run(
            """
            UPDATE refresh_tokens SET revoked_at = now()
            WHERE org_id = \(scope.orgId) AND user_id = \(userId) AND revoked_at IS NULL
            """,
            logger: logger
        ).consume()
    }
}
