import Actors
import Foundation
import OpenAPIRuntime
import Pipelines
import PostgresNIO
@_spi(TenantAuth) import Store

/// `/imports`: list, read and cancel an org's voter imports, and download their rejected rows. Admin only.
extension APIService {
    func listImports(_ input: Operations.ListImports.Input) async throws -> Operations.ListImports.Output {
        let caller = try await requireMember([.admin])
        let limit = try Validate.page(limit: input.query.limit, cursor: nil).limit
        let page = try await imports.page(in: caller.scope, limit: limit, after: try Validate.idCursor(input.query.cursor), on: db)
        return .ok(.init(body: .json(.init(items: page.items.map(Components.Schemas.ImportJob.init), nextCursor: page.nextCursor))))
    }

    func getImport(_ input: Operations.GetImport.Input) async throws -> Operations.GetImport.Output {
        let caller = try await requireMember([.admin])
        return .ok(.init(body: .json(.init(try await importJob(input.path.importId, caller)))))
    }

    /// A running import stops at its next batch (the pipeline sees the request in its batch transaction); one waiting
    /// to run, or waiting to retry, is cancelled at once with what it committed.
    func cancelImport(_ input: Operations.CancelImport.Input) async throws -> Operations.CancelImport.Output {
        let caller = try await requireMember([.admin])
        let id = try Validate.pathId(input.path.importId, "import")
        let stoppedNow: Bool = try await transaction { connection in
            guard let (jobId, status) = try await imports.requestCancel(id, in: caller.scope, on: connection) else {
                throw APIError.notFound("no import with id \(input.path.importId)")
            }
            guard !["succeeded", "failed", "cancelled"].contains(status) else { throw APIError.conflict("the import has ended (\(status))") }
            guard let jobId, let job = try await jobs.ledger.job(id: jobId, in: caller.scope, on: connection) else { return true }
            switch job.state {
            case .running:
                return false
            case .scheduled, .queued, .retrying:
                _ = try await jobs.ledger.cancel(jobId: jobId, on: connection)
                return true
            case .succeeded, .dead, .discarded, .cancelled:
                throw APIError.conflict("the import has ended (\(job.state.rawValue))")
            }
        }
        if stoppedNow {
            // Rows an earlier attempt committed stay; their rejections go to the file as at any other end.
            let file = RejectedRowsFile(importId: id, db: db, logger: logger)
            try await file.write(to: storage, key: RejectedRowsFile.key(org: caller.scope.orgId, importId: id))
            try await imports.end(id, as: .cancelled, in: caller.scope, on: db)
        }
        let job = try await importJob(input.path.importId, caller)
        try await transaction { connection in
            try await recordAudit(by: caller, "import.cancelled", on: "import", id: id.uuidString.lowercased(), in: connection)
        }
        return .ok(.init(body: .json(.init(job))))
    }

    func getImportRejectedRows(_ input: Operations.GetImportRejectedRows.Input) async throws -> Operations.GetImportRejectedRows.Output {
        let caller = try await requireMember([.admin])
        let job = try await importJob(input.path.importId, caller)
        let key = RejectedRowsFile.key(org: caller.scope.orgId, importId: job.id)
        guard let info = try await storage.head(key) else {
            guard [.succeeded, .failed, .cancelled].contains(job.status) else {
                throw APIError.conflict("the rejected rows are written when the import ends")
            }
            throw APIError.notFound("this import has no rejected-rows file")
        }
        let body = try await storage.get(key, from: 0)
        let http = HTTPBody(DownloadChunks(body: body), length: .known(info.size), iterationBehavior: .single)
        return .ok(.init(body: .csv(http)))
    }

    private func importJob(_ pathId: String, _ caller: MemberCaller) async throws -> ImportJob {
        let id = try Validate.pathId(pathId, "import")
        guard let job = try await imports.importJob(id, in: caller.scope, on: db) else { throw APIError.notFound("no import with id \(pathId)") }
        return job
    }
}
