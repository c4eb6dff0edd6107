import Logging
import NIOCore
import PostgresNIO

/// Something that runs a query: the pooled client, or one connection inside a transaction.
/// Repository functions take one so that callers decide what commits together.
///
/// Run every statement through `run`, never PostgresNIO's `query`: PostgresNIO 1.33 loses a
/// statement written to a connection that has just closed (its write fails with no one told) and
/// the caller then waits forever, holding its pool lease. Postgres stopping or failing over does
/// exactly that to statements in flight; `run` stops waiting once the connection is closed.
public protocol QueryRunner: Sendable {
    func run(_ query: PostgresQuery, logger: Logger) async throws -> PostgresRowSequence
}

extension PostgresConnection: QueryRunner {
    public func run(_ query: PostgresQuery, logger: Logger) async throws -> PostgresRowSequence {
        guard !isClosed else { throw ConnectionClosed() }
        return try await Abandon.race({ try await self.query(query, logger: logger) }) { giveUp in
            ConnectionCloseWatch.shared.watch(self, giveUp: giveUp)
        }
    }
}

extension PostgresClient: QueryRunner {
    /// The statement on a leased connection, through the connection's `run`. The lease is given
    /// back once the statement has answered; rows still streaming are read off the connection
    /// before the next lease's statements run (PostgresNIO queues statements per connection).
    public func run(_ query: PostgresQuery, logger: Logger) async throws -> PostgresRowSequence {
        try await withConnection { connection in try await connection.run(query, logger: logger) }
    }

    /// A transaction on one leased connection: `BEGIN`, `body`, `COMMIT`, or `ROLLBACK` when
    /// `body` throws (skipped when the connection has closed: the server rolled it back).
    /// Rethrows the body's own error, so callers can catch what they threw.
    public func inTransaction<T: Sendable>(logger: Logger, _ body: (PostgresConnection) async throws -> sending T) async throws -> T {
        try await withConnection { connection in
            try await connection.run("BEGIN", logger: logger).consume()
            let value: T
            do {
                value = try await body(connection)
            } catch {
                if !connection.isClosed { _ = try? await connection.run("ROLLBACK", logger: logger).consume() }
                throw error
            }
            try await connection.run("COMMIT", logger: logger).consume()
            return value
        }
    }
}

extension Error {
    /// True when Postgres refused the statement for a unique-constraint clash (SQLSTATE 23505).
    public var isUniqueViolation: Bool {
        (self as? PSQLError)?.serverInfo?[.sqlState] == "23505"
    }
}

extension PostgresConnection {
    /// `COPY table (columns) FROM STDIN` of `rows` (text format), given up like `run` when the connection closes.
    public func copy(_ rows: ByteBuffer, into table: String, columns: [String], logger: Logger) async throws {
        guard !isClosed else { throw ConnectionClosed() }
        try await Abandon.race({
            try await self.copyFrom(table: table, columns: columns, logger: logger) { writer in try await writer.write(rows) }
        }) { giveUp in
            ConnectionCloseWatch.shared.watch(self, giveUp: giveUp)
        }
    }
}
