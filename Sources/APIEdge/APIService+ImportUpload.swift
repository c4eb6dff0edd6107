import Actors
import Foundation
import OpenAPIRuntime
import Pipelines
import PostgresNIO
@_spi(TenantAuth) import Store

/// `POST /imports/voters`: the upload streams to the object store, then the import row and its job commit together.
extension APIService {
    var imports: ImportJobRepository { ImportJobRepository(logger: logger) }

    func createVoterImport(_ input: Operations.CreateVoterImport.Input) async throws -> Operations.CreateVoterImport.Output {
        let caller = try await requireMember([.admin])
        let key = try Validate.text(input.headers.idempotencyKey, 1...255, "Idempotency-Key")
        // The query is checked before a repeated key answers with its earlier import.
        _ = try Validate.text(input.query.fileName, 1...255, "fileName")
        if let key, let earlier = try await imports.importJob(idempotencyKey: key, in: caller.scope, on: db) {
            // The repeated request is read and checked like a first one (a form needs its file part), never stored again.
            _ = try await store(input, at: nil)
            return .accepted(.init(body: .json(.init(earlier))))
        }
        let id = UUID.timeOrdered()
        let objectKey = "orgs/\(caller.scope.orgId.uuidString.lowercased())/imports/\(id.uuidString.lowercased())/source"
        let upload: StoredUpload
        do {
            upload = try await store(input, at: objectKey)
        } catch {
            // The store leaves nothing of a failed put; a put that ended before a later part failed is removed here.
            try? await storage.delete(objectKey)
            throw error
        }
        let draft = ImportDraft(
            id: id,
            format: upload.format,
            fileName: upload.fileName,
            fileBytes: upload.bytes,
            objectKey: objectKey,
            createdBy: caller.userId,
            idempotencyKey: key
        )
        let enqueued: [EnqueuedJob]?
        do {
            enqueued = try await transaction { connection in
                guard try await imports.create(draft, in: caller.scope, on: connection) else { return nil }
                let spec = try JobSpec(
                    VoterImportPipeline.self,
                    .init(importId: id),
                    scope: caller.scope,
                    uniqueKey: "voter-import:\(id.uuidString.lowercased())",
                    requestId: request.requestId
                )
                let jobs = try await jobs.enqueue([spec], on: connection)
                if let job = jobs.first { try await imports.attach(job: job.id, to: id, in: caller.scope, on: connection) }
                try await recordAudit(
                    by: caller,
                    "import.created",
                    on: "import",
                    id: id.uuidString.lowercased(),
                    changes: ["fileName": .string(upload.fileName), "format": .string(upload.format), "fileBytes": .string(String(upload.bytes))],
                    in: connection
                )
                return jobs
            }
        } catch {
            // No row points at the stored file: it goes too.
            try? await storage.delete(objectKey)
            throw error
        }
        guard let enqueued else {
            // A concurrent upload with the same key won: this copy goes, the caller gets that import.
            try? await storage.delete(objectKey)
            guard let key, let winner = try await imports.importJob(idempotencyKey: key, in: caller.scope, on: db) else {
                throw APIError.conflict("another upload with this Idempotency-Key is being recorded; retry")
            }
            return .accepted(.init(body: .json(.init(winner))))
        }
        await jobs.publish(enqueued)
        guard let created = try await imports.importJob(id, in: caller.scope, on: db) else { throw APIError.internal }
        return .accepted(.init(body: .json(.init(created))))
    }

    /// What an upload stored.
    struct StoredUpload: Sendable {
        var format: String
        var fileName: String
        var bytes: Int64
    }

    /// Streams the file to `objectKey` (nil: reads and checks the request, stores nothing): a raw `text/csv` body, or the
    /// `file` part of a multipart form (its `format` part may come before or after it). Without a format, the file is
    /// read as a Louisiana export.
    private func store(_ input: Operations.CreateVoterImport.Input, at objectKey: String?) async throws -> StoredUpload {
        switch input.body {
        case .csv(let body):
            let bytes = try await keep(body, at: objectKey)
            return StoredUpload(
                format: input.query.format?.rawValue ?? VoterFileFormat.louisiana.rawValue,
                fileName: try Validate.text(input.query.fileName, 1...255, "fileName") ?? "voters.csv",
                bytes: bytes
            )
        case .multipartForm(let parts):
            var format = input.query.format?.rawValue
            var fileName: String?
            var bytes: Int64?
            var iterator = parts.makeAsyncIterator()
            while let part = try await UploadChunks.reading({ try await iterator.next() }) {
                switch part {
                case .file(let file):
                    bytes = try await keep(file.payload.body, at: objectKey)
                    fileName = file.filename
                case .format(let part):
                    let text = try await UploadChunks.reading { try await String(collecting: part.payload.body, upTo: 64) }
                    // An empty part is an absent one (the default format stands).
                    if text.isEmpty { continue }
                    guard VoterFileFormat(rawValue: text) != nil else {
                        throw APIError.validation("format: louisiana or csv", details: [("format", "louisiana or csv")])
                    }
                    format = text
                case .undocumented(let part):
                    // Unknown parts are drained, never kept.
                    _ = try await keep(part.body, at: nil)
                }
            }
            guard let bytes else { throw APIError.validation("file: the form has no file part", details: [("file", "required")]) }
            let name = fileName.map { name in
                var kept = String.UnicodeScalarView()
                kept.append(contentsOf: name.unicodeScalars.filter { $0 != "\u{0}" }.prefix(255))
                return String(kept)
            }
            return StoredUpload(
                format: format ?? VoterFileFormat.louisiana.rawValue,
                fileName: (name?.isEmpty == false ? name : nil) ?? "voters.csv",
                bytes: bytes
            )
        }
    }

    /// Streams `body` to `objectKey`, or with nil reads it to its end and keeps nothing; the bytes it had.
    private func keep(_ body: HTTPBody, at objectKey: String?) async throws -> Int64 {
        if let objectKey { return try await storage.put(objectKey, contentType: "text/csv", body: UploadChunks(body: body)) }
        var bytes: Int64 = 0
        for try await chunk in UploadChunks(body: body) { bytes += Int64(chunk.readableBytes) }
        return bytes
    }
}
