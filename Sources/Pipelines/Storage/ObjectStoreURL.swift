import AsyncHTTPClient
import Foundation

/// Builds the store a `STORAGE_URL` names:
/// - `file://<directory>` (relative paths allowed): a local directory;
/// - `s3://<bucket>?endpoint=<http(s)://host:port>&region=<region>`: an S3-compatible service, addressed path-style, with
///   credentials from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` in `environment`. Without `endpoint`, AWS S3 in the region.
///
/// S3 stores share `client` (by default the process-wide `HTTPClient.shared`, which needs no shutdown).
public func makeObjectStore(
    url: String,
    environment: [String: String] = ProcessInfo.processInfo.environment,
    client: HTTPClient = .shared
) throws -> any ObjectStore {
    if url.hasPrefix("s3://") {
        return try makeS3ObjectStore(url: url, environment: environment, client: client)
    }
    guard url.hasPrefix("file://") else {
        throw ObjectStoreError.badURL("STORAGE_URL must be file://<directory> or s3://<bucket>?endpoint=…&region=…")
    }
    let path = String(url.dropFirst("file://".count))
    guard !path.isEmpty else { throw ObjectStoreError.badURL("file:// needs a directory") }
    return LocalDirectoryStore(root: URL(fileURLWithPath: path))
}

/// The S3 store of an `s3://` URL (see `makeObjectStore`).
public func makeS3ObjectStore(
    url: String,
    environment: [String: String] = ProcessInfo.processInfo.environment,
    client: HTTPClient = .shared
) throws -> S3ObjectStore {
    guard let parts = URLComponents(string: url), parts.scheme == "s3", let bucket = parts.host, !bucket.isEmpty,
        parts.path.isEmpty || parts.path == "/"
    else {
        throw ObjectStoreError.badURL("expected s3://<bucket>?endpoint=…&region=…, got \(url)")
    }
    let items = parts.queryItems ?? []
    func item(_ name: String) -> String? { items.first { $0.name == name }?.value.flatMap { $0.isEmpty ? nil : $0 } }
    let region = item("region") ?? "us-east-1"
    let endpoint = item("endpoint") ?? "https://s3.\(region).amazonaws.com"
    guard let scheme = URLComponents(string: endpoint)?.scheme, ["http", "https"].contains(scheme), URLComponents(string: endpoint)?.host != nil
    else {
        throw ObjectStoreError.badURL("the s3 endpoint must be an http(s)://host[:port] URL, got \(endpoint)")
    }
    guard let key = environment["AWS_ACCESS_KEY_ID"], !key.isEmpty, let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty else {
        throw ObjectStoreError.badURL("s3:// storage needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    }
    return S3ObjectStore(
        bucket: bucket,
        endpoint: endpoint,
        region: region,
        credentials: AWSCredentials(accessKeyID: key, secretAccessKey: secret),
        client: client
    )
}
