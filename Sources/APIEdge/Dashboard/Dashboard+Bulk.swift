import Foundation
import Hummingbird

/// Dead-letter bulk actions (retry everything matching a filter, discard a group) and triggering
/// a schedule. A bulk action first shows its dry-run count and runs only when the operator confirms
/// that very number; a count that moved meanwhile is shown again instead of acting on it.
extension Dashboard {
    func bulkAction(_ call: DashboardCall) async throws -> Response {
        let action = call.parameter("action")
        guard action == "retry" || action == "discard" else { throw APIError.notFound("no such action") }
        let pipeline = call.field("pipeline")
        let orgId = call.field("orgId")
        let fingerprint = call.field("errorFingerprint")
        let matched = try await count(action, pipeline: pipeline, orgId: orgId, fingerprint: fingerprint)
        let expected = call.field("expected").flatMap(Int.init)
        if let expected, expected == matched, matched > 0 {
            if action == "retry" {
                let filter = Components.Schemas.BulkRetryRequest.FilterPayload(pipeline: pipeline, orgId: orgId, errorFingerprint: fingerprint)
                _ = try await service.bulkRetryJobs(.init(body: .json(.init(filter: filter, dryRun: false)))).ok
                return Self.redirect("/dashboard/dead-letters?done=bulk-retried")
            }
            _ = try await service.bulkDiscardJobs(.init(body: .json(.init(filter: discardFilter(pipeline, orgId, fingerprint), dryRun: false)))).ok
            return Self.redirect("/dashboard/dead-letters?done=bulk-discarded")
        }
        var data: [String: Any] = [
            "action": action, "retry": action == "retry", "matched": matched, "none": matched == 0,
            "pipeline": pipeline ?? "", "orgId": orgId ?? "", "errorFingerprint": fingerprint ?? "",
        ]
        if let expected, expected != matched { data["moved"] = "The count changed from \(expected) to \(matched) meanwhile; confirm the new number." }
        return page("confirm", data, title: "Confirm", for: call)
    }

    /// The dry run of the action: how many dead jobs it would take now.
    private func count(_ action: String, pipeline: String?, orgId: String?, fingerprint: String?) async throws -> Int {
        if action == "retry" {
            let filter = Components.Schemas.BulkRetryRequest.FilterPayload(pipeline: pipeline, orgId: orgId, errorFingerprint: fingerprint)
            return try await service.bulkRetryJobs(.init(body: .json(.init(filter: filter, dryRun: true)))).ok.body.json.matched
        }
        return try await service.bulkDiscardJobs(.init(body: .json(.init(filter: discardFilter(pipeline, orgId, fingerprint), dryRun: true)))).ok
            .body.json.matched
    }

    /// Discarding takes one group exactly: a missing org or fingerprint means jobs without one.
    private func discardFilter(_ pipeline: String?, _ orgId: String?, _ fingerprint: String?) throws
        -> Components.Schemas.BulkDiscardRequest.FilterPayload
    {
        guard let pipeline else { throw APIError.validation("pipeline: a group has a pipeline") }
        return .init(pipeline: pipeline, orgId: orgId, errorFingerprint: fingerprint, exact: true)
    }

    /// Pause or resume a pipeline, as `POST /internal/pipelines/{name}/pause|resume`.
    func pipelineAction(_ call: DashboardCall) async throws -> Response {
        let action = call.parameter("action")
        guard action == "pause" || action == "resume" else { throw APIError.notFound("no such action") }
        _ = try await service.setPaused(call.parameter("name"), action == "pause")
        return Self.redirect("/dashboard?done=\(action == "pause" ? "paused" : "resumed")")
    }

    func triggerSchedule(_ call: DashboardCall) async throws -> Response {
        _ = try await service.triggerSchedule(.init(path: .init(name: call.parameter("name")))).accepted
        return Self.redirect("/dashboard/schedules?done=triggered")
    }
}
