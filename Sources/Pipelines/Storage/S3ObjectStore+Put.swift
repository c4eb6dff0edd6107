import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

extension S3ObjectStore {
    public func put<Body: AsyncSequence & Sendable>(_ key: String, contentType: String, body: Body) async throws -> Int64
    where Body.Element == ByteBuffer {
        var part = ByteBuffer()
        var upload: MultipartUpload?
        var written: Int64 = 0
        do {
            for try await chunk in body {
                written += Int64(chunk.readableBytes)
                var chunk = chunk
                part.writeBuffer(&chunk)
                while part.readableBytes >= partSize {
                    if upload == nil { upload = try await begin(key, contentType: contentType) }
                    let slice = part.readSlice(length: partSize)!
                    try await upload!.send(slice, store: self)
                    // Keep only the unsent tail: the part buffer never grows past one part plus a chunk.
                    part.discardReadBytes()
                }
            }
            guard var upload else {
                try await putWhole(key, contentType: contentType, bytes: part)
                return written
            }
            if part.readableBytes > 0 || upload.parts.isEmpty { try await upload.send(part, store: self) }
            try await complete(upload)
            return written
        } catch {
            if let upload {
                // Not the caller's task: a cancelled task would refuse the request that frees the parts.
                let store = self
                _ = await Task { try? await store.abort(upload) }.value
            }
            throw error
        }
    }

    /// One PUT of a body already in memory (at most one part).
    func putWhole(_ key: String, contentType: String, bytes: ByteBuffer) async throws {
        let response = try await send(.PUT, key: key, headers: [("content-type", contentType)], body: bytes)
        guard response.status.code == 200 else { throw try await Self.failure(response) }
        _ = try await response.body.collect(upTo: 64 << 10)
    }

    func begin(_ key: String, contentType: String) async throws -> MultipartUpload {
        let response = try await send(.POST, key: key, query: [("uploads", "")], headers: [("content-type", contentType)])
        guard response.status.code == 200 else { throw try await Self.failure(response) }
        let answer = try S3XML(Data(buffer: try await response.body.collect(upTo: 1 << 20)))
        guard let id = answer.fields["UploadId"], !id.isEmpty else {
            throw ObjectStoreError.service(status: 200, message: "CreateMultipartUpload answered no UploadId")
        }
        return MultipartUpload(key: key, id: id)
    }

    func complete(_ upload: MultipartUpload) async throws {
        let parts = upload.parts.enumerated().map { index, etag in
            "<Part><PartNumber>\(index + 1)</PartNumber><ETag>\(S3XML.escape(etag))</ETag></Part>"
        }
        let xml = "<CompleteMultipartUpload>\(parts.joined())</CompleteMultipartUpload>"
        _ = try await document(.POST, key: upload.key, query: [("uploadId", upload.id)], body: ByteBuffer(string: xml))
    }

    func abort(_ upload: MultipartUpload) async throws {
        let response = try await send(.DELETE, key: upload.key, query: [("uploadId", upload.id)])
        _ = try await response.body.collect(upTo: 64 << 10)
    }
}

/// A multipart upload under way: its id and the ETag of each part sent, in order.
struct MultipartUpload: Sendable {
    let key: String
    let id: String
    var parts: [String] = []

    /// Uploads the next part and records its ETag.
    mutating func send(_ bytes: ByteBuffer, store: S3ObjectStore) async throws {
        let number = parts.count + 1
        let response = try await store.send(.PUT, key: key, query: [("partNumber", String(number)), ("uploadId", id)], body: bytes)
        guard response.status.code == 200 else { throw try await S3ObjectStore.failure(response) }
        _ = try await response.body.collect(upTo: 64 << 10)
        guard let etag = response.headers.first(name: "etag") else {
            throw ObjectStoreError.service(status: 200, message: "UploadPart \(number) answered no ETag")
        }
        parts.append(etag)
    }
}
