import Foundation
import HTTPTypes
import PostgresNIO
import Testing

@testable import Actors

/// Pausing a pipeline holds in every worker process within a second: running jobs finish, nothing
/// new is claimed until it is resumed.
@Suite struct PauseTests {
    @Test func pauseHoldsAcrossTwoWorkerProcessesUntilResumed() async throws {
        try await Orchestra.run { o in
            let org = try await o.h.makeOrg()
            let staff = try await o.h.staffToken()
            let workers = [try await o.startWorkerProcess(), try await o.startWorkerProcess()]
            defer {
                for worker in workers {
                    worker.signal(SIGKILL)
                    _ = waitpid(worker.pid, nil, 0)
                }
            }
            try await o.enqueue("sleep", count: 2, orgIds: [org.id], args: ["ms": 1500], token: staff)
            try await waitUntil("two running") { try await o.states(org: org.id)["running"] == 2 }
            let pause = try await o.h.call(.post, "/api/v1/internal/pipelines/sleep/pause", token: staff)
            #expect(pause.status == .ok && pause.json["paused"] as? Bool == true && pause.json["changed"] as? Bool == true, "\(pause.text)")
            let again = try await o.h.call(.post, "/api/v1/internal/pipelines/sleep/pause", token: staff)
            #expect(again.json["changed"] as? Bool == false)
            // Workers read the pauses twice a second; two seconds leave room for a loaded machine.
            try await Task.sleep(for: .seconds(2))
            try await o.enqueue("sleep", count: 6, orgIds: [org.id], args: ["ms": 20], token: staff)
            // The two running jobs finish; the six new ones wait, in both processes, while paused.
            try await waitUntil("the running ones finished", timeout: .seconds(30)) { try await o.states(org: org.id)["succeeded"] == 2 }
            try await Task.sleep(for: .milliseconds(1500))
            #expect(try await o.states(org: org.id) == ["succeeded": 2, "queued": 6])
            let status = try await o.h.call(.get, "/api/v1/internal/pipelines", token: staff)
            let sleep = (status.json["pipelines"] as? [[String: Any]])?.first { $0["name"] as? String == "sleep" }
            #expect(sleep?["paused"] as? Bool == true)
            let browser = try await DashboardBrowser.signIn(o.h)
            #expect(try await browser.get("/dashboard").text.contains("data-pipeline=\"sleep\" data-paused=\"true\""))

            let resumed = try await browser.post("/dashboard/pipelines/sleep/resume")
            #expect(resumed.status == .seeOther)
            try await waitUntil("all done after resuming", timeout: .seconds(10)) { try await o.states(org: org.id) == ["succeeded": 8] }
            let actions = try await all(
                o.h.db.query(
                    "SELECT action FROM audit_logs WHERE action LIKE 'pipeline.%' AND entity_id = 'sleep' ORDER BY at",
                    logger: o.logger
                ).decode(String.self)
            )
            #expect(actions == ["pipeline.paused", "pipeline.paused", "pipeline.resumed"], "\(actions)")
            #expect(try await o.h.call(.post, "/api/v1/internal/pipelines/nope/pause", token: staff).status == .notFound)
        }
    }
}
