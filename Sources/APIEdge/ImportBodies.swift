import Foundation
import NIOCore
import OpenAPIRuntime
import Pipelines
import Store

/// An upload's bytes (the runtime's body) as the byte buffers the object store takes; read once. A body that
/// cannot be read (a malformed form) is the client's error (400), told apart from the store's own failures.
struct UploadChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let body: HTTPBody

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: HTTPBody.AsyncIterator
        mutating func next() async throws -> ByteBuffer? {
            guard let chunk = try await UploadChunks.reading({ try await base.next() }) else { return nil }
            return ByteBuffer(bytes: chunk)
        }
    }

    /// Runs a read of the request body: an error that is not already the contract's (413) becomes a 400.
    static func reading<T>(_ read: () async throws -> T) async throws -> T {
        do {
            return try await read()
        } catch let error as any ContractError {
            throw error
        } catch {
            throw APIError.validation("the upload is malformed or ended early: \(error)")
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: body.makeAsyncIterator()) }
}

/// A stored object's bytes as the runtime's body chunks; read once.
struct DownloadChunks: AsyncSequence, Sendable {
    typealias Element = ArraySlice<UInt8>
    let body: ObjectBody

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: ObjectBody.AsyncIterator
        mutating func next() async throws -> ArraySlice<UInt8>? {
            guard let chunk = try await base.next() else { return nil }
            return ArraySlice(chunk.readableBytesView)
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: body.makeAsyncIterator()) }
}
