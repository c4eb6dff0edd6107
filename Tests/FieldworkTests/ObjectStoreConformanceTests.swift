import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
@testable import Pipelines
import Testing

/// What every `ObjectStore` promises, checked on the local directory and on S3 (moto): streaming put and get from an
/// offset, head, delete, list by prefix, presigned GET, multipart upload, and nothing left behind by a failed put.
@Suite struct ObjectStoreConformanceTests {
    @Test(arguments: StoreKind.allCases) func putThenGetFromOffsets(kind: StoreKind) async throws {
        let (store, prefix) = try await TestStores.make(kind)
        let body = PatternBody(chunkSize: 1000, count: 7)
        let key = prefix + "orgs/a b/ü+file.csv"
        #expect(try await store.put(key, contentType: "text/csv", body: body) == 7000)
        #expect(try await store.get(key, from: 0).collected() == body.bytes)
        #expect(try await store.get(key, from: 4321).collected() == Array(body.bytes[4321...]))
        #expect(try await store.get(key, from: 7000).collected() == [])
        // A second put replaces the object.
        #expect(try await store.put(key, contentType: "text/csv", body: PatternBody(chunkSize: 10, count: 1)) == 10)
        #expect(try await store.get(key, from: 0).collected() == PatternBody(chunkSize: 10, count: 1).bytes)
    }

    @Test(arguments: StoreKind.allCases) func headAndDelete(kind: StoreKind) async throws {
        let (store, prefix) = try await TestStores.make(kind)
        let key = prefix + "one.bin"
        let before = Date().addingTimeInterval(-60)
        _ = try await store.put(key, contentType: "application/octet-stream", body: PatternBody(chunkSize: 123, count: 3))
        let info = try #require(try await store.head(key))
        #expect(info.key == key && info.size == 369)
        #expect(info.lastModified > before && info.lastModified < Date().addingTimeInterval(60))
        #expect(try await store.head(prefix + "missing") == nil)
        await #expect(throws: ObjectStoreError.notFound(prefix + "missing")) { _ = try await store.get(prefix + "missing", from: 0) }
        try await store.delete(key)
        #expect(try await store.head(key) == nil)
        try await store.delete(key)  // already gone: not an error
    }

    @Test(arguments: StoreKind.allCases) func listByPrefixInKeyOrder(kind: StoreKind) async throws {
        // Two keys a page makes S3 follow continuation tokens.
        let (store, prefix) = try await TestStores.make(kind, listPageSize: 2)
        for (name, size) in [("exports/c.csv", 3), ("exports/a.csv", 1), ("exports/b/d.csv", 4), ("exportsX.csv", 5), ("imports/e.csv", 2)] {
            _ = try await store.put(prefix + name, contentType: "text/csv", body: PatternBody(chunkSize: size, count: 1))
        }
        let found = try await store.list(prefix: prefix + "exports/")
        #expect(found.map(\.key) == ["exports/a.csv", "exports/b/d.csv", "exports/c.csv"].map { prefix + $0 })
        #expect(found.map(\.size) == [1, 4, 3])
        #expect(try await store.list(prefix: prefix).count == 5)
        #expect(try await store.list(prefix: prefix + "nothing/").isEmpty)
    }

    @Test(arguments: StoreKind.allCases) func presignedGET(kind: StoreKind) async throws {
        let (store, prefix) = try await TestStores.make(kind)
        let key = prefix + "exports/voters.csv"
        let body = PatternBody(chunkSize: 500, count: 2)
        _ = try await store.put(key, contentType: "text/csv", body: body)
        let url = try store.presignedGET(key, expiresIn: .seconds(300), fileName: "Voters – Precinct 4.csv")
        guard kind == .s3 else {
            #expect(url == nil, "the local directory cannot sign URLs")
            return
        }
        let signed = try #require(url)
        // The file name travels in the signed query; S3 answers it as Content-Disposition (moto ignores it).
        let disposition = URLComponents(url: signed, resolvingAgainstBaseURL: false)?.queryItems?
            .first { $0.name == "response-content-disposition" }?.value
        #expect(disposition == "attachment; filename=\"Voters _ Precinct 4.csv\"; filename*=UTF-8''Voters%20%E2%80%93%20Precinct%204.csv")
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: signed.absoluteString), timeout: .seconds(30))
        #expect(response.status == .ok)
        if let answered = response.headers.first(name: "content-disposition") { #expect(answered == disposition) }
        #expect(Array(buffer: try await response.body.collect(upTo: 1 << 20)) == body.bytes)
        let items = URLComponents(url: signed, resolvingAgainstBaseURL: false)?.queryItems ?? []
        #expect(items.first { $0.name == "X-Amz-Expires" }?.value == "300")
        #expect(items.last?.name == "X-Amz-Signature" && items.last?.value?.count == 64)
    }

    /// 12 MiB in 64 KiB chunks: on S3 three parts of 5, 5 and 2 MiB.
    @Test(arguments: StoreKind.allCases) func largeMultipartPut(kind: StoreKind) async throws {
        let (store, prefix) = try await TestStores.make(kind)
        let key = prefix + "big.bin"
        let body = PatternBody(chunkSize: 64 << 10, count: 192)
        #expect(try await store.put(key, contentType: "application/octet-stream", body: body) == 12 << 20)
        #expect(try await store.head(key)?.size == 12 << 20)
        var sent = SHA256()
        for try await chunk in body { sent.update(data: chunk.readableBytesView) }
        var received = SHA256()
        var count = 0
        for try await chunk in try await store.get(key, from: 0) {
            received.update(data: chunk.readableBytesView)
            count += chunk.readableBytes
        }
        #expect(count == 12 << 20)
        #expect(sent.finalize() == received.finalize())
        if let s3 = store as? S3ObjectStore { #expect(try await s3.pendingUploads(prefix: prefix).isEmpty) }
    }

    /// A body that throws, before the first part and after some parts went up: the body's error comes back and
    /// nothing is left (no object, no partial file, no pending multipart upload).
    @Test(arguments: StoreKind.allCases) func failedBodyLeavesNothing(kind: StoreKind) async throws {
        let (store, prefix) = try await TestStores.make(kind)
        for (name, failAfter) in [("small.csv", 3000), ("large.csv", 11 << 20)] {
            let body = PatternBody(chunkSize: 64 << 10, count: 400, failAfter: failAfter)
            await #expect(throws: BodyCutOff()) { _ = try await store.put(prefix + name, contentType: "text/csv", body: body) }
            #expect(try await store.head(prefix + name) == nil)
        }
        #expect(try await store.list(prefix: prefix).isEmpty)
        if let s3 = store as? S3ObjectStore { #expect(try await s3.pendingUploads(prefix: prefix).isEmpty) }
        if let local = store as? LocalDirectoryStore {
            let left = (try? FileManager.default.subpathsOfDirectory(atPath: local.root.path)) ?? []
            #expect(left.allSatisfy { !$0.contains(".partial-") }, "\(left)")
        }
    }

    @Test func pendingUploadsSeesAnUnfinishedUpload() async throws {
        // The no-orphan checks above mean something only if an unfinished upload would be seen.
        let store = try await TestStores.s3()
        let prefix = "tests/\(UUID().uuidString.lowercased())/"
        let upload = try await store.begin(prefix + "orphan.bin", contentType: "text/csv")
        #expect(try await store.pendingUploads(prefix: prefix) == [prefix + "orphan.bin"])
        try await store.abort(upload)
        #expect(try await store.pendingUploads(prefix: prefix).isEmpty)
    }

    @Test func storageURLs() throws {
        let env = ["AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"]
        let s3 = try makeS3ObjectStore(url: "s3://media?endpoint=http://127.0.0.1:9000&region=eu-west-1", environment: env)
        #expect(s3.bucket == "media" && s3.endpoint == "http://127.0.0.1:9000")
        #expect(try makeS3ObjectStore(url: "s3://media?region=eu-west-1", environment: env).endpoint == "https://s3.eu-west-1.amazonaws.com")
        #expect(throws: ObjectStoreError.self) { try makeObjectStore(url: "s3://media", environment: [:]) }
        #expect(throws: ObjectStoreError.self) { try makeObjectStore(url: "s3://media?endpoint=ftp://x", environment: env) }
        #expect(throws: ObjectStoreError.self) { try makeObjectStore(url: "gs://media", environment: env) }
        #expect(try makeObjectStore(url: "file://.data/objects", environment: [:]) is LocalDirectoryStore)
    }
}
