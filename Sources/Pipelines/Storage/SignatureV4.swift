import Crypto
import Foundation

/// An access key pair for an S3-compatible service.
public struct AWSCredentials: Sendable, Equatable {
    public var accessKeyID: String
    public var secretAccessKey: String

    public init(accessKeyID: String, secretAccessKey: String) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
    }
}

/// AWS Signature Version 4 (`AWS4-HMAC-SHA256`): the canonical request, the string to sign, the derived
/// signing key, and from them an `Authorization` header or a presigned query.
///
/// Paths are encoded once per segment, as S3 expects (other AWS services encode twice; this signer is for S3).
public struct SignatureV4: Sendable {
    public static let algorithm = "AWS4-HMAC-SHA256"
    /// The SHA-256 of an empty payload.
    public static let emptyPayloadHash = sha256Hex([UInt8]())
    /// The payload hash a presigned URL signs: the body is not known when the URL is made.
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"

    public let credentials: AWSCredentials
    public let region: String
    public let service: String

    public init(credentials: AWSCredentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The canonical request: method, encoded path, sorted encoded query, lower-cased sorted headers,
    /// the signed header names and the payload hash, one per line.
    public func canonicalRequest(
        method: String,
        path: String,
        query: [(String, String)],
        headers: [(String, String)],
        payloadHash: String
    ) -> String {
        let canonical = Self.canonicalHeaders(headers)
        return [
            method,
            Self.canonicalURI(path),
            Self.canonicalQuery(query),
            canonical.map { "\($0.0):\($0.1)\n" }.joined(),
            canonical.map(\.0).joined(separator: ";"),
            payloadHash,
        ].joined(separator: "\n")
    }

    /// The string to sign: algorithm, timestamp, credential scope and the canonical request's hash.
    public func stringToSign(canonicalRequest: String, date: Date) -> String {
        [Self.algorithm, Self.timestamp(date), scope(date), Self.sha256Hex(Array(canonicalRequest.utf8))].joined(separator: "\n")
    }

    /// HMAC chain from the secret over day, region, service and `aws4_request`.
    public func signingKey(date: Date) -> SymmetricKey {
        var key = SymmetricKey(data: Array("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [Self.day(date), region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return key
    }

    /// The hex signature of a string to sign.
    public func signature(stringToSign: String, date: Date) -> String {
        Self.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: signingKey(date: date)))
    }

    /// `day/region/service/aws4_request`.
    public func scope(_ date: Date) -> String {
        "\(Self.day(date))/\(region)/\(service)/aws4_request"
    }

    /// The headers to send with a request signed in the `Authorization` header: `x-amz-date`,
    /// `x-amz-content-sha256` and `authorization`. `headers` must include `host`.
    public func sign(
        method: String,
        path: String,
        query: [(String, String)],
        headers: [(String, String)],
        payloadHash: String,
        date: Date
    ) -> [(String, String)] {
        let added = [("x-amz-date", Self.timestamp(date)), ("x-amz-content-sha256", payloadHash)]
        let all = headers + added
        let request = canonicalRequest(method: method, path: path, query: query, headers: all, payloadHash: payloadHash)
        let signed = Self.canonicalHeaders(all).map(\.0).joined(separator: ";")
        let value = "\(Self.algorithm) Credential=\(credentials.accessKeyID)/\(scope(date)), SignedHeaders=\(signed), "
            + "Signature=\(signature(stringToSign: stringToSign(canonicalRequest: request, date: date), date: date))"
        return added + [("authorization", value)]
    }

    /// The encoded query of a presigned request (signing only `host`): `query` plus the `X-Amz-*` parameters, sorted,
    /// then `X-Amz-Signature` last, as AWS prints it.
    public func presignedQuery(
        method: String,
        path: String,
        host: String,
        query: [(String, String)],
        expiresIn seconds: Int,
        date: Date
    ) -> String {
        let signing = query + [
            ("X-Amz-Algorithm", Self.algorithm),
            ("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope(date))"),
            ("X-Amz-Date", Self.timestamp(date)),
            ("X-Amz-Expires", String(seconds)),
            ("X-Amz-SignedHeaders", "host"),
        ]
        let request = canonicalRequest(method: method, path: path, query: signing, headers: [("host", host)], payloadHash: Self.unsignedPayload)
        let signature = signature(stringToSign: stringToSign(canonicalRequest: request, date: date), date: date)
        return Self.canonicalQuery(signing) + "&X-Amz-Signature=" + signature
    }
}

extension SignatureV4 {
    /// The path with each segment percent-encoded (slashes kept); empty is `/`.
    public static func canonicalURI(_ path: String) -> String {
        guard !path.isEmpty else { return "/" }
        return path.split(separator: "/", omittingEmptySubsequences: false).map { uriEncode(String($0)) }.joined(separator: "/")
    }

    /// Encoded `name=value` pairs sorted by name then value, joined by `&`.
    public static func canonicalQuery(_ query: [(String, String)]) -> String {
        let encoded: [(name: String, value: String)] = query.map { (uriEncode($0.0), uriEncode($0.1)) }
        let sorted = encoded.sorted { left, right in
            left.name == right.name ? left.value < right.value : left.name < right.name
        }
        return sorted.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
    }

    /// Lower-cased names, trimmed values with inner runs of spaces collapsed, sorted by name; repeated names joined by commas.
    static func canonicalHeaders(_ headers: [(String, String)]) -> [(String, String)] {
        var merged: [String: [String]] = [:]
        for (name, value) in headers {
            let trimmed = value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            merged[name.lowercased(), default: []].append(trimmed)
        }
        return merged.map { ($0.key, $0.value.joined(separator: ",")) }.sorted { $0.0 < $1.0 }
    }

    /// RFC 3986 percent-encoding of everything but the unreserved characters, over UTF-8.
    public static func uriEncode(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if unreserved[Int(byte)] {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += percentEncoded[Int(byte)]
            }
        }
        return out
    }

    /// A-Z, a-z, 0-9, `-`, `_`, `.`, `~` by byte value.
    private static let unreserved: [Bool] = (0..<256).map { (value: Int) -> Bool in
        (65...90).contains(value) || (97...122).contains(value) || (48...57).contains(value) || [45, 95, 46, 126].contains(value)
    }
    private static let percentEncoded: [String] = (0..<256).map { String(format: "%%%02X", $0) }

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC.
    public static func timestamp(_ date: Date) -> String {
        let c = utc.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d%02d%02dT%02d%02d%02dZ", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
    }

    /// `yyyyMMdd` in UTC.
    public static func day(_ date: Date) -> String { String(timestamp(date).prefix(8)) }

    /// Lower-case hex SHA-256 of bytes.
    public static func sha256Hex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var hasher = SHA256()
        hasher.update(data: Array(bytes))
        return hex(hasher.finalize())
    }

    static func hex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    private static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()
}
