import Foundation
import Synchronization

/// Rows parsed since the previous batch, and where the file stands after them (the checkpoint the batch commits).
struct ImportBatch: Sendable {
    var records: [VoterRecord] = []
    var rejections: [RowRejection] = []
    /// The file offset of the first row not in this batch or any before it.
    var endOffset: Int64
    /// That row's number.
    var nextRow: Int

    /// Data rows read (a note about the header, on row 1, is not a row).
    var rowCount: Int { records.count + rejections.count { $0.row > 1 } }
}

/// A batch handed to its load. The load takes the records once, to encode them for `COPY`, so they are freed while
/// the load runs and waits for its turn to commit (three batches are alive at once: one parsing, two loading).
final class LoadingBatch: Sendable {
    let rejections: [RowRejection]
    let endOffset: Int64
    let nextRow: Int
    let rowCount: Int
    let recordCount: Int
    private let records: Mutex<[VoterRecord]>

    init(_ batch: ImportBatch) {
        rejections = batch.rejections
        endOffset = batch.endOffset
        nextRow = batch.nextRow
        rowCount = batch.rowCount
        recordCount = batch.records.count
        records = Mutex(batch.records)
    }

    /// The batch's records; empty after the first call.
    func takeRecords() -> [VoterRecord] {
        records.withLock { records in
            defer { records = [] }
            return records
        }
    }
}

/// What loading one batch did.
struct BatchCounts: Sendable, Equatable {
    var inserted = 0
    var updated = 0
    var unchanged = 0
    var rejected = 0
}

/// Whether an import goes on after a batch.
enum BatchOutcome: Sendable, Equatable {
    case loaded(BatchCounts)
    /// Cancel was asked for: the batch was rolled back.
    case cancelRequested
    /// The batch before it did not commit (it failed or saw the cancel): this one was rolled back too.
    case notLoaded
}

/// A batch's outcome, and how long its staging and upsert took (what the batch size adapts to).
struct LoadResult: Sendable {
    var outcome: BatchOutcome
    var took: Duration
}
