import APIEdge
import Foundation
import HTTPTypes
import Logging
import PostgresNIO
@_spi(TenantAuth) import Store
import Testing

@testable import Actors

@Suite struct OperatorTests {
    /// Every `/internal/*` operation but staff sign-in: no token → 401, a campaign admin → 403.
    @Test func internalRoutesAreStaffOnly() async throws {
        try await Harness.run { h in
            let org = try await h.makeOrg()
            let admin = try await h.token(org.email(.admin))
            let operations = try await IsolationTests.operations(ids: [:], fallbackId: org.idString, onlyWithIds: false)
                .filter { $0.path.hasPrefix("/api/v1/internal/") && $0.path != "/api/v1/internal/auth/login" }
            #expect(operations.count >= 15)
            for op in operations {
                let method = HTTPRequest.Method(op.method)!
                let anonymous = try await h.call(method, op.path, json: op.body)
                #expect(anonymous.status == .unauthorized, "\(op.method) \(op.path) without a token → \(anonymous.status)")
                let campaign = try await h.call(method, op.path, token: admin, json: op.body)
                #expect(campaign.status == .forbidden, "\(op.method) \(op.path) with a campaign token → \(campaign.status)")
            }
        }
    }

    /// Single-job actions: state rules (409 naming the state), cancel of a running job, audit entries.
    @Test func retryDiscardCancelOverHTTP() async throws {
        try await Orchestra.run { o in
            let org = try await o.h.makeOrg()
            let staff = try await o.h.staffToken()
            try await o.withWorker { _ in
                try await o.enqueue("sleep", count: 1, orgIds: [org.id], args: ["ms": 60_000], token: staff)
                try await waitUntil("running") { try await o.states(org: org.id)["running"] == 1 }
                let id = try #require(try await o.scalar("SELECT id FROM jobs WHERE org_id = \(org.id)", as: UUID.self)).uuidString.lowercased()
                let discard = try await o.h.call(.post, "/api/v1/internal/jobs/\(id)/discard", token: staff)
                #expect(discard.status == .conflict && discard.text.contains("the job is running"), "\(discard.text)")
                let cancel = try await o.h.call(.post, "/api/v1/internal/jobs/\(id)/cancel", token: staff)
                #expect(cancel.status == .ok && cancel.json["state"] as? String == "running", "\(cancel.text)")
                try await waitUntil("cancelled", timeout: .seconds(5)) {
                    try await o.h.call(.get, "/api/v1/internal/jobs/\(id)", token: staff).json["state"] as? String == "cancelled"
                }
                let job = try await o.h.call(.get, "/api/v1/internal/jobs/\(id)", token: staff).json
                let attempts = try #require(job["attempts"] as? [[String: Any]])
                #expect(attempts.count == 1 && attempts[0]["outcome"] as? String == "cancelled" && attempts[0]["workerId"] is String)
                let again = try await o.h.call(.post, "/api/v1/internal/jobs/\(id)/cancel", token: staff)
                #expect(again.status == .conflict && again.text.contains("the job is cancelled"))
                let retry = try await o.h.call(.post, "/api/v1/internal/jobs/\(id)/retry", token: staff)
                #expect(retry.status == .ok && ["queued", "running"].contains(retry.json["state"] as? String ?? ""), "\(retry.text)")
                try await waitUntil("running again") { try await o.states(org: org.id)["running"] == 1 }
                #expect(try await o.h.call(.post, "/api/v1/internal/jobs/\(id)/cancel", token: staff).status == .ok)
                try await waitUntil("cancelled again", timeout: .seconds(5)) { try await o.states(org: org.id)["cancelled"] == 1 }
                let unknown = UUID().uuidString
                #expect(try await o.h.call(.post, "/api/v1/internal/jobs/\(unknown)/retry", token: staff).status == .notFound)
                #expect(try await o.h.call(.get, "/api/v1/internal/jobs/not-a-uuid", token: staff).status == .notFound)
                let actions = try await o.scalar(
                    "SELECT string_agg(action, ',' ORDER BY at) FROM audit_logs WHERE entity_id = \(id) AND actor_kind = 'staff'",
                    as: String.self
                )
                #expect(actions == "job.cancelled,job.retried,job.cancelled")
            }
        }
    }

    /// Dry run counts exactly what the real run retries; the real run is released at the configured rate.
    @Test func bulkRetryDryRunAndRate() async throws {
        try await Orchestra.run { o in
            let a = try await o.h.makeOrg()
            let b = try await o.h.makeOrg()
            let staff = try await o.h.staffToken()
            try await o.withWorker { _ in
                try await o.enqueue("fail", count: 30, orgIds: [a.id], args: ["retryable": false], token: staff)
                try await o.enqueue("fail", count: 5, orgIds: [b.id], args: ["retryable": false], token: staff)
                try await waitUntil("35 dead", timeout: .seconds(20)) { try await o.states()["dead"] == 35 }
            }
            let path = "/api/v1/internal/jobs/retry"
            let filter: [String: Any] = ["orgId": a.idString, "pipeline": "fail"]
            let dry = try await o.h.call(.post, path, token: staff, json: ["filter": filter, "dryRun": true])
            #expect(dry.status == .ok && dry.json["matched"] as? Int == 30 && dry.json["retried"] as? Int == 0, "\(dry.text)")
            #expect(try await o.states()["dead"] == 35, "a dry run changes nothing")
            // BULK_RETRY_RATE is 500/s by default: 30 jobs spread over 58 ms.
            let real = try await o.h.call(.post, path, token: staff, json: ["filter": filter, "dryRun": false])
            #expect(real.status == .ok && real.json["matched"] as? Int == 30 && real.json["retried"] as? Int == 30, "\(real.text)")
            #expect(try await o.states(org: a.id)["scheduled"] == 30)
            #expect(try await o.states(org: b.id)["dead"] == 5)
            let spread = try #require(
                try await o.scalar(
                    "SELECT extract(epoch FROM max(run_at) - min(run_at))::float8 FROM jobs WHERE org_id = \(a.id)",
                    as: Double.self
                )
            )
            #expect(abs(spread - 29.0 / 500) < 0.01, "run_at spread \(spread) s")
            #expect(
                try await o.scalar(
                    "SELECT count(*)::int8 FROM audit_logs WHERE action = 'jobs.bulk_retried' AND request_id = \(real.requestId!)",
                    as: Int.self
                ) == 1
            )
            let bad = try await o.h.call(.post, path, token: staff, json: ["filter": ["orgId": "nope"], "dryRun": true])
            #expect(bad.status == .badRequest)
        }
    }

    @Test func bulkRetryIsPacedForTheWorkers() async throws {
        try await Orchestra.run { o in
            let org = try await o.h.makeOrg()
            let staff = try await o.h.staffToken()
            try await o.withWorker { _ in
                try await o.enqueue("fail", count: 20, orgIds: [org.id], args: ["retryable": false], token: staff)
                try await waitUntil("20 dead", timeout: .seconds(20)) { try await o.states()["dead"] == 20 }
                let rows = try await o.jobs.ledger.bulkRetry(
                    BulkRetryFilter(orgId: org.id),
                    dryRun: false,
                    rate: 10,
                    catalog: o.jobs.catalog,
                    on: o.h.db
                )
                #expect(rows.retried == 20)
                try await waitUntil("all dead again", timeout: .seconds(20)) { try await o.states()["dead"] == 20 }
            }
            // Released at 10 per second: the release times span 1.9 s, and no second attempt started
            // before its job's release time (a late promoter can only slow the replay down).
            let spread = try #require(
                try await o.scalar(
                    "SELECT extract(epoch FROM max(run_at) - min(run_at))::float8 FROM jobs WHERE org_id = \(org.id)",
                    as: Double.self
                )
            )
            #expect(abs(spread - 1.9) < 0.01, "release times span \(spread) s")
            let early = try await o.scalar(
                """
                SELECT count(*)::int8 FROM jobs j JOIN job_attempts a ON a.job_id = j.id AND a.attempt = 2
                WHERE j.org_id = \(org.id) AND a.started_at < j.run_at
                """,
                as: Int.self
            )
            #expect(early == 0, "\(early ?? -1) jobs ran before their release time")
            let started = try #require(
                try await o.scalar(
                    "SELECT extract(epoch FROM max(started_at) - min(started_at))::float8 FROM job_attempts WHERE attempt = 2",
                    as: Double.self
                )
            )
            #expect(started > 1.0, "second attempts spread over \(started) s")
        }
    }

    /// The same failure from two orgs makes two groups; the same failure twice in one org, one group.
    @Test func deadLettersGroupByPipelineOrgAndFingerprint() async throws {
        try await Orchestra.run { o in
            let a = try await o.h.makeOrg()
            let b = try await o.h.makeOrg()
            let staff = try await o.h.staffToken()
            try await o.withWorker { _ in
                try await o.enqueue("fail", count: 2, orgIds: [a.id], args: ["retryable": false], token: staff)
                try await o.enqueue("fail", count: 1, orgIds: [b.id], args: ["retryable": false], token: staff)
                try await o.enqueue("fail", count: 1, orgIds: [a.id], args: ["retryable": false, "message": "quota exceeded"], token: staff)
                try await waitUntil("4 dead", timeout: .seconds(20)) { try await o.states()["dead"] == 4 }
            }
            let reply = try await o.h.call(.get, "/api/v1/internal/dead-letters", token: staff)
            let groups = try #require(reply.json["groups"] as? [[String: Any]])
            #expect(groups.count == 3, "\(reply.text)")
            let key = { (g: [String: Any]) in "\(g["orgId"] as? String ?? "")|\(g["count"] as? Int ?? 0)" }
            #expect(Set(groups.map(key)) == ["\(a.idString)|2", "\(b.idString)|1", "\(a.idString)|1"])
            let generic = groups.filter { ($0["sampleError"] as? String)?.contains("diagnostic failure") == true }
            #expect(Set(generic.compactMap { $0["errorFingerprint"] as? String }).count == 1, "same failure, same fingerprint")
            #expect(groups.allSatisfy { $0["firstAt"] is String && $0["lastAt"] is String && $0["pipeline"] as? String == "fail" })
            // The fingerprint filters the job list exactly.
            let fingerprint = try #require(generic.first?["errorFingerprint"] as? String)
            let listed = try await o.h.call(.get, "/api/v1/internal/jobs?errorFingerprint=\(fingerprint)", token: staff)
            #expect((listed.json["items"] as? [Any])?.count == 3)
        }
    }

    /// Filters and cursor paging return exactly the expected ids, newest first.
    @Test func jobListFiltersAndPaging() async throws {
        try await Orchestra.run { o in
            let a = try await o.h.makeOrg()
            let b = try await o.h.makeOrg()
            let staff = try await o.h.staffToken()
            var expected: [String] = []
            for _ in 0..<5 {
                let job = try await o.jobs.enqueueAndPublish([JobSpec(pipeline: "sleep", orgId: a.id)])[0]
                expected.append(job.id.uuidString.lowercased())
            }
            _ = try await o.jobs.enqueueAndPublish([JobSpec(pipeline: "noop", orgId: a.id), JobSpec(pipeline: "sleep", orgId: b.id)])
            var seen: [String] = []
            var cursor: String?
            repeat {
                var path = "/api/v1/internal/jobs?pipeline=sleep&orgId=\(a.idString)&state=queued&limit=2"
                if let cursor { path += "&cursor=\(cursor)" }
                let page = try await o.h.call(.get, path, token: staff)
                #expect(page.status == .ok, "\(page.text)")
                seen += (page.json["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                cursor = page.json["nextCursor"] as? String
            } while cursor != nil
            #expect(seen == expected.reversed(), "newest first, each once")
            #expect(try await o.h.call(.get, "/api/v1/internal/jobs?state=bogus", token: staff).status == .badRequest)
            #expect(try await o.h.call(.get, "/api/v1/internal/jobs?orgId=nope", token: staff).status == .badRequest)

            // The tenant view: admin only, own org only.
            let adminA = try await o.h.token(a.email(.admin))
            let mine = try await o.h.call(.get, "/api/v1/jobs?limit=500", token: adminA)
            #expect((mine.json["items"] as? [Any])?.count == 6 && !mine.text.contains(b.idString))
            let bJob = try #require(try await o.scalar("SELECT id FROM jobs WHERE org_id = \(b.id)", as: UUID.self))
            #expect(try await o.h.call(.get, "/api/v1/jobs/\(bJob.uuidString.lowercased())", token: adminA).status == .notFound)
            #expect(try await o.h.call(.get, "/api/v1/jobs/\(expected[0])", token: adminA).json["id"] as? String == expected[0])
            for role in [Role.organizer, .canvasser] {
                let token = try await o.h.token(a.email(role))
                #expect(try await o.h.call(.get, "/api/v1/jobs", token: token).status == .forbidden)
            }
            #expect(try await o.h.call(.get, "/api/v1/jobs", token: staff).status == .forbidden)
        }
    }

    /// Pipelines, workers (a killed worker leaves the list), schedules and org health.
    @Test func pipelinesWorkersSchedulesAndHealth() async throws {
        var pipelines = Orchestra.defaultPipelines
        pipelines["noop"] = """
            name: noop
            lease: 1s
            schedule:
              cron: "0 2 * * *"
              timezone: America/Chicago
              per_org: true
            """
        try await Orchestra.run(pipelines: pipelines) { o in
            let org = try await o.h.makeOrg()
            let staff = try await o.h.staffToken()
            let worker = try await o.startWorkerProcess()
            defer {
                worker.signal(SIGKILL)
                _ = waitpid(worker.pid, nil, 0)
            }
            try await o.enqueue("noop", count: 3, orgIds: [org.id], token: staff)
            try await o.enqueue("fail", count: 1, orgIds: [org.id], args: ["retryable": false], token: staff)
            try await waitUntil("done", timeout: .seconds(20)) { try await o.states(org: org.id) == ["succeeded": 3, "dead": 1] }

            let status = try await o.h.call(.get, "/api/v1/internal/pipelines", token: staff)
            let list = try #require(status.json["pipelines"] as? [[String: Any]])
            let noop = try #require(list.first { $0["name"] as? String == "noop" })
            #expect((noop["counts"] as? [String: Int])?["succeeded"] == 3)
            #expect((noop["lastHour"] as? [String: Any])?["succeeded"] as? Int == 3)
            #expect((noop["lastHour"] as? [String: Any])?["p95RunMs"] is Double)
            #expect(((noop["config"] as? [String: Any])?["schedule"] as? [String: Any])?["perOrg"] as? Bool == true)
            let fail = try #require(list.first { $0["name"] as? String == "fail" })
            #expect((fail["counts"] as? [String: Int])?["dead"] == 1 && (fail["lastHour"] as? [String: Any])?["failed"] as? Int == 1)

            let workers = try await o.h.call(.get, "/api/v1/internal/workers", token: staff)
            let entries = try #require(workers.json["workers"] as? [[String: Any]])
            #expect(entries.count == 1 && entries[0]["pid"] as? Int == Int(worker.pid))
            worker.signal(SIGKILL)
            try await waitUntil("the killed worker leaves the list", timeout: .seconds(5)) {
                (try await o.h.call(.get, "/api/v1/internal/workers", token: staff).json["workers"] as? [Any])?.isEmpty == true
            }

            var schedules = try await o.h.call(.get, "/api/v1/internal/schedules", token: staff)
            var schedule = try #require((schedules.json["schedules"] as? [[String: Any]])?.first)
            #expect(schedule["name"] as? String == "noop" && schedule["nextRunAt"] is String && schedule["leader"] == nil)
            let scheduler = try Scheduler(jobs: o.jobs, databaseURL: o.config.databaseURL, tick: .milliseconds(100), logger: o.logger)
            let task = Task { await scheduler.run() }
            try await waitUntil("leader") { scheduler.isLeader }
            schedules = try await o.h.call(.get, "/api/v1/internal/schedules", token: staff)
            schedule = try #require((schedules.json["schedules"] as? [[String: Any]])?.first)
            #expect(schedule["leader"] as? String == scheduler.id)
            task.cancel()
            await task.value
            let trigger = try await o.h.call(.post, "/api/v1/internal/schedules/noop/trigger", token: staff)
            #expect(trigger.status == .accepted && (trigger.json["jobIds"] as? [Any])?.count == 1, "\(trigger.text)")
            #expect(try await o.h.call(.post, "/api/v1/internal/schedules/nope/trigger", token: staff).status == .notFound)
            #expect(try await o.scalar("SELECT count(*)::int8 FROM audit_logs WHERE action = 'schedule.triggered'", as: Int.self) == 1)

            let health = try await o.h.call(.get, "/api/v1/internal/organizations/\(org.idString)/health", token: staff)
            #expect(health.status == .ok, "\(health.text)")
            #expect((health.json["counts"] as? [String: Int]) == ["voters": 0, "lists": 0, "interactions": 0, "members": 3])
            let jobs = try #require(health.json["jobs"] as? [String: Any])
            #expect(jobs["dead"] as? Int == 1 && jobs["queued"] as? Int == 1, "\(jobs)")  // the triggered job waits: no worker
            #expect(try await o.h.call(.get, "/api/v1/internal/organizations/\(UUID().uuidString)/health", token: staff).status == .notFound)
        }
    }
}
