import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// Objects in a bucket of any S3-compatible service (AWS S3, MinIO, Cloudflare R2, moto …), addressed path-style
/// (`<endpoint>/<bucket>/<key>`) and signed with Signature V4.
///
/// Small bodies go up in one PUT; a body longer than `partSize` becomes a multipart upload sent one part at a time,
/// so at most one part is in memory, and aborted on any failure so no parts are left behind.
public struct S3ObjectStore: ObjectStore {
    public let bucket: String
    /// `scheme://host[:port]`, no trailing slash.
    public let endpoint: String
    let signer: SignatureV4
    let client: HTTPClient
    /// Bytes per multipart part (S3 requires at least 5 MiB for every part but the last).
    public var partSize: Int
    /// Keys per ListObjectsV2 page (1,000 is the service's maximum).
    public var listPageSize = 1000
    let requestTimeout: TimeAmount = .seconds(60)

    public init(
        bucket: String,
        endpoint: String,
        region: String,
        credentials: AWSCredentials,
        client: HTTPClient = .shared,
        partSize: Int = 8 << 20
    ) {
        self.bucket = bucket
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.signer = SignatureV4(credentials: credentials, region: region)
        self.client = client
        self.partSize = max(partSize, 5 << 20)
    }

    public func checkHealth() async throws {
        let key = ".probe/\(UUID().uuidString)"
        do {
            try await putWhole(key, contentType: "text/plain", bytes: ByteBuffer(string: "ok"))
            var body = try await get(key, from: 0).makeAsyncIterator()
            while try await body.next() != nil {}
            try await delete(key)
        } catch {
            throw ObjectStoreError.unhealthy("s3 bucket \(bucket) at \(endpoint): \(error)")
        }
    }

    public func get(_ key: String, from offset: Int64) async throws -> ObjectBody {
        var headers: [(String, String)] = []
        if offset > 0 { headers.append(("range", "bytes=\(offset)-")) }
        // A download may take long; the deadline only stops a transfer that never ends.
        let response = try await send(.GET, key: key, headers: headers, timeout: .hours(12))
        switch response.status.code {
        case 200, 206:
            return ObjectBody(response.body)
        case 416:
            // Reading from the end of the object: nothing left, as a file read there gives.
            _ = try? await response.body.collect(upTo: 64 << 10)
            return ObjectBody { nil }
        case 404:
            _ = try? await response.body.collect(upTo: 64 << 10)
            throw ObjectStoreError.notFound(key)
        default:
            throw try await Self.failure(response)
        }
    }

    public func head(_ key: String) async throws -> ObjectInfo? {
        let response = try await send(.HEAD, key: key)
        _ = try await response.body.collect(upTo: 64 << 10)
        switch response.status.code {
        case 200:
            let size = response.headers.first(name: "content-length").flatMap { Int64($0) } ?? 0
            let modified = response.headers.first(name: "last-modified").flatMap(Self.httpDate) ?? Date(timeIntervalSince1970: 0)
            return ObjectInfo(key: key, size: size, lastModified: modified)
        case 404:
            return nil
        default:
            throw ObjectStoreError.service(status: Int(response.status.code), message: "HEAD \(key)")
        }
    }

    public func delete(_ key: String) async throws {
        let response = try await send(.DELETE, key: key)
        guard [200, 204, 404].contains(response.status.code) else { throw try await Self.failure(response) }
        _ = try await response.body.collect(upTo: 64 << 10)
    }

    public func list(prefix: String) async throws -> [ObjectInfo] {
        var found: [ObjectInfo] = []
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", prefix), ("max-keys", String(listPageSize))]
            if let token { query.append(("continuation-token", token)) }
            let page = try S3XML(try await document(.GET, key: nil, query: query), record: "Contents")
            for entry in page.records {
                guard let key = entry["Key"] else { continue }
                let modified = entry["LastModified"].flatMap(Self.isoDate) ?? Date(timeIntervalSince1970: 0)
                found.append(ObjectInfo(key: key, size: entry["Size"].flatMap { Int64($0) } ?? 0, lastModified: modified))
            }
            token = page.fields["IsTruncated"] == "true" ? page.fields["NextContinuationToken"] : nil
        } while token != nil
        return found.sorted { $0.key < $1.key }
    }

    public func presignedGET(_ key: String, expiresIn: Duration, fileName: String) throws -> URL? {
        let seconds = Int(min(max(expiresIn.components.seconds, 1), 604_800))
        let path = objectPath(key)
        let query = signer.presignedQuery(
            method: "GET",
            path: path,
            host: hostHeader,
            query: [("response-content-disposition", Self.attachment(fileName))],
            expiresIn: seconds,
            date: Date()
        )
        let text = endpoint + SignatureV4.canonicalURI(path) + "?" + query
        guard let url = URL(string: text) else { throw ObjectStoreError.badURL(text) }
        return url
    }

    /// Creates the bucket; one that already exists and is ours is not an error.
    public func createBucket() async throws {
        let response = try await send(.PUT, key: nil)
        if response.status.code == 409 {
            _ = try await response.body.collect(upTo: 64 << 10)
            return
        }
        guard response.status.code == 200 else { throw try await Self.failure(response) }
        _ = try await response.body.collect(upTo: 64 << 10)
    }

    /// Keys of multipart uploads begun under `prefix` and neither completed nor aborted (orphans cost storage).
    public func pendingUploads(prefix: String) async throws -> [String] {
        let answer = try S3XML(try await document(.GET, key: nil, query: [("uploads", ""), ("prefix", prefix)]), record: "Upload")
        return answer.records.compactMap { $0["Key"] }
    }
}

extension S3ObjectStore {
    /// `/<bucket>/<key>` (or `/<bucket>`), unencoded.
    func objectPath(_ key: String?) -> String {
        key.map { "/\(bucket)/\($0)" } ?? "/\(bucket)"
    }

    /// What the client sends as `Host`: the endpoint's host and any non-default port.
    var hostHeader: String {
        let parts = URLComponents(string: endpoint)
        let host = parts?.host ?? endpoint
        guard let port = parts?.port else { return host }
        let defaultPort = parts?.scheme == "https" ? 443 : 80
        return port == defaultPort ? host : "\(host):\(port)"
    }

    /// Signs and sends one request; the caller reads or drains the response body.
    func send(
        _ method: HTTPMethod,
        key: String?,
        query: [(String, String)] = [],
        headers: [(String, String)] = [],
        body: ByteBuffer? = nil,
        timeout: TimeAmount? = nil
    ) async throws -> HTTPClientResponse {
        let path = objectPath(key)
        let payloadHash = body.map { SignatureV4.hex(SHA256.hash(data: $0.readableBytesView)) } ?? SignatureV4.emptyPayloadHash
        let all = [("host", hostHeader)] + headers
        let signed = signer.sign(method: method.rawValue, path: path, query: query, headers: all, payloadHash: payloadHash, date: Date())
        let queryText = query.isEmpty ? "" : "?" + SignatureV4.canonicalQuery(query)
        var request = HTTPClientRequest(url: endpoint + SignatureV4.canonicalURI(path) + queryText)
        request.method = method
        for (name, value) in all + signed { request.headers.add(name: name, value: value) }
        if let body {
            request.body = .bytes(body)
        }
        return try await client.execute(request, timeout: timeout ?? requestTimeout)
    }

    /// Sends a request whose answer is a small XML document, and returns it; an error status throws.
    func document(_ method: HTTPMethod, key: String?, query: [(String, String)], body: ByteBuffer? = nil) async throws -> Data {
        let response = try await send(method, key: key, query: query, body: body)
        guard response.status.code == 200 else { throw try await Self.failure(response) }
        let data = Data(buffer: try await response.body.collect(upTo: 64 << 20))
        // CompleteMultipartUpload can answer 200 and still fail: the error is in the body (keys in a listing are
        // escaped, so a literal `<Error>` is only ever the element).
        if String(decoding: data.prefix(512), as: UTF8.self).contains("<Error>"), let failure = try? S3XML(data) {
            throw ObjectStoreError.service(status: 200, message: "\(failure.fields["Code"] ?? "error"): \(failure.fields["Message"] ?? "")")
        }
        return data
    }

    /// The service's error for a response that is not a success: its status and `<Code>: <Message>`.
    static func failure(_ response: HTTPClientResponse) async throws -> ObjectStoreError {
        let data = Data(buffer: (try? await response.body.collect(upTo: 1 << 20)) ?? ByteBuffer())
        let answer = try? S3XML(data)
        let message = answer.map { "\($0.fields["Code"] ?? "error"): \($0.fields["Message"] ?? "")" } ?? String(decoding: data, as: UTF8.self)
        return .service(status: Int(response.status.code), message: message)
    }

    /// `attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266).
    static func attachment(_ fileName: String) -> String {
        let ascii = String(fileName.unicodeScalars.map { $0.isASCII && $0 != "\"" && $0 != "\\" && $0.value >= 32 ? Character($0) : "_" })
        return "attachment; filename=\"\(ascii)\"; filename*=UTF-8''\(SignatureV4.uriEncode(fileName))"
    }

    static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }

    static func isoDate(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text) ?? ISO8601DateFormatter().date(from: text)
    }
}
