import Actors
import Foundation
import OpenAPIRuntime
import Pipelines
@_spi(TenantAuth) import Store

extension APIService {
    /// The build's pipelines: how a pipeline name from a request finds its type.
    var pipelines: PipelineRegistry {
        .standard(PipelineDependencies(db: db, objectStore: storage, catalog: jobs.catalog))
    }

    /// Staff: enqueues `count` diagnostic jobs (per listed org, or platform jobs), their `args`
    /// checked against the pipeline's argument type.
    func enqueueDiagnosticJobs(_ input: Operations.EnqueueDiagnosticJobs.Input) async throws -> Operations.EnqueueDiagnosticJobs.Output {
        let staff = try requireStaff()
        guard case .json(let body) = input.body else { throw APIError.unsupportedMediaType("expected application/json") }
        let pipelineName = body.pipeline.rawValue
        guard jobs.catalog[pipelineName] != nil, let pipeline = pipelines[pipelineName] else {
            throw APIError.validation("pipeline: \(pipelineName) is not configured in this deployment", details: [("pipeline", "not configured")])
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
                details: [("count", "at most 100000 jobs in all")]
            )
        }
        let payload = try diagnosticPayload(pipeline, args: body.args)
        if pipeline.needsOrg && orgIds.contains(nil) {
            throw APIError.validation("orgIds: \(pipelineName) runs for one org at a time; list the orgs", details: [("orgIds", "required")])
        }
        let scopes = orgIds.map { $0.map { OrgScope(orgId: $0) } }
        let requestId = request.requestId
        let enqueued: [EnqueuedJob] = try await transaction { connection in
            let all = try await jobs.enqueueCopies(payload, scopes: scopes, count: body.count, requestId: requestId, on: connection)
            try await audit.append(
                AuditRecord(
                    orgId: nil,
                    actorId: staff,
                    actorKind: .staff,
                    action: "diagnostics.enqueued",
                    entityType: "pipeline",
                    entityId: pipelineName,
                    requestId: requestId,
                    changes: [
                        "count": .int(body.count),
                        "orgIds": .string(orgIds.compactMap { $0 }.map { $0.uuidString.lowercased() }.joined(separator: ",")),
                        "args": .string(payload.argsJSON),
                    ]
                ),
                on: connection
            )
            return all
        }
        await jobs.publish(enqueued)
        return .accepted(.init(body: .json(.init(enqueued: enqueued.count))))
    }

    /// The request's `args` as the pipeline's arguments (400 when they are not).
    private func diagnosticPayload(_ pipeline: PipelineEntry, args: Components.Schemas.DiagnosticJobsRequest.ArgsPayload?) throws -> JobPayload {
        let json = try args.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) } ?? "{}"
        do {
            return try pipeline.payload(argumentsJSON: json)
        } catch is JobSpecError {
            throw APIError.validation("args: not arguments the \(pipeline.name) pipeline takes", details: [("args", "do not match the pipeline")])
        }
    }
}
