import Foundation
import NIOCore

/// Where imports, exports and other blobs live: a local directory or an S3-compatible service.
///
/// Keys are `/`-separated paths such as `orgs/<org>/imports/<id>.csv`. Bodies stream both ways: no
/// implementation holds a whole object in memory.
public protocol ObjectStore: Sendable {
    /// Writes, reads back and removes a probe object: proves the store is usable.
    func checkHealth() async throws

    /// Streams `body` into `key` and returns the bytes written. When `body` throws (an upload cut off, a body
    /// over its limit) or the write fails, nothing is left behind: no object, no partial file, no pending
    /// multipart upload; the body's error is rethrown.
    func put<Body: AsyncSequence & Sendable>(_ key: String, contentType: String, body: Body) async throws -> Int64
    where Body.Element == ByteBuffer

    /// The object's bytes from `offset` on (0 for all of it), as a stream of chunks.
    /// Throws `ObjectStoreError.notFound` when there is no such object.
    func get(_ key: String, from offset: Int64) async throws -> ObjectBody

    /// The object's size and modification time, or nil when there is no such object.
    func head(_ key: String) async throws -> ObjectInfo?

    /// Removes the object; removing one that is not there is not an error.
    func delete(_ key: String) async throws

    /// Every object whose key starts with `prefix`, in key order.
    func list(prefix: String) async throws -> [ObjectInfo]

    /// A URL a browser can GET the object from for `expiresIn`, offering it as `fileName`; nil when the store
    /// cannot sign URLs (the local directory), in which case the API streams the object itself.
    func presignedGET(_ key: String, expiresIn: Duration, fileName: String) throws -> URL?
}

/// One stored object.
public struct ObjectInfo: Sendable, Equatable {
    public var key: String
    public var size: Int64
    public var lastModified: Date

    public init(key: String, size: Int64, lastModified: Date) {
        self.key = key
        self.size = size
        self.lastModified = lastModified
    }
}

/// An object's bytes as they arrive, read once by one consumer.
public struct ObjectBody: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    let nextChunk: @Sendable () async throws -> ByteBuffer?

    /// A body whose chunks come from `next` until it returns nil.
    public init(next: @escaping @Sendable () async throws -> ByteBuffer?) {
        self.nextChunk = next
    }

    /// A body read from another single-consumer sequence of chunks (an HTTP response body).
    public init<Chunks: AsyncSequence & Sendable>(_ chunks: Chunks) where Chunks.Element == ByteBuffer {
        let cursor = ChunkCursor(chunks.makeAsyncIterator())
        self.nextChunk = { try await cursor.next() }
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let nextChunk: @Sendable () async throws -> ByteBuffer?
        public mutating func next() async throws -> ByteBuffer? { try await nextChunk() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(nextChunk: nextChunk) }
}

/// The iterator behind an `ObjectBody`: one consumer reads it, one chunk at a time.
final class ChunkCursor<Iterator: AsyncIteratorProtocol>: @unchecked Sendable where Iterator.Element == ByteBuffer {
    var iterator: Iterator
    init(_ iterator: Iterator) { self.iterator = iterator }
    func next() async throws -> ByteBuffer? { try await iterator.next() }
}

/// Why object storage cannot be used.
public enum ObjectStoreError: Error, Equatable {
    case badURL(String)
    case unhealthy(String)
    case notFound(String)
    /// The service answered with an error (status and its message).
    case service(status: Int, message: String)
}
