import Foundation
import Logging
import PostgresNIO

/// Applies the `.sql` files in `Migrations/` in name order, each in its own transaction, under a
/// Postgres advisory lock so that two processes starting at once do not both migrate.
public struct Migrator: Sendable {
    static let lockKey: Int64 = 0x4649_454C_4457_4B31  // "FIELDWK1"
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// The migration files shipped with this build, sorted by name.
    public static func files() throws -> [(name: String, sql: String)] {
        guard let directory = Bundle.module.url(forResource: "Migrations", withExtension: nil) else { return [] }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".sql") }
            .sorted()
        return try names.map { name in
            guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }) else {
                throw StoreError.migrationFailed(file: name, reason: "file names may hold only letters, digits, _ and .")
            }
            return (name, try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8))
        }
    }

    /// Applies what is pending and returns the names applied by this call.
    @discardableResult
    public func migrate() async throws -> [String] {
        let files = try Self.files()
        return try await client.withConnection { connection in
            _ = try await connection.run("SELECT pg_advisory_lock(\(Self.lockKey))", logger: logger)
            do {
                let applied = try await apply(files, on: connection)
                _ = try await connection.run("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger)
                return applied
            } catch {
                _ = try? await connection.run("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger)
                throw error
            }
        }
    }

    private func apply(_ files: [(name: String, sql: String)], on connection: PostgresConnection) async throws -> [String] {
        try await connection.run(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())
            """,
            logger: logger
        )
        var done = Set<String>()
        for try await version in try await connection.run("SELECT version FROM schema_migrations", logger: logger)
            .decode(String.self)
        {
            done.insert(version)
        }
        var applied: [String] = []
        for file in files where !done.contains(file.name) {
            do {
                _ = try await connection.run("BEGIN", logger: logger)
                for statement in SQLScript.statements(file.sql) {
                    _ = try await connection.run(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                _ = try await connection.run("INSERT INTO schema_migrations (version) VALUES (\(file.name))", logger: logger)
                _ = try await connection.run("COMMIT", logger: logger)
            } catch {
                _ = try? await connection.run("ROLLBACK", logger: logger)
                throw StoreError.migrationFailed(file: file.name, reason: String(reflecting: error))
            }
            logger.info("migration applied", metadata: ["migration": .string(file.name)])
            applied.append(file.name)
        }
        return applied
    }
}
