import Actors
import Foundation
import OpenAPIRuntime
@_spi(TenantAuth) import Store

extension APIService {
    /// Staff: enqueues `count` diagnostic jobs (per listed org, or platform jobs).
    func enqueueDiagnosticJobs(_ input: Operations.EnqueueDiagnosticJobs.Input) async throws -> Operations.EnqueueDiagnosticJobs.Output {
        let staff = try requireStaff()
        guard case .json(let body) = input.body else { throw APIError.unsupportedMediaType("expected application/json") }
        let pipeline = body.pipeline.rawValue
        guard jobs.catalog[pipeline] != nil else {
            throw APIError.validation("pipeline: \(pipeline) is not configured in this deployment", details: [("pipeline", "not configured")])
        }
        guard (1...100_000).contains(body.count) else {
            throw APIError.validation("count: expected 1...100000", details: [("count", "expected 1...100000")])
        }
        var orgIds: [UUID?] = [nil]
        if let listed = body.orgIds {
            var seen: [UUID] = []
            for (index, text) in listed.enumerated() {
                guard let id = UUID(uuidString: text) else {
                    throw APIError.validation("orgIds[\(index)]: not a UUID", details: [("orgIds[\(index)]", "not a UUID")])
                }
                if !seen.contains(id) { seen.append(id) }
            }
            guard !seen.isEmpty else { throw APIError.validation("orgIds: list at least one org, or leave it out", details: [("orgIds", "empty")]) }
            let known = try await orgs.existing(seen, on: db)
            if let missing = seen.first(where: { !known.contains($0) }) {
                throw APIError.notFound("organization \(missing.uuidString.lowercased()) not found")
            }
            orgIds = seen
        }
        guard body.count * orgIds.count <= 100_000 else {
            throw APIError.validation(
                "count × orgIds: at most 100000 jobs per request, asked for \(body.count * orgIds.count)",
                details: [("count", "at most 100000 jobs in all")])
        }
        let argsJSON: String
        if let args = body.args {
            argsJSON = String(decoding: try JSONEncoder().encode(args), as: UTF8.self)
        } else {
            argsJSON = "{}"
        }
        let requestId = request.requestId
        let enqueued: [EnqueuedJob] = try await transaction { connection in
            let all = try await jobs.enqueueCopies(
                pipeline: pipeline, orgIds: orgIds, count: body.count, argsJSON: argsJSON, requestId: requestId, on: connection)
            try await audit.append(
                AuditRecord(
                    orgId: nil, actorId: staff, actorKind: .staff, action: "diagnostics.enqueued", entityType: "pipeline", entityId: pipeline,
                    requestId: requestId,
                    changes: [
                        "count": .int(body.count),
                        "orgIds": .string(orgIds.compactMap { $0 }.map { $0.uuidString.lowercased() }.joined(separator: ",")),
                        "args": .string(argsJSON),
                    ]),
                on: connection)
            return all
        }
        await jobs.publish(enqueued)
        return .accepted(.init(body: .json(.init(enqueued: enqueued.count))))
    }
}
