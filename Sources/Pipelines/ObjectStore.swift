import Foundation

/// Where imports, exports and other blobs live.
public protocol ObjectStore: Sendable {
    /// Writes, reads back and removes a probe object: proves the store is usable.
    func checkHealth() async throws
}

/// Why object storage cannot be used.
public enum ObjectStoreError: Error, Equatable {
    case badURL(String)
    case unhealthy(String)
}

/// Builds the store a `STORAGE_URL` names: `file://<directory>` (relative paths allowed).
public func makeObjectStore(url: String) throws -> any ObjectStore {
    guard url.hasPrefix("file://") else {
        throw ObjectStoreError.badURL("only file://<directory> is supported by this build")
    }
    let path = String(url.dropFirst("file://".count))
    guard !path.isEmpty else { throw ObjectStoreError.badURL("file:// needs a directory") }
    return LocalDirectoryStore(root: URL(fileURLWithPath: path))
}

/// Objects as files under a root directory.
public struct LocalDirectoryStore: ObjectStore {
    public let root: URL

    public init(root: URL) {
        self.root = root
    }

    public func checkHealth() async throws {
        let probe = root.appendingPathComponent(".probe-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            try Data("ok".utf8).write(to: probe)
            _ = try Data(contentsOf: probe)
            try FileManager.default.removeItem(at: probe)
        } catch {
            throw ObjectStoreError.unhealthy("\(root.path): \(error.localizedDescription)")
        }
    }
}
