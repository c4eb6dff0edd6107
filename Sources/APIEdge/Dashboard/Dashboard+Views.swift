import Foundation
import Hummingbird

/// The read-only views: overview, tenants, dead letters, schedules. Each reads through the same
/// service operation as its `/internal/*` JSON twin, so the page and the JSON never disagree.
extension Dashboard {
    func overview(_ call: DashboardCall) async throws -> Response {
        let pipelines = try await service.listPipelines(.init()).ok.body.json.pipelines
        let workers = try await service.listWorkers(.init()).ok.body.json.workers
        let schedules = try await service.listSchedules(.init()).ok.body.json.schedules
        let rows: [[String: Any]] = pipelines.map { p in
            [
                "name": p.name, "configured": p.configured ?? true, "paused": p.paused ?? false,
                "scheduled": p.counts.scheduled, "queued": p.counts.queued, "running": p.counts.running,
                "retrying": p.counts.retrying, "dead": p.counts.dead, "succeeded": p.counts.succeeded,
                "doneHour": p.lastHour.succeeded, "failedHour": p.lastHour.failed,
                "p50": DashboardFormat.millis(p.lastHour.p50RunMs), "p95": DashboardFormat.millis(p.lastHour.p95RunMs),
                "oldest": DashboardFormat.age(p.oldestQueuedAgeSeconds),
            ]
        }
        let chart = DashboardChart.bars(pipelines.map { ($0.name, $0.lastHour.succeeded, $0.lastHour.failed) })
        let workerRows: [[String: Any]] = workers.map { w in
            ["id": w.id, "host": w.host, "pid": w.pid, "running": w.running, "started": DashboardFormat.time(w.startedAt),
             "heartbeat": DashboardFormat.age(Date().timeIntervalSince(w.lastHeartbeatAt))]
        }
        var data: [String: Any] = ["pipelines": rows, "chart": chart, "workers": workerRows, "hasWorkers": !workers.isEmpty]
        if let done = call.field("done"), let notice = Self.notices[done] { data["notice"] = notice }
        if let leader = schedules.compactMap(\.leader).first { data["leader"] = leader }
        return page("overview", data, title: "Overview", for: call)
    }

    func tenants(_ call: DashboardCall) async throws -> Response {
        let tenants = try await service.listTenants(.init()).ok.body.json.tenants
        let rows: [[String: Any]] = tenants.map { t in
            var row: [String: Any] = [
                "queued": t.queued, "running": t.running, "retrying": t.retrying, "dead": t.dead,
                "runTime": DashboardFormat.age(t.runSecondsLastHour), "share": DashboardFormat.percent(t.shareOfLastHour),
                "shareWidth": Int((t.shareOfLastHour * 100).rounded()), "oldest": DashboardFormat.age(t.oldestQueuedAgeSeconds),
            ]
            if let org = t.orgId {
                row["orgId"] = org
                row["name"] = t.name ?? org
            }
            return row
        }
        return page("tenants", ["tenants": rows, "empty": rows.isEmpty], title: "Tenants", for: call)
    }

    func deadLetters(_ call: DashboardCall) async throws -> Response {
        let groups = try await service.listDeadLetters(.init(query: .init(limit: 200))).ok.body.json.groups
        let rows: [[String: Any]] = groups.map { g in
            var row: [String: Any] = [
                "pipeline": g.pipeline, "count": g.count, "first": DashboardFormat.time(g.firstAt), "last": DashboardFormat.time(g.lastAt),
            ]
            row["orgId"] = g.orgId ?? ""
            row["fingerprint"] = g.errorFingerprint ?? ""
            row["sample"] = g.sampleError.map { String($0.prefix(300)) } ?? ""
            return row
        }
        var data: [String: Any] = ["groups": rows, "empty": rows.isEmpty]
        if let done = call.field("done"), let notice = Self.notices[done] { data["notice"] = notice }
        return page("dead-letters", data, title: "Dead letters", for: call)
    }

    func schedules(_ call: DashboardCall) async throws -> Response {
        let schedules = try await service.listSchedules(.init()).ok.body.json.schedules
        let rows: [[String: Any]] = schedules.map { s in
            ["name": s.name, "pipeline": s.pipeline, "cron": s.cron, "timezone": s.timezone, "perOrg": s.perOrg,
             "last": DashboardFormat.time(s.lastRunAt), "next": DashboardFormat.time(s.nextRunAt)]
        }
        var data: [String: Any] = ["schedules": rows, "empty": rows.isEmpty]
        if let leader = schedules.compactMap(\.leader).first { data["leader"] = leader }
        if let done = call.field("done"), let notice = Self.notices[done] { data["notice"] = notice }
        return page("schedules", data, title: "Schedules", for: call)
    }

    /// What a redirect after an action says (by key, so a crafted link cannot put words on the page).
    static let notices: [String: String] = [
        "retried": "The job was queued again.",
        "cancelled": "The job was cancelled (a running one stops at its next heartbeat).",
        "discarded": "The job was discarded.",
        "edited": "The arguments were replaced and the job queued again.",
        "bulk-retried": "The matching dead jobs were scheduled again.",
        "bulk-discarded": "The group was discarded.",
        "triggered": "The schedule was triggered.",
        "paused": "The pipeline is paused: workers claim none of its jobs (running ones finish).",
        "resumed": "The pipeline is resumed.",
    ]
}
