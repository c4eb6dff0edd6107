import Foundation
import NIOCore

/// Reads an uploaded voter file from the object store in batches, from the start or from a checkpoint.
/// Used by one task at a time (the pipeline parses the next batch in a child task while it loads the previous one).
final class ImportBatchReader: @unchecked Sendable {
    private var parser: VoterFileParser
    private var chunks: ObjectBody.AsyncIterator
    private var offset: Int64
    private var nextRow: Int
    private var finished = false
    private var firstRows: FirstRows

    private init(parser: VoterFileParser, chunks: ObjectBody.AsyncIterator, offset: Int64, nextRow: Int, firstRows: FirstRows) {
        self.parser = parser
        self.chunks = chunks
        self.offset = offset
        self.nextRow = nextRow
        self.firstRows = firstRows
    }

    /// Opens `key` at the checkpoint: past the start, the rows before `offset` are parsed again first (the header, whose
    /// notes the attempt that read it recorded, and the registration numbers already loaded, so a later duplicate is
    /// still rejected), then the parser resumes at `offset`, row `nextRow`.
    static func open(
        _ store: any ObjectStore,
        key: String,
        format: VoterFileFormat,
        offset: Int64,
        nextRow: Int
    ) async throws -> ImportBatchReader {
        var parser = VoterFileParser(format: format)
        var firstRows = FirstRows()
        if offset > 0 {
            var head = try await store.get(key, from: 0).makeAsyncIterator()
            var read: Int64 = 0
            while read < offset, let chunk = try await head.next() {
                let take = Int(min(Int64(chunk.readableBytes), offset - read))
                read += Int64(take)
                _ = firstRows.admit(try parser.parse(chunk.getSlice(at: chunk.readerIndex, length: take) ?? chunk).records)
            }
            guard parser.header != nil else { throw NotAVoterFile("the file no longer has a header row") }
            parser.resume(at: offset, row: nextRow)
        }
        let body = try await store.get(key, from: offset)
        return ImportBatchReader(parser: parser, chunks: body.makeAsyncIterator(), offset: offset, nextRow: nextRow, firstRows: firstRows)
    }

    /// The next batch: at least `rows` rows, or what arrived within `time` (so progress moves on a slow store);
    /// nil once the file has ended and its last batch was handed out.
    func next(rows: Int, time: Duration) async throws -> ImportBatch? {
        guard !finished else { return nil }
        let started = ContinuousClock.now
        var batch = ImportBatch(endOffset: offset, nextRow: nextRow)
        while batch.rowCount < rows, ContinuousClock.now - started < time {
            try Task.checkCancellation()
            guard let chunk = try await chunks.next() else {
                add(try parser.finish(), to: &batch)
                finished = true
                break
            }
            add(try parser.parse(chunk), to: &batch)
        }
        return batch
    }

    private func add(_ parsed: ParsedRows, to batch: inout ImportBatch) {
        let (admitted, duplicates) = firstRows.admit(parsed.records)
        batch.records += admitted
        batch.rejections += parsed.rejections + duplicates
        batch.endOffset = parsed.endOffset
        batch.nextRow = parsed.nextRow
        offset = parsed.endOffset
        nextRow = parsed.nextRow
    }
}
