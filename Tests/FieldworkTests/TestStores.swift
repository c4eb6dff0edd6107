import Foundation
import NIOCore
import Pipelines
import Testing

/// The two object stores tests run on: a fresh local directory, or the S3 bucket of `S3_TEST_URL` on moto
/// (`ops/stack up` starts it; default `s3://fieldwork-test?endpoint=http://127.0.0.1:55900&region=us-east-1`,
/// credentials `testing`/`testing` unless AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are set).
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case local, s3
    var testDescription: String { rawValue }
}

enum TestStores {
    static let s3URL = ProcessInfo.processInfo.environment["S3_TEST_URL"] ?? "s3://fieldwork-test?endpoint=http://127.0.0.1:55900&region=us-east-1"

    /// The process environment with moto's credentials filled in, also exported to the process so an application a
    /// test builds from `STORAGE_URL=s3://…` finds them.
    static let environment: [String: String] = {
        var env = ProcessInfo.processInfo.environment
        for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] where env[name] == nil {
            env[name] = "testing"
            setenv(name, "testing", 0)
        }
        return env
    }()

    /// The S3 test bucket, created once per test process.
    static let bucket: Task<Void, any Error> = Task {
        let store = try makeS3ObjectStore(url: s3URL, environment: environment)
        do {
            try await store.createBucket()
        } catch {
            throw TestFailure("the S3 test bucket cannot be created at \(store.endpoint) (is moto up? ./ops/stack up): \(error)")
        }
    }

    /// A `STORAGE_URL` for tests on `kind`: a fresh local directory, or the S3 test bucket (created first).
    static func url(_ kind: StoreKind) async throws -> String {
        switch kind {
        case .local:
            return "file://\(FileManager.default.temporaryDirectory.path)/fieldwork-objects-\(UUID().uuidString)"
        case .s3:
            _ = environment
            try await bucket.value
            return s3URL
        }
    }

    /// An S3 store on the test bucket; `partSize` and `listPageSize` small enough to exercise multipart and paging.
    static func s3(partSize: Int = 5 << 20, listPageSize: Int = 1000) async throws -> S3ObjectStore {
        try await bucket.value
        var store = try makeS3ObjectStore(url: s3URL, environment: environment)
        store.partSize = partSize
        store.listPageSize = listPageSize
        return store
    }

    /// A store of `kind` whose keys the test puts under its own prefix (returned).
    static func make(_ kind: StoreKind, listPageSize: Int = 1000) async throws -> (store: any ObjectStore, prefix: String) {
        let prefix = "tests/\(UUID().uuidString.lowercased())/"
        switch kind {
        case .local:
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("fieldwork-store-\(UUID().uuidString)")
            return (LocalDirectoryStore(root: root), prefix)
        case .s3:
            return (try await s3(listPageSize: listPageSize), prefix)
        }
    }
}

/// `count` chunks of `chunkSize` deterministic bytes; throws `BodyCutOff` instead of the chunk after `failAfter` bytes.
struct PatternBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let chunkSize: Int
    let count: Int
    var failAfter: Int?

    /// The bytes the body yields, for comparison (small bodies only).
    var bytes: [UInt8] { (0..<(chunkSize * count)).map(Self.byte) }

    static func byte(_ index: Int) -> UInt8 { UInt8(truncatingIfNeeded: index &* 31 &+ index / 251) }

    struct AsyncIterator: AsyncIteratorProtocol {
        let body: PatternBody
        var index = 0

        mutating func next() async throws -> ByteBuffer? {
            guard index < body.count else { return nil }
            if let limit = body.failAfter, index * body.chunkSize >= limit { throw BodyCutOff() }
            let start = index * body.chunkSize
            index += 1
            var buffer = ByteBuffer()
            buffer.writeBytes((start..<(start + body.chunkSize)).lazy.map(PatternBody.byte))
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(body: self) }
}

/// The error a cut-off upload body throws.
struct BodyCutOff: Error, Equatable {}

extension ObjectBody {
    /// Every remaining byte (tests only: small objects).
    func collected() async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await chunk in self { bytes += chunk.readableBytesView }
        return bytes
    }
}
