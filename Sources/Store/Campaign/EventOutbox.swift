import Logging
import PostgresNIO

/// Platform events (an outbox): one row per notable change, for consumers outside this service.
public struct EventOutbox: Sendable {
    public let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// Appends an event in the caller's transaction, so it exists exactly when the change commits.
    public func append(type: String, payload: String, in scope: OrgScope, on connection: PostgresConnection) async throws {
        try await connection.run(
            "INSERT INTO events (org_id, type, payload) VALUES (\(scope.orgId), \(type), \(payload)::jsonb)",
            logger: logger
        ).consume()
    }
}
