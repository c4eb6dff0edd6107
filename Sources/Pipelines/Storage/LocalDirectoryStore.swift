import Foundation
import NIOCore
import NIOPosix

/// Objects as files under a root directory (the default store: `file://.data/objects`).
///
/// A put writes to a hidden temporary file and renames it into place once the body has ended, so a reader
/// never sees half an object and a failed put leaves nothing. File I/O runs on NIO's blocking-I/O pool.
public struct LocalDirectoryStore: ObjectStore {
    public let root: URL
    let threadPool: NIOThreadPool
    static let chunkSize = 256 * 1024

    public init(root: URL, threadPool: NIOThreadPool = .singleton) {
        self.root = root.standardizedFileURL
        self.threadPool = threadPool
    }

    public func checkHealth() async throws {
        let probe = root.appendingPathComponent(".probe-\(UUID().uuidString)")
        do {
            try await threadPool.runIfActive { [root] in
                try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
                try Data("ok".utf8).write(to: probe)
                _ = try Data(contentsOf: probe)
                try FileManager.default.removeItem(at: probe)
            }
        } catch {
            throw ObjectStoreError.unhealthy("\(root.path): \(error.localizedDescription)")
        }
    }

    public func put<Body: AsyncSequence & Sendable>(_ key: String, contentType: String, body: Body) async throws -> Int64
    where Body.Element == ByteBuffer {
        let target = try url(for: key)
        let temporary = target.deletingLastPathComponent().appendingPathComponent(".partial-\(UUID().uuidString)")
        let handle: FileHandle = try await threadPool.runIfActive {
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
                throw ObjectStoreError.unhealthy("cannot create \(temporary.path)")
            }
            return try FileHandle(forWritingTo: temporary)
        }
        let file = SendableFileHandle(handle)
        var written: Int64 = 0
        do {
            for try await chunk in body {
                written += Int64(chunk.readableBytes)
                try await threadPool.runIfActive { try file.handle.write(contentsOf: chunk.readableBytesView) }
            }
            try await threadPool.runIfActive {
                try file.handle.close()
                _ = try? FileManager.default.removeItem(at: target)
                try FileManager.default.moveItem(at: temporary, to: target)
            }
            return written
        } catch {
            try? await threadPool.runIfActive {
                try? file.handle.close()
                try? FileManager.default.removeItem(at: temporary)
            }
            throw error
        }
    }

    public func get(_ key: String, from offset: Int64) async throws -> ObjectBody {
        let path = try url(for: key)
        let handle: FileHandle = try await threadPool.runIfActive {
            guard FileManager.default.fileExists(atPath: path.path) else { throw ObjectStoreError.notFound(key) }
            let handle = try FileHandle(forReadingFrom: path)
            try handle.seek(toOffset: UInt64(max(0, offset)))
            return handle
        }
        let file = SendableFileHandle(handle)
        let pool = threadPool
        return ObjectBody {
            let bytes: Data? = try await pool.runIfActive {
                let data = try file.handle.read(upToCount: Self.chunkSize)
                if data == nil || data?.isEmpty == true { try? file.handle.close() }
                return data
            }
            guard let bytes, !bytes.isEmpty else { return nil }
            return ByteBuffer(data: bytes)
        }
    }

    public func head(_ key: String) async throws -> ObjectInfo? {
        let path = try url(for: key)
        return try await threadPool.runIfActive {
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path.path) else { return nil }
            return ObjectInfo(
                key: key,
                size: (attributes[.size] as? NSNumber)?.int64Value ?? 0,
                lastModified: attributes[.modificationDate] as? Date ?? Date(timeIntervalSince1970: 0)
            )
        }
    }

    public func delete(_ key: String) async throws {
        let path = try url(for: key)
        try await threadPool.runIfActive {
            do {
                try FileManager.default.removeItem(at: path)
            } catch CocoaError.fileNoSuchFile {
                return
            } catch let error as CocoaError where error.code == .fileNoSuchFile {
                return
            }
        }
    }

    public func list(prefix: String) async throws -> [ObjectInfo] {
        let root = self.root
        return try await threadPool.runIfActive {
            guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.fileSizeKey, .contentModificationDateKey])
            else { return [] }
            var found: [ObjectInfo] = []
            let rootPath = root.path.hasSuffix("/") ? root.path : root.path + "/"
            for case let file as URL in walker {
                let values = try file.resourceValues(forKeys: [.fileSizeKey, .contentModificationDateKey, .isRegularFileKey])
                guard values.isRegularFile == true, !file.lastPathComponent.hasPrefix(".") else { continue }
                let key = String(file.standardizedFileURL.path.dropFirst(rootPath.count))
                guard key.hasPrefix(prefix) else { continue }
                found.append(ObjectInfo(key: key, size: Int64(values.fileSize ?? 0), lastModified: values.contentModificationDate ?? Date()))
            }
            return found.sorted { $0.key < $1.key }
        }
    }

    public func presignedGET(_ key: String, expiresIn: Duration, fileName: String) throws -> URL? {
        nil
    }

    /// The file of a key; keys never climb out of the root.
    func url(for key: String) throws -> URL {
        let parts = key.split(separator: "/", omittingEmptySubsequences: true)
        guard !parts.isEmpty, !parts.contains(where: { $0 == ".." || $0 == "." || $0.hasPrefix(".") }) else {
            throw ObjectStoreError.badURL("bad object key \(key)")
        }
        return parts.reduce(root) { $0.appendingPathComponent(String($1)) }
    }
}

/// A FileHandle used by one reader or writer at a time, each call on the thread pool.
struct SendableFileHandle: @unchecked Sendable {
    let handle: FileHandle
    init(_ handle: FileHandle) { self.handle = handle }
}
