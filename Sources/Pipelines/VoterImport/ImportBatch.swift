import Foundation

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
    /// Cancel was asked for: the batch was not loaded.
    case cancelRequested
}
