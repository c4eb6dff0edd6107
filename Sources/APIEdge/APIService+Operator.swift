import Actors
import Foundation
import OpenAPIRuntime
import PostgresNIO
@_spi(TenantAuth) import Store

/// The operator routes the dashboard added (each page action has its JSON twin here): fix and
/// retry a dead job, discard a dead-letter group, the tenants view.
extension APIService {
    func editDeadJobArgs(_ input: Operations.EditDeadJobArgs.Input) async throws -> Operations.EditDeadJobArgs.Output {
        _ = try requireStaff()
        guard case .json(let body) = input.body else { throw APIError.unsupportedMediaType("expected application/json") }
        let record = try await editArgsAndRetry(input.path.jobId, argsJSON: try Self.json(body.args.additionalProperties))
        return .ok(.init(body: .json(.init(record, withArgs: true))))
    }

    /// Checks `argsJSON` against the job's pipeline's `Arguments`, then replaces a dead job's
    /// arguments and retries it in one transaction, audited with the old and the new arguments.
    func editArgsAndRetry(_ text: String, argsJSON: String) async throws -> JobRecord {
        let id = try Validate.pathId(text, "job")
        guard let name = try await jobs.ledger.pipeline(ofJob: id, on: db) else { throw APIError.notFound("no job with id \(text)") }
        guard let entry = pipelines[name] else { throw APIError.conflict("this build has no pipeline named \(name) to check arguments against") }
        let normalized: String
        do {
            normalized = try entry.payload(argumentsJSON: argsJSON).argsJSON
        } catch JobSpecError.badArguments(_, let reason) {
            throw APIError.validation("args: \(reason)", details: [("args", reason)])
        }
        let ledger = jobs.ledger
        let catalog = jobs.catalog
        return try await auditedJobAction(text, action: "job.args_edited") { id, connection in
            let old = try await ledger.replaceDeadArgs(jobId: id, argsJSON: normalized, on: connection)
            let after = try await ledger.retry(jobId: id, catalog: catalog, on: connection)
            return (after, ["oldArgs": .string(old), "newArgs": .string(normalized)])
        }
    }

    func bulkDiscardJobs(_ input: Operations.BulkDiscardJobs.Input) async throws -> Operations.BulkDiscardJobs.Output {
        let staff = try requireStaff()
        guard case .json(let body) = input.body else { throw APIError.unsupportedMediaType("expected application/json") }
        let filter = BulkDiscardFilter(
            pipeline: try Validate.text(body.filter.pipeline, 1...63, "filter.pipeline")!,
            orgId: try body.filter.orgId.map { try Validate.uuid($0, "filter.orgId") },
            errorFingerprint: try Validate.text(body.filter.errorFingerprint, 1...64, "filter.errorFingerprint"),
            exact: body.filter.exact ?? false
        )
        if body.dryRun {
            let result = try await jobs.ledger.bulkDiscard(filter, dryRun: true, on: db)
            return .ok(.init(body: .json(.init(matched: result.matched, discarded: 0))))
        }
        let requestId = request.requestId
        let ledger = jobs.ledger
        let result = try await transaction { connection in
            let result = try await ledger.bulkDiscard(filter, dryRun: false, on: connection)
            var changes: [String: AuditValue] = [
                "pipeline": .string(filter.pipeline), "discarded": .int(result.discarded), "exact": .bool(filter.exact),
            ]
            if let org = filter.orgId { changes["orgId"] = .string(org.uuidString.lowercased()) }
            if let fingerprint = filter.errorFingerprint { changes["errorFingerprint"] = .string(fingerprint) }
            try await recordStaffAudit(by: staff, "jobs.bulk_discarded", on: "job", id: nil, changes: changes, requestId: requestId, in: connection)
            return result
        }
        return .ok(.init(body: .json(.init(matched: result.matched, discarded: result.discarded))))
    }

    func listTenants(_ input: Operations.ListTenants.Input) async throws -> Operations.ListTenants.Output {
        _ = try requireStaff()
        let loads = try await jobs.ledger.tenantLoads(on: db)
        let total = loads.reduce(0) { $0 + $1.runSecondsLastHour }
        let now = Date()
        let tenants = loads.map { load in
            Components.Schemas.TenantLoad(
                orgId: load.orgId?.uuidString.lowercased(),
                name: load.name,
                queued: load.queued,
                running: load.running,
                retrying: load.retrying,
                dead: load.dead,
                runSecondsLastHour: load.runSecondsLastHour,
                shareOfLastHour: total > 0 ? load.runSecondsLastHour / total : 0,
                oldestQueuedAgeSeconds: load.oldestQueuedAt.map { max(0, now.timeIntervalSince($0)) }
            )
        }
        return .ok(.init(body: .json(.init(tenants: tenants))))
    }

    /// JSON text of a request's free-form object, keys sorted.
    static func json(_ object: OpenAPIObjectContainer) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(object), as: UTF8.self)
    }
}

extension Validate {
    /// `args` filters (`key:value`, the value a JSON string, or `key:=json`) as one JSON object for
    /// jsonb containment; nil when there are none.
    static func argsContaining(_ filters: [String]?) throws -> String? {
        guard let filters, !filters.isEmpty else { return nil }
        guard filters.count <= 8 else { throw APIError.validation("args: at most 8 filters", details: [("args", "at most 8 filters")]) }
        var object: [String: Any] = [:]
        for filter in filters {
            guard !filter.unicodeScalars.contains("\u{0}"), filter.unicodeScalars.count <= 300, let colon = filter.firstIndex(of: ":"),
                colon != filter.startIndex
            else {
                throw APIError.validation(
                    "args: expected key:value or key:=json, got \(filter.prefix(60))",
                    details: [("args", "expected key:value")]
                )
            }
            let key = String(filter[..<colon])
            let rest = filter[filter.index(after: colon)...]
            if rest.hasPrefix("=") {
                guard let value = try? JSONSerialization.jsonObject(with: Data(rest.dropFirst().utf8), options: [.fragmentsAllowed]) else {
                    throw APIError.validation("args: the value of \(key) is not JSON", details: [("args", "\(key): not JSON")])
                }
                object[key] = value
            } else {
                object[key] = String(rest)
            }
        }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}

extension APIService {
    func getJobHistory(_ input: Operations.GetJobHistory.Input) async throws -> Operations.GetJobHistory.Output {
        _ = try requireStaff()
        let series = try await jobs.ledger.history(
            byOrg: input.query.by == .org,
            pipeline: try Validate.text(input.query.pipeline, 1...63, "pipeline"),
            org: try input.query.orgId.map { try Validate.uuid($0, "orgId") },
            on: db
        )
        return .ok(
            .init(
                body: .json(
                    .init(
                        series: series.map { entry in
                            .init(
                                key: entry.key,
                                hours: entry.hours.map { .init(hour: $0.hour, done: $0.done, failed: $0.failed, p95RunMs: $0.p95RunMs) }
                            )
                        }
                    )
                )
            )
        )
    }
}

extension APIService {
    func pausePipeline(_ input: Operations.PausePipeline.Input) async throws -> Operations.PausePipeline.Output {
        .ok(.init(body: .json(try await setPaused(input.path.name, true))))
    }

    func resumePipeline(_ input: Operations.ResumePipeline.Input) async throws -> Operations.ResumePipeline.Output {
        .ok(.init(body: .json(try await setPaused(input.path.name, false))))
    }

    /// Pauses or resumes a configured pipeline, audited in the same transaction.
    func setPaused(_ name: String, _ pause: Bool) async throws -> Components.Schemas.PipelinePause {
        let staff = try requireStaff()
        guard name.unicodeScalars.count <= 63, jobs.catalog[name] != nil else { throw APIError.notFound("no pipeline named \(name)") }
        let (ledger, requestId) = (jobs.ledger, request.requestId)
        let changed = try await transaction { connection in
            let changed = pause
                ? try await ledger.pause(pipeline: name, by: staff, on: connection) : try await ledger.resume(pipeline: name, on: connection)
            try await recordStaffAudit(
                by: staff, pause ? "pipeline.paused" : "pipeline.resumed", on: "pipeline", id: name, changes: ["changed": .bool(changed)],
                requestId: requestId, in: connection
            )
            return changed
        }
        return .init(name: name, paused: pause, changed: changed)
    }
}
