import PostgresNIO

/// A statement's rows: streamed off a connection the caller holds, or read whole while a pool
/// lease was held (`PostgresClient.run`), so that the lease is given back only once they are read.
/// PostgresNIO's `decode` works on it as on its own row sequence.
public struct QueryRows: AsyncSequence, Sendable {
    public typealias Element = PostgresRow

    enum Source: Sendable {
        case streamed(PostgresRowSequence)
        case read([PostgresRow])
    }

    let source: Source

    public struct AsyncIterator: AsyncIteratorProtocol {
        var streamed: PostgresRowSequence.AsyncIterator?
        var read: IndexingIterator<[PostgresRow]>?

        public mutating func next() async throws -> PostgresRow? {
            if streamed != nil { return try await streamed!.next() }
            return read?.next()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        switch source {
        case .streamed(let rows): AsyncIterator(streamed: rows.makeAsyncIterator(), read: nil)
        case .read(let rows): AsyncIterator(streamed: nil, read: rows.makeIterator())
        }
    }

    /// Every row, in memory.
    public func collect() async throws -> [PostgresRow] {
        switch source {
        case .streamed(let rows): try await rows.collect()
        case .read(let rows): rows
        }
    }

    /// Drains the rows (for statements whose rows nobody reads).
    public func consume() async throws {
        for try await _ in self {}
    }
}
