import Foundation

/// Builds the store a `STORAGE_URL` names: `file://<directory>` (relative paths allowed).
public func makeObjectStore(url: String) throws -> any ObjectStore {
    guard url.hasPrefix("file://") else {
        throw ObjectStoreError.badURL("only file://<directory> is supported by this build")
    }
    let path = String(url.dropFirst("file://".count))
    guard !path.isEmpty else { throw ObjectStoreError.badURL("file:// needs a directory") }
    return LocalDirectoryStore(root: URL(fileURLWithPath: path))
}
