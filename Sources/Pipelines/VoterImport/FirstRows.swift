/// The row on which each registration number of the file was first loaded, so a later row with the same number is
/// rejected citing that row, across batches and across a resume.
///
/// It lives in the worker, not in Postgres: a resume rebuilds it by parsing the file up to the checkpoint again (the
/// parser is deterministic, so the same rows come out), which costs a second of parsing per 170 MB instead of a
/// logged key row, an index entry and a probe per voter on every import. A registration number is a small string
/// (up to 15 bytes inline), so 3 million of them take about 85 MB.
struct FirstRows: Sendable {
    private var rows: [String: Int32] = [:]

    /// Keeps `records` whose number is new (remembering it) and returns the rest as rejections, in row order.
    mutating func admit(_ records: [VoterRecord]) -> (admitted: [VoterRecord], duplicates: [RowRejection]) {
        var admitted: [VoterRecord] = []
        admitted.reserveCapacity(records.count)
        var duplicates: [RowRejection] = []
        for record in records {
            if let first = rows[record.externalId] {
                duplicates.append(
                    RowRejection(
                        row: record.row,
                        column: "externalId",
                        message: "registration number \(record.externalId) is also on row \(first); this later row is skipped",
                        rawText: record.externalId
                    )
                )
            } else {
                rows[record.externalId] = Int32(clamping: record.row)
                admitted.append(record)
            }
        }
        return (admitted, duplicates)
    }
}
