import Foundation
import Pipelines
import Testing

/// The signer against AWS's published Signature V4 values: the sig-v4 test suite (`get-vanilla`,
/// `post-x-www-form-urlencoded`) and the S3 examples of "Authenticating Requests (AWS Signature Version 4)".
@Suite struct SignatureV4Tests {
    static let suite = SignatureV4(
        credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1",
        service: "service"
    )
    static let s3 = SignatureV4(
        credentials: AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1"
    )
    static let suiteDate = Date(timeIntervalSince1970: 1_440_938_160)  // 20150830T123600Z
    static let s3Date = Date(timeIntervalSince1970: 1_369_353_600)  // 20130524T000000Z

    @Test func getVanilla() {
        let signer = Self.suite
        #expect(SignatureV4.timestamp(Self.suiteDate) == "20150830T123600Z")
        let request = signer.canonicalRequest(
            method: "GET",
            path: "/",
            query: [],
            headers: [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")],
            payloadHash: SignatureV4.emptyPayloadHash
        )
        #expect(request == """
            GET
            /

            host:example.amazonaws.com
            x-amz-date:20150830T123600Z

            host;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        let toSign = signer.stringToSign(canonicalRequest: request, date: Self.suiteDate)
        #expect(toSign == """
            AWS4-HMAC-SHA256
            20150830T123600Z
            20150830/us-east-1/service/aws4_request
            bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63
            """)
        #expect(signer.signature(stringToSign: toSign, date: Self.suiteDate) == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    }

    @Test func postFormURLEncoded() {
        let signer = Self.suite
        let payload = SignatureV4.sha256Hex(Array("Param1=value1".utf8))
        let request = signer.canonicalRequest(
            method: "POST",
            path: "/",
            query: [],
            headers: [
                ("Content-Type", "application/x-www-form-urlencoded"), ("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z"),
            ],
            payloadHash: payload
        )
        let toSign = signer.stringToSign(canonicalRequest: request, date: Self.suiteDate)
        #expect(toSign.hasSuffix("\n42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281"))
        #expect(signer.signature(stringToSign: toSign, date: Self.suiteDate) == "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a")
    }

    /// S3's "GET Object" example: the first ten bytes of `test.txt`, signed in the Authorization header.
    @Test func s3GetObjectWithRange() throws {
        let headers = Self.s3.sign(
            method: "GET",
            path: "/test.txt",
            query: [],
            headers: [("host", "examplebucket.s3.amazonaws.com"), ("range", "bytes=0-9")],
            payloadHash: SignatureV4.emptyPayloadHash,
            date: Self.s3Date
        )
        let authorization = try #require(headers.first { $0.0 == "authorization" }?.1)
        #expect(authorization == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(headers.contains { $0 == ("x-amz-date", "20130524T000000Z") })
    }

    /// S3's "PUT Object" example: a `$` in the key is percent-encoded, the `Date` header is signed too.
    @Test func s3PutObject() {
        let signer = Self.s3
        let payload = SignatureV4.sha256Hex(Array("Welcome to Amazon S3.".utf8))
        let request = signer.canonicalRequest(
            method: "PUT",
            path: "/test$file.text",
            query: [],
            headers: [
                ("Host", "examplebucket.s3.amazonaws.com"), ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
                ("x-amz-date", "20130524T000000Z"), ("x-amz-storage-class", "REDUCED_REDUNDANCY"), ("x-amz-content-sha256", payload),
            ],
            payloadHash: payload
        )
        #expect(request.hasPrefix("PUT\n/test%24file.text\n\ndate:Fri, 24 May 2013 00:00:00 GMT\n"))
        let toSign = signer.stringToSign(canonicalRequest: request, date: Self.s3Date)
        #expect(toSign.hasSuffix("\n9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d"))
        #expect(signer.signature(stringToSign: toSign, date: Self.s3Date) == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    }

    /// S3's presigned URL example: `test.txt` for 86,400 seconds.
    @Test func s3PresignedURL() {
        let query = Self.s3.presignedQuery(
            method: "GET",
            path: "/test.txt",
            host: "examplebucket.s3.amazonaws.com",
            query: [],
            expiresIn: 86_400,
            date: Self.s3Date
        )
        #expect(query == "X-Amz-Algorithm=AWS4-HMAC-SHA256"
            + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
            + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }

    @Test func encodingAndHeaderCanonicalisation() {
        #expect(SignatureV4.uriEncode("a b/ü~*") == "a%20b%2F%C3%BC~%2A")
        #expect(SignatureV4.canonicalURI("/bucket/orgs/a b/x+y.csv") == "/bucket/orgs/a%20b/x%2By.csv")
        #expect(SignatureV4.canonicalQuery([("uploads", ""), ("b", "2"), ("a", "z"), ("a", "y")]) == "a=y&a=z&b=2&uploads=")
        let request = Self.suite.canonicalRequest(
            method: "GET",
            path: "/",
            query: [],
            headers: [("My-Header1", "  value1   with  spaces "), ("Host", "h"), ("my-header1", "second")],
            payloadHash: "x"
        )
        #expect(request.contains("\nmy-header1:value1 with spaces,second\n"))
    }
}
