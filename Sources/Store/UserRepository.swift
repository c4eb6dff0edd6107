import Foundation
import Logging
import PostgresNIO

/// Users, looked up by id or by (lower-cased) email.
public struct UserRepository: Sendable {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    static let columns = "u.id, u.email, u.name, u.created_at"

    static func decode(_ row: PostgresRow) throws -> User {
        let (id, email, name, createdAt) = try row.decode((UUID, String, String, Date).self)
        return User(id: id, email: email, name: name, createdAt: createdAt)
    }

    /// A user and their bcrypt hash, for sign-in.
    public func credentials(email: String, on db: some QueryRunner) async throws -> (user: User, passwordHash: String?)? {
        let rows = try await db.run(
            "SELECT \(unescaped: Self.columns), u.password_hash FROM users u WHERE u.email = \(email.lowercased())",
            logger: logger
        )
        for try await row in rows {
            let (id, email, name, createdAt, hash) = try row.decode((UUID, String, String, Date, String?).self)
            return (User(id: id, email: email, name: name, createdAt: createdAt), hash)
        }
        return nil
    }

    public func find(id: UUID, on db: some QueryRunner) async throws -> User? {
        let rows = try await db.run("SELECT \(unescaped: Self.columns) FROM users u WHERE u.id = \(id)", logger: logger)
        for try await row in rows { return try Self.decode(row) }
        return nil
    }

    /// Returns the user with this email, creating it when new. `created` says which happened.
    public func findOrCreate(
        email: String,
        name: String,
        passwordHash: String?,
        on db: some QueryRunner
    ) async throws -> (user: User, created: Bool) {
        let email = email.lowercased()
        // The no-op update makes RETURNING yield the existing row too; xmax = 0 only for a fresh insert.
        let rows = try await db.run(
            """
            INSERT INTO users AS u (email, name, password_hash) VALUES (\(email), \(name), \(passwordHash))
            ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email
            RETURNING \(unescaped: Self.columns), (u.xmax = 0)
            """,
            logger: logger
        )
        for try await row in rows {
            let (id, email, name, createdAt, inserted) = try row.decode((UUID, String, String, Date, Bool).self)
            return (User(id: id, email: email, name: name, createdAt: createdAt), inserted)
        }
        throw StoreError.unexpected("INSERT ... RETURNING produced no row")
    }

    /// Sets a user's password hash (seed and operator use).
    public func setPassword(userId: UUID, passwordHash: String, on db: some QueryRunner) async throws {
        try await db.run("UPDATE users SET password_hash = \(passwordHash) WHERE id = \(userId)", logger: logger)
            .consume()
    }
}
