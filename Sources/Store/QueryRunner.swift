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
    func run(_ query: PostgresQuery, logger: Logger) async throws -> QueryRows
    /// A named prepared statement: parsed and planned once per connection, then only bound and
    /// executed (for the worker's hot statements, whose planning was 8–10 % of their time). Its rows
    /// are read whole before this returns.
    func run<Statement: PostgresPreparedStatement>(_ statement: Statement, logger: Logger) async throws -> QueryRows
    where Statement.Row == PostgresRow
}

extension PostgresPreparedStatement where Row == PostgresRow {
    /// Statements run through `QueryRunner.run` hand back their rows as they came, decoded by the caller.
    public func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}

extension PostgresConnection: QueryRunner {
    public func run(_ query: PostgresQuery, logger: Logger) async throws -> QueryRows {
        QueryRows(source: .streamed(try await guarded { try await self.query(query, logger: logger) }))
    }

    public func run<Statement: PostgresPreparedStatement>(_ statement: Statement, logger: Logger) async throws -> QueryRows
    where Statement.Row == PostgresRow {
        do {
            return QueryRows(
                source: .read(
                    try await guarded {
                        var rows: [PostgresRow] = []
                        for try await row in try await self.execute(statement, logger: logger) { rows.append(row) }
                        return rows
                    }
                )
            )
        } catch let error as PSQLError where error.serverInfo?[.sqlState]?.hasPrefix("42") == true {
            // Refused at prepare (SQLSTATE class 42: an unknown column or table, say, from a schema not yet migrated).
            // PostgresNIO keeps the failed preparation for the connection's life, so every later use here would fail
            // the same way: close the connection, and the pool's next one prepares it afresh.
            let _: EventLoopFuture<Void> = close()
            throw error
        }
    }
}

extension PostgresConnection {
    /// `statement` (one written to this connection), given up with `ConnectionClosed` once the
    /// connection closes. A statement given up while in flight for any reason (its caller
    /// cancelled, a deadline, the close) closes the connection: its protocol state is unknown, and
    /// a pool that got it back would queue the next statement behind one that may never answer.
    func guarded<T: Sendable>(_ statement: @escaping @Sendable () async throws -> T) async throws -> T {
        guard !isClosed else { throw ConnectionClosed() }
        return try await Abandon.race(statement, abandoned: { let _: EventLoopFuture<Void> = self.close() }) { giveUp in
            ConnectionCloseWatch.shared.watch(self, giveUp: giveUp)
        }
    }
}

extension PostgresClient: QueryRunner {
    /// The statement on a leased connection, through the connection's `run`; its rows are read
    /// before the lease is given back (a statement through the pool reads a page, a batch: stream
    /// a large result on a connection of your own, `withConnection`, as the export does).
    public func run(_ query: PostgresQuery, logger: Logger) async throws -> QueryRows {
        try await withConnection { connection in
            QueryRows(source: .read(try await connection.run(query, logger: logger).collect()))
        }
    }

    public func run<Statement: PostgresPreparedStatement>(_ statement: Statement, logger: Logger) async throws -> QueryRows
    where Statement.Row == PostgresRow {
        try await withConnection { connection in try await connection.run(statement, logger: logger) }
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
        try await guarded { try await self.copyFrom(table: table, columns: columns, logger: logger) { writer in try await writer.write(rows) } }
    }
}
