import Foundation
import HTTPTypes
import PostgresNIO
import Testing

@testable import Actors

/// The JSON twins of the dashboard's actions: the argument filter on `/internal/jobs`, fix and
/// retry of a dead job, discarding a dead-letter group, the tenants view.
@Suite struct OperatorFixTests {
    /// Five dead `fail` jobs of one org: three with message "alpha", two with "beta".
    static func deadJobs(_ o: Orchestra, org: UUID, staff: String) async throws {
        try await o.withWorker { _ in
            try await o.enqueue("fail", count: 3, orgIds: [org], args: ["retryable": false, "message": "alpha"], token: staff)
            try await o.enqueue("fail", count: 2, orgIds: [org], args: ["retryable": false, "message": "beta"], token: staff)
            try await waitUntil("5 dead", timeout: .seconds(20)) { try await o.states(org: org)["dead"] == 5 }
        }
    }

    @Test func argumentFilterMatchesByContainment() async throws {
        try await Orchestra.run { o in
            let org = try await o.h.makeOrg()
            let staff = try await o.h.staffToken()
            try await Self.deadJobs(o, org: org.id, staff: staff)
            func count(_ query: String) async throws -> Int? {
                let reply = try await o.h.call(.get, "/api/v1/internal/jobs?limit=50&\(query)", token: staff)
                return reply.status == .ok ? (reply.json["items"] as? [[String: Any]])?.count : nil
            }
            #expect(try await count("args=message:alpha") == 3)
            #expect(try await count("args=message:beta&orgId=\(org.idString)") == 2)
            #expect(try await count("args=retryable:=false") == 5)
            #expect(try await count("args=message:alpha&args=retryable:=true") == 0)
            #expect(try await count("args=message:gamma") == 0)
            let listed = try await o.h.call(.get, "/api/v1/internal/jobs?args=message:alpha", token: staff)
            let first = try #require((listed.json["items"] as? [[String: Any]])?.first)
            #expect((first["args"] as? [String: Any])?["message"] as? String == "alpha", "staff listings carry the arguments")
            #expect(try await o.h.call(.get, "/api/v1/internal/jobs?args=nocolon", token: staff).status == .badRequest)
            #expect(try await o.h.call(.get, "/api/v1/internal/jobs?args=count:=nojson", token: staff).status == .badRequest)
            // The containment is one the GIN index serves (with sequential scans priced out, as on a big ledger).
            let plan = try await o.h.db.withConnection { connection in
                _ = try await connection.query("SET enable_seqscan = off", logger: o.logger)
                var lines: [String] = []
                let rows = try await connection.query(#"EXPLAIN SELECT id FROM jobs WHERE args @> '{"message": "alpha"}'::jsonb"#, logger: o.logger)
                for try await line in rows.decode(String.self) { lines.append(line) }
                _ = try await connection.query("RESET enable_seqscan", logger: o.logger)
                return lines.joined(separator: "\n")
            }
            #expect(plan.contains("jobs_args_idx"), "\(plan)")
        }
    }

    @Test func editDeadJobArgumentsThenRetry() async throws {
        try await Orchestra.run { o in
            let org = try await o.h.makeOrg()
            let staff = try await o.h.staffToken()
            try await Self.deadJobs(o, org: org.id, staff: staff)
            let id = try #require(
                try await o.scalar("SELECT id FROM jobs WHERE org_id = \(org.id) AND args->>'message' = 'alpha' LIMIT 1", as: UUID.self)
            ).uuidString.lowercased()
            let path = "/api/v1/internal/jobs/\(id)/args"
            let bad = try await o.h.call(.post, path, token: staff, json: ["args": ["retryable": "not a bool"]])
            #expect(bad.status == .badRequest && bad.errorCode == "VALIDATION_ERROR", "\(bad.text)")
            #expect(try await o.job(UUID(uuidString: id)!).state == .dead, "a refused edit changes nothing")
            let edited = try await o.h.call(.post, path, token: staff, json: ["args": ["retryable": false, "message": "fixed"]])
            #expect(edited.status == .ok && edited.json["state"] as? String == "queued", "\(edited.text)")
            #expect((edited.json["args"] as? [String: Any])?["message"] as? String == "fixed")
            let job = try await o.job(UUID(uuidString: id)!)
            #expect(job.argsJSON.contains("fixed") && job.state == .queued)
            // Only dead jobs: the queued one is refused, naming its state.
            let again = try await o.h.call(.post, path, token: staff, json: ["args": ["message": "x"]])
            #expect(again.status == .conflict && again.text.contains("queued"), "\(again.text)")
            let audit = try await o.scalar(
                """
                SELECT changes->>'oldArgs' || ' -> ' || (changes->>'newArgs') FROM audit_logs
                WHERE action = 'job.args_edited' AND entity_id = \(id) AND actor_id = \(TestEnv.staffEmail)
                """,
                as: String.self
            )
            #expect(audit?.contains("alpha") == true && audit?.contains("fixed") == true, "\(audit ?? "no audit entry")")
            let unknown = try await o.h.call(.post, "/api/v1/internal/jobs/\(UUID().uuidString)/args", token: staff, json: ["args": [:]])
            #expect(unknown.status == .notFound)
        }
    }

    @Test func discardOneDeadLetterGroupAndTenants() async throws {
        try await Orchestra.run { o in
            let org = try await o.h.makeOrg()
            let staff = try await o.h.staffToken()
            try await Self.deadJobs(o, org: org.id, staff: staff)
            let tenants = try await o.h.call(.get, "/api/v1/internal/tenants", token: staff)
            let mine = (tenants.json["tenants"] as? [[String: Any]])?.first { $0["orgId"] as? String == org.idString }
            #expect(mine?["dead"] as? Int == 5 && mine?["name"] as? String == "Test \(org.tag)", "\(tenants.text)")
            #expect((mine?["runSecondsLastHour"] as? Double ?? 0) > 0 && (mine?["shareOfLastHour"] as? Double ?? 0) > 0.99)
            let fingerprint = try #require(
                try await o.scalar("SELECT error_fingerprint FROM jobs WHERE args->>'message' = 'beta' LIMIT 1", as: String.self)
            )
            let filter: [String: Any] = ["pipeline": "fail", "orgId": org.idString, "errorFingerprint": fingerprint, "exact": true]
            let dry = try await o.h.call(.post, "/api/v1/internal/jobs/discard", token: staff, json: ["filter": filter, "dryRun": true])
            #expect(dry.json["matched"] as? Int == 2 && dry.json["discarded"] as? Int == 0, "\(dry.text)")
            #expect(try await o.states(org: org.id)["dead"] == 5)
            let real = try await o.h.call(.post, "/api/v1/internal/jobs/discard", token: staff, json: ["filter": filter, "dryRun": false])
            #expect(real.json["discarded"] as? Int == 2, "\(real.text)")
            #expect(try await o.states(org: org.id) == ["dead": 3, "discarded": 2])
            let platform: [String: Any] = ["pipeline": "fail", "exact": true]
            let none = try await o.h.call(.post, "/api/v1/internal/jobs/discard", token: staff, json: ["filter": platform, "dryRun": true])
            #expect(none.json["matched"] as? Int == 0, "exact: no org means platform jobs only")
            let unknownOrg: [String: Any] = ["filter": ["pipeline": "fail", "orgId": UUID().uuidString], "dryRun": false]
            let nothing = try await o.h.call(.post, "/api/v1/internal/jobs/discard", token: staff, json: unknownOrg)
            #expect(nothing.status == .ok && nothing.json["discarded"] as? Int == 0, "an org that does not exist: nothing to discard, \(nothing.text)")
            let audited = try await o.scalar(
                "SELECT (changes->>'discarded')::int8 FROM audit_logs WHERE action = 'jobs.bulk_discarded' AND request_id = \(real.requestId!)",
                as: Int.self
            )
            #expect(audited == 2)
        }
    }
}
