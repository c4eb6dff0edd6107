import Actors
import Foundation
import OpenAPIRuntime
import Pipelines
import PostgresNIO
@_spi(TenantAuth) import Store

/// `/exports`: CSV exports written by the `export` pipeline into the object store.
extension APIService {
    var exports: ExportRepository { ExportRepository(logger: logger) }

    func createExport(_ input: Operations.CreateExport.Input) async throws -> Operations.CreateExport.Output {
        let caller = try await requireMember(Self.staffRoles)
        guard case .json(let body) = input.body else { throw APIError.unsupportedMediaType("expected application/json") }
        let kind: ExportKind = switch body.kind {
        case .voters: .voters
        case .listMembers: .listMembers
        case .interactions: .interactions
        }
        var listId: UUID?
        if kind == .listMembers {
            guard let text = body.listId else { throw APIError.validation("listId: required for a list_members export") }
            let id = try Validate.uuid(text, "listId")
            guard try await voterLists.list(id, in: caller.scope, on: db) != nil else { throw APIError.notFound("no list with id \(text)") }
            listId = id
        } else if body.listId != nil {
            throw APIError.validation("listId: only a list_members export takes a list")
        }
        if kind != .interactions, body.from != nil || body.to != nil {
            throw APIError.validation("from/to: only an interactions export takes a period")
        }
        if let from = body.from, let to = body.to, from >= to { throw APIError.validation("from: must be before to") }
        let id = UUID.timeOrdered()
        let stamp = ISO8601DateFormatter.string(from: Date(), timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate])
        let fileName = "\(kind.rawValue)-\(stamp)-\(id.uuidString.lowercased().prefix(8)).csv"
        let objectKey = "orgs/\(caller.scope.orgId.uuidString.lowercased())/exports/\(id.uuidString.lowercased()).csv"
        let ttl = Int(config.exportTTL.components.seconds)
        let spec = try JobSpec(ExportPipeline.self, .init(exportId: id, ttlSeconds: ttl), scope: caller.scope, requestId: request.requestId)
        let (export, enqueued) = try await transaction { connection in
            try await exports.create(
                id: id, kind: kind.rawValue, listId: listId, from: body.from, to: body.to, objectKey: objectKey, fileName: fileName,
                createdBy: caller.userId, expiresAt: Date().addingTimeInterval(TimeInterval(ttl)), in: caller.scope, on: connection
            )
            let enqueued = try await jobs.enqueue([spec], on: connection)
            try await exports.attach(job: enqueued[0].id, to: id, in: caller.scope, on: connection)
            try await recordAudit(by: caller, "export.created", on: "export", id: id.uuidString.lowercased(),
                                  changes: ["kind": .string(kind.rawValue)], in: connection)
            guard let export = try await exports.export(id, in: caller.scope, on: connection) else { throw APIError.notFound("export vanished") }
            return (export, enqueued)
        }
        await jobs.publish(enqueued)
        return .accepted(.init(body: .json(.init(export))))
    }

    func getExport(_ input: Operations.GetExport.Input) async throws -> Operations.GetExport.Output {
        let caller = try await requireMember(Self.staffRoles)
        let id = try Validate.pathId(input.path.exportId, "export")
        guard let export = try await exports.export(id, in: caller.scope, on: db) else {
            throw APIError.notFound("no export with id \(input.path.exportId)")
        }
        return .ok(.init(body: .json(.init(export))))
    }

    func downloadExport(_ input: Operations.DownloadExport.Input) async throws -> Operations.DownloadExport.Output {
        let caller = try await requireMember(Self.staffRoles)
        let id = try Validate.pathId(input.path.exportId, "export")
        guard let export = try await exports.export(id, in: caller.scope, on: db) else {
            throw APIError.notFound("no export with id \(input.path.exportId)")
        }
        if export.purgedAt != nil || export.expiresAt <= Date() { throw APIError.notFound("export expired") }
        guard export.finishedAt != nil else { throw APIError.conflict("export not ready: its job has not written the file yet") }
        if let url = try storage.presignedGET(export.objectKey, expiresIn: .seconds(300), fileName: export.fileName) {
            return .found(.init(headers: .init(location: url.absoluteString)))
        }
        let body: ObjectBody
        do {
            body = try await storage.get(export.objectKey, from: 0)
        } catch ObjectStoreError.notFound {
            throw APIError.notFound("export expired")
        }
        let bytes = body.map { ArraySlice($0.readableBytesView) }
        let length: HTTPBody.Length = export.byteSize.map { .known($0) } ?? .unknown
        return .ok(
            .init(
                headers: .init(contentDisposition: "attachment; filename=\"\(export.fileName)\""),
                body: .csv(HTTPBody(bytes, length: length, iterationBehavior: .single))
            )
        )
    }
}
