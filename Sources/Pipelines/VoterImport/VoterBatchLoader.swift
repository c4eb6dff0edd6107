import Actors
import Foundation
import Logging
import NIOCore
import PostgresNIO
import Store

/// Loads one batch into `voters` inside the job's fenced transaction: `COPY` into a staging table, then one statement
/// that updates the voters whose values change (a blank cell keeps the stored value) and inserts the new ones, then the
/// rejections and the checkpoint, all committed together. Two batches load at once, on two connections; they commit in
/// file order. (A registration number the file had on an earlier row never gets here: the reader rejects it, see
/// `FirstRows`.)
/// It never deletes a voter and never touches interactions, list members or assignments.
struct VoterBatchLoader: Sendable {
    let importId: UUID
    let orgId: UUID
    let logger: Logger

    static let stagingColumns = [
        "row_no", "external_id", "first_name", "middle_name", "last_name", "suffix", "birth_year", "sex", "race", "party",
        "res_house_number", "res_house_fraction", "res_street_direction", "res_street_name", "res_unit", "res_city", "res_state",
        "res_zip5", "res_zip4", "parish", "ward", "precinct", "congressional_district", "senate_district", "house_district",
        "registration_date", "status", "phone", "extra",
    ]
    /// Columns an import may set, besides `extra` (merged) and the NOT NULL ones with defaults.
    static let plainColumns = stagingColumns.filter { !["row_no", "external_id", "first_name", "last_name", "status", "extra"].contains($0) }

    /// Loads `batch` in the job's fenced transaction, in file order: stages and upserts its rows at once (beside the
    /// previous batch's load, on another connection), then waits for `previous` to commit before it looks for a cancel,
    /// writes its rejections and checkpoint and commits. Settles `turn` for the batch after it, whatever happens.
    func load(_ batch: LoadingBatch, after previous: CommitTurn?, then turn: CommitTurn, context: JobContext) async throws -> LoadResult {
        do {
            let result = try await context.fenced { connection in try await self.load(batch, after: previous, on: connection) }
            turn.settle(committed: true)
            return result
        } catch let rolledBack as RolledBack {
            turn.settle(committed: false)
            return LoadResult(outcome: rolledBack.outcome, took: .zero)
        } catch {
            turn.settle(committed: false)
            throw error
        }
    }

    /// Thrown inside the transaction to roll the batch's rows back.
    private struct RolledBack: Error {
        let outcome: BatchOutcome
    }

    private func load(_ batch: LoadingBatch, after previous: CommitTurn?, on connection: PostgresConnection) async throws -> LoadResult {
        let started = ContinuousClock.now
        var counts = BatchCounts()
        if batch.recordCount > 0 {
            // The records live only until they are encoded: the load may then wait for its turn a while.
            try await stage(StagingRows.encode(batch.takeRecords()), on: connection)
            (counts.updated, counts.inserted) = try await upsert(on: connection)
            counts.unchanged = batch.recordCount - counts.updated - counts.inserted
        }
        let took = ContinuousClock.now - started
        if let previous, !(await previous.committed()) { throw RolledBack(outcome: .notLoaded) }
        let state = try await connection.run("SELECT cancel_requested FROM import_jobs WHERE id = \(importId) FOR UPDATE", logger: logger)
        for try await cancel in state.decode(Bool.self) where cancel { throw RolledBack(outcome: .cancelRequested) }
        let rejections = batch.rejections.sorted { $0.row < $1.row }
        counts.rejected = rejections.count { $0.row > 1 }
        try await record(rejections, on: connection)
        try await checkpoint(batch, counts: counts, rejections: rejections, on: connection)
        return LoadResult(outcome: .loaded(counts), took: took)
    }

    /// Copies `rows` (`StagingRows`) into the transaction's staging table, and sets the transaction up for `upsert`.
    private func stage(_ rows: ByteBuffer, on connection: PostgresConnection) async throws {
        try await connection.run(
            """
            CREATE TEMP TABLE IF NOT EXISTS import_staging (
                row_no integer NOT NULL, external_id text NOT NULL, first_name text, middle_name text, last_name text, suffix text,
                birth_year integer, sex text, race text, party text, res_house_number text, res_house_fraction text,
                res_street_direction text, res_street_name text, res_unit text, res_city text, res_state text, res_zip5 text,
                res_zip4 text, parish text, ward text, precinct text, congressional_district text, senate_district text,
                house_district text, registration_date date, status text, phone text, extra jsonb NOT NULL
            ) ON COMMIT DROP
            """,
            logger: logger
        ).consume()
        try await connection.copy(rows, into: "import_staging", columns: Self.stagingColumns, logger: logger)
        // The upsert's update joins its changed rows to `voters` by primary key: hash and merge joins are off for the
        // batch's transaction, as either one reads the org's whole id range. Its staged rows are held in memory.
        try await connection.run(
            "SELECT set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true), set_config('work_mem', '64MB', true)",
            logger: logger
        ).consume()
    }

    /// One statement, returning (updated, inserted). Each staged row looks up its voter once, through
    /// `voters_external_id_key`, and is compared with it there: a `LIMIT 1` lateral subquery runs per row, whatever the
    /// statistics say. (Joined instead, the planner, with stale statistics on an org that grows by a million rows during
    /// its first import, hashed or looped over every voter of the org for each batch: one batch's update took 14 s.)
    /// Only voters whose values change are updated, by primary key (a blank (NULL) cell keeps the stored value); only
    /// new ones are inserted (a missing first name is stored empty, as the table requires a value). A re-import of an
    /// unchanged file so reads each voter once and writes nothing: before, each staged row was rewritten with its
    /// voter's id, then probed again by primary key.
    private func upsert(on connection: PostgresConnection) async throws -> (updated: Int, inserted: Int) {
        let org = "'\(orgId.uuidString.lowercased())'::uuid"
        let compared = Self.plainColumns + ["first_name", "last_name", "status"]
        let differs = compared.map { "COALESCE(s.\($0), v.\($0)) IS DISTINCT FROM v.\($0)" }.joined(separator: " OR ")
        let set = compared.map { "\($0) = COALESCE(m.\($0), v.\($0))" }.joined(separator: ", ")
        let plain = Self.plainColumns.joined(separator: ", ")
        let values = Self.plainColumns.map { "m.\($0)" }.joined(separator: ", ")
        let sql = """
            WITH matched AS MATERIALIZED (
                SELECT s.*, v.id AS voter_id,
                       v.id IS NOT NULL AND (\(differs) OR (v.extra || s.extra) IS DISTINCT FROM v.extra) AS changes
                FROM import_staging s
                LEFT JOIN LATERAL (SELECT * FROM voters x WHERE x.org_id = \(org) AND x.external_id = s.external_id LIMIT 1) v ON true
            ), changed AS (
                UPDATE voters v SET \(set), extra = v.extra || m.extra, updated_at = now()
                FROM matched m
                WHERE m.changes AND v.id = m.voter_id
                RETURNING 1
            ), added AS (
                INSERT INTO voters (org_id, external_id, first_name, last_name, status, extra, \(plain))
                SELECT \(org), m.external_id, COALESCE(m.first_name, ''), m.last_name, COALESCE(m.status, 'active'), m.extra, \(values)
                FROM matched m
                WHERE m.voter_id IS NULL
                ON CONFLICT (org_id, external_id) DO NOTHING
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM changed), (SELECT count(*) FROM added)
            """
        for try await (updated, inserted) in try await connection.run(PostgresQuery(unsafeSQL: sql), logger: logger).decode((Int, Int).self) {
            return (updated, inserted)
        }
        return (0, 0)
    }

    /// Every rejected row (not the header's note) goes to `import_rejections`, for the CSV written at the end.
    private func record(_ rejections: [RowRejection], on connection: PostgresConnection) async throws {
        let rows = rejections.filter { $0.row > 1 }
        guard !rows.isEmpty else { return }
        try await connection.run(
            """
            INSERT INTO import_rejections (import_id, row_no, column_name, message, raw_text)
            SELECT \(importId), r, NULLIF(c, ''), m, t
            FROM unnest(\(rows.map(\.row))::int8[], \(rows.map { $0.column ?? "" })::text[], \(rows.map(\.message))::text[],
                        \(rows.map { Self.storable($0.rawText) })::text[]) AS x(r, c, m, t)
            """,
            logger: logger
        ).consume()
    }

    /// The counters, the first 100 errors and the checkpoint (offset and row of the next batch).
    private func checkpoint(_ batch: LoadingBatch, counts: BatchCounts, rejections: [RowRejection], on connection: PostgresConnection) async throws {
        let listed = rejections.prefix(100).map { ImportRowError(row: $0.row, column: $0.column, message: Self.storable($0.message)) }
        let errors = String(decoding: try JSONEncoder().encode(Array(listed)), as: UTF8.self)
        try await connection.run(
            """
            UPDATE import_jobs SET
                bytes_read = \(batch.endOffset), next_row = \(batch.nextRow), rows_read = rows_read + \(batch.rowCount),
                inserted = inserted + \(counts.inserted), updated = updated + \(counts.updated),
                unchanged = unchanged + \(counts.unchanged), rejected = rejected + \(counts.rejected),
                error_count = error_count + \(rejections.count),
                errors = CASE WHEN jsonb_array_length(errors) >= 100 THEN errors ELSE
                    (SELECT COALESCE(jsonb_agg(e ORDER BY n), '[]'::jsonb)
                     FROM jsonb_array_elements(errors || \(errors)::jsonb) WITH ORDINALITY AS x(e, n) WHERE n <= 100) END,
                status = 'running', updated_at = now()
            WHERE id = \(importId)
            """,
            logger: logger
        ).consume()
    }

    /// Text Postgres can hold (no NUL).
    static func storable(_ text: String) -> String {
        text.contains("\u{0}") ? text.replacingOccurrences(of: "\u{0}", with: "") : text
    }
}
