import Actors
import Foundation
import PostgresNIO
import Store

/// Imports an uploaded voter file into the org's voters: streams it from the object store in batches, parsing the
/// next batch while two load; each batch commits with its checkpoint in the job's fenced transaction, in file order,
/// so a retry (a worker killed mid-import) resumes after the last committed batch: no row twice, none lost.
/// Cancel stops it between batches; a file that is not a voter file fails it at once, without retries.
public struct VoterImportPipeline: OrgPipeline {
    /// The pipeline's name.
    public static let name = "voter-import"

    /// The import to run (its `import_jobs` row says what and where).
    public struct Arguments: Codable, Sendable {
        /// The `import_jobs` row's id.
        public var importId: UUID
        /// The import `importId` names.
        public init(importId: UUID) { self.importId = importId }
    }

    let db: PostgresClient
    let store: any ObjectStore
    /// The most rows per batch. Batches start at a fifth of it (at least 1,000, at most `batchRows`) and halve or
    /// double so each load takes about half a second; a batch also ends after `batchTime` of reading. Both keep
    /// progress (committed with each batch) moving at least every second.
    let batchRows: Int
    let batchTime: Duration

    /// An importer over the process's database and object store.
    public init(db: PostgresClient, store: any ObjectStore, batchRows: Int = 50_000, batchTime: Duration = .milliseconds(500)) {
        self.db = db
        self.store = store
        self.batchRows = batchRows
        self.batchTime = batchTime
    }

    /// Runs (or resumes) the import.
    public func run(_ arguments: Arguments, scope: OrgScope, context: JobContext) async throws {
        let run = ImportRun(importId: arguments.importId, scope: scope, logger: context.logger)
        guard let start = try await run.begin(context: context) else {
            throw NonRetryableError("no import \(arguments.importId.uuidString.lowercased()) in this org")
        }
        guard ["queued", "running"].contains(start.status) else { return }
        if start.cancelRequested { return try await end(.cancelled, run: run, context: context) }
        do {
            let reader = try await ImportBatchReader.open(
                store,
                key: start.objectKey,
                format: start.format,
                offset: start.offset,
                nextRow: start.nextRow
            )
            let loader = VoterBatchLoader(importId: arguments.importId, orgId: scope.orgId, logger: context.logger)
            if try await loadAll(from: reader, with: loader, context: context) == .cancelRequested {
                return try await end(.cancelled, run: run, context: context)
            }
        } catch let error as NotAVoterFile {
            try await end(.failed, reason: "not a voter file: \(error.reason)", run: run, context: context)
            throw NonRetryableError("not a voter file: \(error.reason)")
        }
        try await end(.succeeded, run: run, context: context)
    }

    /// Loads every batch, two at a time on two connections, while the next one is parsed: a batch stages and upserts
    /// its rows while the one before it commits (Postgres then works on both cores; one backend inserting into
    /// `voters`' indexes left the second idle). They commit in file order (`CommitTurn`). Returns `.cancelRequested`
    /// when a batch saw the cancel; the batches after it are rolled back.
    private func loadAll(from reader: ImportBatchReader, with loader: VoterBatchLoader, context: JobContext) async throws -> BatchOutcome? {
        var rows = min(batchRows, max(1_000, batchRows / 5))
        var pending = try await reader.next(rows: rows, time: batchTime)
        return try await withThrowingTaskGroup(of: LoadResult.self) { loads in
            var previous: CommitTurn?
            var loading = 0
            while let handed = pending.take().map(LoadingBatch.init) {
                let size = rows
                async let upcoming = reader.next(rows: size, time: batchTime)
                let after = previous
                let turn = CommitTurn()
                loads.addTask { try await loader.load(handed, after: after, then: turn, context: context) }
                previous = turn
                loading += 1
                if loading == 2, let done = try await loads.next() {
                    loading -= 1
                    switch done.outcome {
                    case .loaded: rows = Self.nextBatchRows(rows, took: done.took, limit: batchRows)
                    case .cancelRequested: return .cancelRequested
                    case .notLoaded: break  // the batch before it failed: that error comes out of `loads` next
                    }
                }
                pending = try await upcoming
            }
            while let done = try await loads.next() {
                if done.outcome == .cancelRequested { return .cancelRequested }
            }
            return nil
        }
    }

    /// Halves the batch after a load over 0.6 s, doubles it after one under 0.2 s (between 1,000 rows, or `limit` if
    /// smaller, and `limit`).
    static func nextBatchRows(_ rows: Int, took: Duration, limit: Int) -> Int {
        if took > .milliseconds(600) { return max(min(1_000, limit), rows / 2) }
        if took < .milliseconds(200) { return min(limit, rows * 2) }
        return rows
    }

    /// Writes every rejected row to the store, then ends the import as `status`.
    private func end(_ status: ImportStatus, reason: String? = nil, run: ImportRun, context: JobContext) async throws {
        if status != .failed {
            let file = RejectedRowsFile(importId: run.importId, db: db, logger: context.logger)
            try await file.write(to: store, key: RejectedRowsFile.key(org: run.orgId, importId: run.importId))
        }
        try await run.finish(status, reason: reason, context: context)
    }
}
