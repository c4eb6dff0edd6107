/// The row on which each registration number of the file was first loaded, so a later row with the same number is
/// rejected citing that row, across batches and across a resume.
///
/// It lives in the worker, not in Postgres: a resume rebuilds it by parsing the file up to the checkpoint again (the
/// parser is deterministic, so the same rows come out), which costs a second of parsing per 170 MB instead of a
/// logged key row, an index entry and a probe per voter on every import. State registration numbers are digits, kept
/// as one exact 64-bit key each (about 16 bytes an entry: 3 million take about 50 MB); any other number is kept as
/// its string.
struct FirstRows: Sendable {
    private var numeric: [UInt64: Int32] = [:]
    private var other: [String: Int32] = [:]

    /// Keeps `records` whose number is new (remembering it) and returns the rest as rejections, in row order. Without
    /// a duplicate (nearly always) the records come back as they were given, not copied.
    mutating func admit(_ records: [VoterRecord]) -> (admitted: [VoterRecord], duplicates: [RowRejection]) {
        var duplicates: [RowRejection] = []
        for record in records {
            if let first = firstRow(of: record.externalId, elseRemember: Int32(clamping: record.row)) {
                duplicates.append(
                    RowRejection(
                        row: record.row,
                        column: "externalId",
                        message: "registration number \(record.externalId) is also on row \(first); this later row is skipped",
                        rawText: record.externalId
                    )
                )
            }
        }
        guard !duplicates.isEmpty else { return (records, []) }
        let skipped = Set(duplicates.map(\.row))
        return (records.filter { !skipped.contains($0.row) }, duplicates)
    }

    /// The row `id` was first seen on; nil, remembering `row` for it, when this is its first row.
    private mutating func firstRow(of id: String, elseRemember row: Int32) -> Int32? {
        if let key = Self.numericKey(id) { return Self.firstRow(in: &numeric, key, elseRemember: row) }
        return Self.firstRow(in: &other, id, elseRemember: row)
    }

    private static func firstRow<Key: Hashable>(in rows: inout [Key: Int32], _ key: Key, elseRemember row: Int32) -> Int32? {
        // One hash lookup for a new number: store it, and put the first row back in the rare case it was not new.
        guard let first = rows.updateValue(row, forKey: key) else { return nil }
        rows[key] = first
        return first
    }

    /// 1 to 17 ASCII digits as their value with the digit count in the top bits, so "0042" and "42" stay apart
    /// (10^17 < 2^57, so value and count never overlap); nil for anything else.
    static func numericKey(_ id: String) -> UInt64? {
        let utf8 = id.utf8
        return utf8.withContiguousStorageIfAvailable { bytes -> UInt64? in
            guard (1...17).contains(bytes.count) else { return nil }
            var value: UInt64 = 0
            for byte in bytes {
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value &* 10 &+ UInt64(byte &- 0x30)
            }
            return UInt64(bytes.count) << 59 | value
        } ?? nil
    }
}
