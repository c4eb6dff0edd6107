import NIOCore
import PostgresNIO
import Store
import Synchronization

/// A query's rows as CSV chunks of about `chunkBytes`: the byte-order mark and header first, then rows as the
/// database streams them (PostgresNIO reads ahead only as the chunks are consumed), so an export of millions of
/// rows holds one chunk at a time. Each row is one `text[]` of its cells (`ExportQuery`).
struct CSVChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let rows: QueryRows
    let header: [String]
    let counter: RowCounter
    var chunkBytes = 256 * 1024

    struct AsyncIterator: AsyncIteratorProtocol {
        var rows: QueryRows.AsyncIterator
        let chunks: CSVChunks
        var started = false
        var done = false
        let writer = CSVWriter()

        mutating func next() async throws -> ByteBuffer? {
            guard !done else { return nil }
            var out = ByteBuffer()
            out.reserveCapacity(chunks.chunkBytes + 4096)
            if !started {
                started = true
                out.writeBytes(CSVWriter.byteOrderMark)
                writer.writeRow(chunks.header, into: &out)
            }
            var count = 0
            while out.readableBytes < chunks.chunkBytes, let row = try await rows.next() {
                var cells = row.makeIterator()
                try writer.writeRow(textArray: cells.next()?.bytes ?? ByteBuffer(), into: &out)
                count += 1
            }
            chunks.counter.add(count)
            if out.readableBytes < chunks.chunkBytes { done = true }
            return out.readableBytes > 0 ? out : nil
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(rows: rows.makeAsyncIterator(), chunks: self) }
}

/// Rows written so far, read once the put has ended.
final class RowCounter: Sendable {
    private let total = Mutex<Int64>(0)
    func add(_ count: Int) { total.withLock { $0 += Int64(count) } }
    var value: Int64 { total.withLock { $0 } }
}
