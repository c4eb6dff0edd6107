import Foundation
import Hummingbird

/// Jobs: the filtered, keyset-paged list, one job with every attempt, and its actions.
extension Dashboard {
    static let states = ["scheduled", "queued", "running", "retrying", "succeeded", "dead", "discarded", "cancelled"]
    static let filterNames = ["state", "pipeline", "orgId", "errorFingerprint", "args"]

    func jobsPage(_ call: DashboardCall) async throws -> Response {
        if let id = call.field("id") {
            guard UUID(uuidString: id) != nil else { throw APIError.validation("id: not a job id") }
            return Self.redirect("/dashboard/jobs/\(id.lowercased())")
        }
        let state = call.field("state")
        let args = (call.fields["args"] ?? []).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let query = Operations.ListAllJobs.Input.Query(
            state: try state.map {
                guard let state = Components.Schemas.JobState(rawValue: $0) else { throw APIError.validation("state: not a job state") }
                return state
            },
            pipeline: call.field("pipeline"),
            orgId: call.field("orgId"),
            errorFingerprint: call.field("errorFingerprint"),
            args: args.isEmpty ? nil : args,
            limit: 50,
            cursor: call.field("cursor")
        )
        let page = try await service.listAllJobs(.init(query: query)).ok.body.json
        let rows: [[String: Any]] = page.items.map { job in
            let row: [String: Any] = [
                "id": job.id, "pipeline": job.pipeline, "state": job.state.rawValue, "attempt": job.attempt, "maxAttempts": job.maxAttempts,
                "created": DashboardFormat.time(job.createdAt),
                // Set even when absent: a missing key would be looked up in the page's own fields.
                "orgId": job.orgId ?? "", "error": job.lastError.map { String($0.prefix(160)) } ?? "",
            ]
            return row
        }
        let pipelines = try await service.listPipelines(.init()).ok.body.json.pipelines.map(\.name)
        var data: [String: Any] = [
            "jobs": rows, "empty": rows.isEmpty,
            "states": Self.states.map { ["name": $0, "selected": $0 == state] },
            "pipelines": pipelines.map { ["name": $0, "selected": $0 == call.field("pipeline")] },
            "orgId": call.field("orgId") ?? "", "errorFingerprint": call.field("errorFingerprint") ?? "",
            "args": (args + ["", ""]).prefix(max(2, args.count)).map { ["value": $0] },
        ]
        if let next = page.nextCursor { data["next"] = nextLink(call, cursor: next) }
        if call.field("cursor") != nil { data["first"] = nextLink(call, cursor: nil) }
        return self.page("jobs", data, title: "Jobs", for: call)
    }

    /// This listing's URL with `cursor` (or without one: the newest page).
    private func nextLink(_ call: DashboardCall, cursor: String?) -> String {
        var items: [URLQueryItem] = []
        for name in Self.filterNames {
            for value in call.fields[name] ?? [] where !value.trimmingCharacters(in: .whitespaces).isEmpty {
                items.append(URLQueryItem(name: name, value: value))
            }
        }
        if let cursor { items.append(URLQueryItem(name: "cursor", value: cursor)) }
        var components = URLComponents()
        components.path = "/dashboard/jobs"
        components.queryItems = items
        // URLComponents leaves "+" alone, which a form decoder would read as a space.
        return (components.string ?? "/dashboard/jobs").replacingOccurrences(of: "+", with: "%2B")
    }

    func jobPage(_ call: DashboardCall) async throws -> Response {
        try await jobPage(call, id: call.parameter("id"))
    }

    func jobPage(_ call: DashboardCall, id: String, message: String? = nil, editedArgs: String? = nil, status: HTTPResponse.Status = .ok) async throws
        -> Response
    {
        let job = try await service.getAnyJob(.init(path: .init(jobId: id))).ok.body.json
        let argsText = job.args.flatMap { try? APIService.json($0.additionalProperties) } ?? "{}"
        let progressText = job.progress.flatMap { try? APIService.json($0.additionalProperties) }
        let state = job.state.rawValue
        var data: [String: Any] = [
            "id": job.id, "pipeline": job.pipeline, "state": state, "attempt": job.attempt, "maxAttempts": job.maxAttempts,
            "priority": job.priority, "runAt": DashboardFormat.time(job.runAt), "created": DashboardFormat.time(job.createdAt),
            "started": DashboardFormat.time(job.startedAt), "finished": DashboardFormat.time(job.finishedAt),
            "args": DashboardFormat.prettyJSON(argsText), "editArgs": editedArgs ?? DashboardFormat.prettyJSON(argsText),
            "canRetry": ["dead", "retrying", "cancelled"].contains(state),
            "canCancel": ["scheduled", "queued", "retrying", "running"].contains(state),
            "canDiscard": state == "dead", "canEdit": state == "dead",
            "attempts": (job.attempts ?? []).map { a in
                var row: [String: Any] = [
                    "attempt": a.attempt, "worker": a.workerId, "started": DashboardFormat.time(a.startedAt),
                    "finished": DashboardFormat.time(a.finishedAt), "outcome": a.outcome?.rawValue ?? "running",
                ]
                if let error = a.error { row["error"] = error }
                return row
            },
        ]
        if let org = job.orgId { data["orgId"] = org }
        if let progressText { data["progress"] = DashboardFormat.prettyJSON(progressText) }
        if let error = job.lastError { data["lastError"] = error }
        if let fingerprint = job.errorFingerprint { data["fingerprint"] = fingerprint }
        if let message { data["error"] = message }
        if let done = call.field("done"), let notice = Self.notices[done] { data["notice"] = notice }
        return page("job", data, title: "Job \(job.id.prefix(8))", for: call, status: status)
    }

    /// retry, cancel, discard, or args (replace a dead job's arguments, then retry), as the JSON routes do.
    func jobAction(_ call: DashboardCall) async throws -> Response {
        let id = call.parameter("id")
        let done: String
        do {
            switch call.parameter("action") {
            case "retry":
                _ = try await service.retryJob(.init(path: .init(jobId: id))).ok
                done = "retried"
            case "cancel":
                _ = try await service.cancelJob(.init(path: .init(jobId: id))).ok
                done = "cancelled"
            case "discard":
                _ = try await service.discardJob(.init(path: .init(jobId: id))).ok
                done = "discarded"
            case "args":
                let text = call.fields["args"]?.first ?? ""
                guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)), object is [String: Any] else {
                    return try await jobPage(call, id: id, message: "The arguments must be a JSON object.", editedArgs: text, status: .badRequest)
                }
                _ = try await service.editArgsAndRetry(id, argsJSON: text)
                done = "edited"
            default:
                throw APIError.notFound("no such action")
            }
        } catch let error as APIError where error.status != .notFound {
            return try await jobPage(call, id: id, message: error.message, editedArgs: call.fields["args"]?.first, status: error.status)
        }
        return Self.redirect("/dashboard/jobs/\(id)?done=\(done)")
    }
}
