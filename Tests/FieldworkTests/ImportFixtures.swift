import Foundation
import HTTPTypes
import Pipelines
import PostgresNIO
@_spi(TenantAuth) import Store

/// Uploading voter files and watching their imports, over the live API.
struct Importer {
    let h: Harness
    let token: String

    static let voterImportYAML = """
        name: voter-import
        max_attempts: 5
        backoff:
          base: 100ms
          cap: 1s
          jitter: full
        timeout: 5m
        lease: 2s
        per_org_concurrency: 1
        global_concurrency: 4
        """

    /// The orchestra's default pipelines plus the importer with a short lease (a killed worker's import is rescued fast).
    static var pipelines: [String: String] { Orchestra.defaultPipelines.merging(["voter-import": voterImportYAML]) { $1 } }

    /// A raw `text/csv` upload.
    func upload(_ text: String, format: String = "csv", fileName: String = "voters.csv", key: String? = nil) async throws -> Harness.Reply {
        var headers: HTTPFields = [.contentType: "text/csv"]
        if let key { headers[HTTPField.Name("Idempotency-Key")!] = key }
        return try await h.call(.post, "/api/v1/imports/voters?format=\(format)&fileName=\(fileName)", token: token, raw: text, headers: headers)
    }

    /// A `multipart/form-data` upload (the format part after the file, as a form may send it).
    /// Without `text`, the form has no file part.
    func uploadForm(_ text: String?, format: String?, fileName: String = "form.csv", key: String? = nil) async throws -> Harness.Reply {
        let boundary = "fwtest\(UUID().uuidString.prefix(8))"
        var body = ""
        if let text {
            body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(fileName)\"\r\nContent-Type: text/csv\r\n\r\n"
            body += text + "\r\n"
        }
        if let format { body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"format\"\r\n\r\n\(format)\r\n" }
        body += "--\(boundary)--\r\n"
        return try await h.call(
            .post,
            "/api/v1/imports/voters",
            token: token,
            raw: body,
            headers: key.map { [.contentType: "multipart/form-data; boundary=\(boundary)", HTTPField.Name("Idempotency-Key")!: $0] }
                ?? [.contentType: "multipart/form-data; boundary=\(boundary)"]
        )
    }

    /// Uploads and returns the import's id (202 required).
    func start(_ text: String, format: String = "csv") async throws -> String {
        let reply = try await upload(text, format: format)
        guard reply.status == .accepted, let id = reply.json["id"] as? String else { throw TestFailure("upload: \(reply.status) \(reply.text)") }
        return id
    }

    func get(_ id: String) async throws -> [String: Any] {
        let reply = try await h.call(.get, "/api/v1/imports/\(id)", token: token)
        guard reply.status == .ok else { throw TestFailure("GET import: \(reply.status) \(reply.text)") }
        return reply.json
    }

    /// Polls until the import has one of the ended statuses; returns it.
    func waitEnded(_ id: String, timeout: Duration = .seconds(60)) async throws -> [String: Any] {
        var last: [String: Any] = [:]
        try await waitUntil("import \(id) ended", timeout: timeout, every: .milliseconds(100)) {
            last = try await get(id)
            return ["succeeded", "failed", "cancelled"].contains(last["status"] as? String ?? "")
        }
        return last
    }

    static func progress(_ job: [String: Any]) -> [String: Int] {
        ((job["progress"] as? [String: Any]) ?? [:]).compactMapValues { ($0 as? NSNumber)?.intValue }
    }
}

/// Voter files of the plain CSV format.
enum VoterFiles {
    static let header = "externalId,lastName,firstName,zip5,phone,birthYear"

    /// `count` voters `prefix0 …`, each with a phone and a zip.
    static func csv(count: Int, prefix: String = "V", from start: Int = 0) -> String {
        var lines = [header]
        lines.reserveCapacity(count + 1)
        for i in start..<(start + count) {
            let zip = "70" + String(format: "%03d", i % 1000)
            let phone = "504555" + String(format: "%04d", i % 10000)
            lines.append("\(prefix)\(i),Last\(i),First\(i),\(zip),\(phone),19\(50 + i % 50)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension Harness {
    func scalar<T: PostgresDecodable & Sendable>(_ query: PostgresQuery, as type: T.Type = T.self) async throws -> T? {
        for try await value in try await db.query(query, logger: .init(label: "test")).decode(T.self) { return value }
        return nil
    }
}

extension Orchestra {
    /// The state of the orchestrator job of an import.
    func jobState(ofImport id: String) async throws -> String? {
        try await scalar("SELECT j.state FROM import_jobs i JOIN jobs j ON j.id = i.job_id WHERE i.id = \(UUID(uuidString: id)!)")
    }

    /// A text column of one voter (`column` is the test's own literal).
    func voterText(_ column: String, org: TestOrg, externalId: String) async throws -> String? {
        try await scalar("SELECT \(unescaped: column) FROM voters WHERE org_id = \(org.id) AND external_id = \(externalId)")
    }
}
