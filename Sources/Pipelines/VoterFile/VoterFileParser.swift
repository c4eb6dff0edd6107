import NIOCore

/// What one call of the parser produced.
public struct ParsedRows: Sendable {
    public var records: [VoterRecord]
    /// Rejected rows; includes the one header note on row 1 naming unknown columns.
    public var rejections: [RowRejection]
    /// Absolute byte offset just past the last complete row handed out (a checkpoint: resume there).
    public var endOffset: Int64
    /// The row number the next row will have.
    public var nextRow: Int
}

/// A streaming voter-file parser: feed it the file's bytes in chunks of any size and it hands back checked records
/// and rejected rows. Memory stays bounded by the largest row it keeps (`CSVTokenizer.maxRowBytes`, 1 MiB) plus one chunk.
public struct VoterFileParser: Sendable {
    /// Set once the header row has been read.
    public private(set) var header: VoterFileHeader?

    private let format: VoterFileFormat
    private var tokenizer = CSVTokenizer()
    private var reader: VoterRowReader?
    private var row = 1
    private var checkpoint: Int64 = 0
    private var sniffer = VoterFileSniffer()
    private var sawDataRow = false
    private var headerEnd: Int64 = 0
    private var scratch: [UInt8] = []
    private var rowsRead = 0
    private var rowBytes = 0
    private var averageRowBytes = 128

    public init(format: VoterFileFormat) {
        self.format = format
    }

    /// Feeds the next bytes of the file (chunks of any size, split anywhere, even inside a UTF-8 sequence or a CRLF).
    public mutating func parse(_ chunk: ByteBuffer) throws(NotAVoterFile) -> ParsedRows {
        tokenizer.append(chunk)
        return try drain(finishing: false)
    }

    /// End of file: the last row without a line break, an unterminated quote (a rejection), empty/header-only files (NotAVoterFile).
    public mutating func finish() throws(NotAVoterFile) -> ParsedRows {
        let rows = try drain(finishing: true)
        guard header != nil else { throw NotAVoterFile("the file is empty: no header row") }
        guard sawDataRow else { throw NotAVoterFile("the file has a header row but no voter rows") }
        return rows
    }

    /// Once `header` is known: forget buffered bytes; the next bytes fed start at file offset `offset`, which is row `row`.
    public mutating func resume(at offset: Int64, row: Int) {
        tokenizer.reset(at: offset)
        self.row = row
        checkpoint = offset
        // Rows past the header were read before the restart: the file is not header-only.
        if header != nil, offset > headerEnd { sawDataRow = true }
    }

    private mutating func drain(finishing: Bool) throws(NotAVoterFile) -> ParsedRows {
        var out = ParsedRows(records: [], rejections: [], endOffset: checkpoint, nextRow: row)
        // One allocation for the chunk's records instead of a doubling series (a record is about 500 bytes).
        out.records.reserveCapacity(tokenizer.pendingBytes / max(averageRowBytes, 32) + 1)
        if !sniffer.isDone {
            // No row is read before the whole first KiB is checked, so the verdict on a binary file never
            // depends on where the chunks happened to end.
            guard try sniffer.sniff(&tokenizer, finishing: finishing), sniffer.isDone || finishing else { return out }
        }
        while let found = tokenizer.nextRow(finishing: finishing) {
            let number = row
            row += 1
            rowsRead += 1
            rowBytes += found.next - found.start
            checkpoint = tokenizer.base + Int64(found.next)
            try take(found, number: number, into: &out)
        }
        if header == nil, tokenizer.isSkippingOverlongRow {
            throw NotAVoterFile("no line break in the first \(CSVTokenizer.maxRowBytes) bytes: not a CSV header row")
        }
        if rowsRead > 0 { averageRowBytes = rowBytes / rowsRead }
        tokenizer.compact()
        out.endOffset = checkpoint
        out.nextRow = row
        return out
    }

    private mutating func take(_ found: CSVRow, number: Int, into out: inout ParsedRows) throws(NotAVoterFile) {
        switch found.kind {
        case .overlong:
            if header == nil { throw NotAVoterFile("the header row is longer than \(CSVTokenizer.maxRowBytes) bytes") }
            sawDataRow = true
            let text = found.prefix.withUnsafeBufferPointer { FieldText.decode($0) } + "…"
            let message = "the row is longer than \(CSVTokenizer.maxRowBytes) bytes (1 MiB); skipped"
            out.rejections.append(RowRejection(row: number, column: nil, message: message, rawText: text))
        case .unterminated:
            if header == nil { throw NotAVoterFile("the header row has a quote that never closes") }
            sawDataRow = true
            let text = rawText(found)
            let message = "a quote opened in this row never closes: the row runs to the end of the file"
            out.rejections.append(RowRejection(row: number, column: nil, message: message, rawText: text))
        case .complete:
            // A blank line is counted as a row (a spreadsheet shows it) but holds no voter.
            if found.start == found.end, tokenizer.fieldEnds.isEmpty { return }
            if header == nil {
                try readHeader(found, number: number, into: &out)
                return
            }
            sawDataRow = true
            let fieldEnds = tokenizer.fieldEnds
            tokenizer.buffer.withUnsafeBufferPointer { bytes in
                reader!.read(row: number, bytes: bytes, start: found.start, end: found.end, fieldEnds: fieldEnds, into: &out)
            }
        }
    }

    private mutating func readHeader(_ found: CSVRow, number: Int, into out: inout ParsedRows) throws(NotAVoterFile) {
        let fieldEnds = tokenizer.fieldEnds
        let cells: [String] = tokenizer.buffer.withUnsafeBufferPointer { bytes in
            let rowBytes = UnsafeBufferPointer(rebasing: bytes[found.start..<found.end])
            var start = 0
            return (fieldEnds + [rowBytes.count]).map { end in
                defer { start = end + 1 }
                return FieldText.withContent(UnsafeBufferPointer(rebasing: rowBytes[start..<end]), scratch: &scratch) {
                    FieldText.decode($0)
                }
            }
        }
        let header = try VoterFileHeader(cells: cells, format: format, row: number)
        self.header = header
        reader = VoterRowReader(header: header)
        headerEnd = checkpoint
        guard !header.unknownColumns.isEmpty else { return }
        let shown = header.unknownColumns.prefix(50).joined(separator: ", ")
        let more = header.unknownColumns.count > 50 ? " and \(header.unknownColumns.count - 50) more" : ""
        let message = "\(header.unknownColumns.count) column(s) the contract does not have are kept as extra data: \(shown)\(more)"
        out.rejections.append(RowRejection(row: number, column: nil, message: message, rawText: rawText(found)))
    }

    private func rawText(_ found: CSVRow) -> String {
        tokenizer.buffer.withUnsafeBufferPointer { FieldText.decode(UnsafeBufferPointer(rebasing: $0[found.start..<found.end])) }
    }
}
