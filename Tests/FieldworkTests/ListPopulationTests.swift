import Foundation
import HTTPTypes
import Logging
import Pipelines
import PostgresNIO
@_spi(TenantAuth) import Store
import Testing

@testable import Actors

/// Lists filled from criteria by the list-population pipeline, over HTTP with a worker in process.
@Suite struct ListPopulationTests {
    static let pipelines = Orchestra.defaultPipelines.merging([
        "list-population": """
        name: list-population
        max_attempts: 3
        backoff:
          base: 100ms
          cap: 1s
          jitter: full
        timeout: 2m
        lease: 2s
        per_org_concurrency: 2
        global_concurrency: 8
        """
    ]) { $1 }

    /// A voter spec with the fields criteria filter on.
    static func voter(
        _ n: Int,
        parish: String,
        ward: String = "W1",
        precinct: String = "P1",
        party: String = "DEM",
        zip: String = "70112",
        status: String = "active",
        born: Int = 1970
    ) -> [String: Any] {
        [
            "externalId": "LP-\(UUID().uuidString.prefix(8))-\(n)", "firstName": "F\(n)", "lastName": "L\(n)", "parish": parish, "ward": ward,
            "precinct": precinct, "party": party, "status": status, "birthYear": born,
            "residence": ["houseNumber": "\(n)", "streetName": "Main St", "zip5": zip],
        ]
    }

    /// Waits for the list's population to end; returns the list JSON (fails on a failed or cancelled job).
    static func settled(_ h: Harness, list: String, token: String) async throws -> [String: Any] {
        var last: [String: Any] = [:]
        try await waitUntil("population of \(list) ended", timeout: .seconds(60)) {
            last = try await h.call(.get, "/api/v1/lists/\(list)", token: token).json
            let status = (last["population"] as? [String: Any])?["status"] as? String
            if status == "failed" || status == "cancelled" { throw TestFailure("population \(status!): \(last)") }
            return status == "succeeded"
        }
        return last
    }

    /// `POST /lists/{id}/populate` by parishes (expects 202 with a job), then waits for the population;
    /// returns the job id and the settled list JSON.
    static func populate(
        _ h: Harness,
        list: String,
        token: String,
        parishes: [String],
        mode: String
    ) async throws -> (jobId: String, list: [String: Any]) {
        let reply = try await h.call(.post, "/api/v1/lists/\(list)/populate", token: token, json: ["criteria": ["parishes": parishes], "mode": mode])
        #expect(reply.status == .accepted, "\(reply.text)")
        let jobId = try #require(reply.json["jobId"] as? String, "\(reply.text)")
        return (jobId, try await settled(h, list: list, token: token))
    }

    /// Every member id of a list, across pages.
    static func members(_ h: Harness, list: String, token: String) async throws -> Set<String> {
        var ids = Set<String>()
        var cursor: String?
        repeat {
            let page = try await h.call(.get, "/api/v1/lists/\(list)/members?limit=500" + (cursor.map { "&cursor=\($0)" } ?? ""), token: token)
            ids.formUnion((page.json["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
            cursor = page.json["nextCursor"] as? String
        } while cursor != nil
        return ids
    }

    /// Creates a list from `criteria`, waits for it, and checks members and memberCount against `expected`.
    static func expectFill(_ h: Harness, token: String, criteria: [String: Any], expected: Set<String>) async throws {
        let created = try await h.call(.post, "/api/v1/lists", token: token, json: ["name": "C \(UUID().uuidString.prefix(6))", "criteria": criteria])
        #expect(created.status == .created, "\(created.text)")
        #expect(created.json["source"] as? String == "criteria" && created.json["criteria"] != nil, "\(created.text)")
        let population = created.json["population"] as? [String: Any]
        #expect(population?["jobId"] as? String != nil && ["queued", "running", "succeeded"].contains(population?["status"] as? String ?? ""))
        let id = try #require(created.json["id"] as? String)
        let list = try await settled(h, list: id, token: token)
        let members = try await Self.members(h, list: id, token: token)
        #expect(members == expected, "criteria \(criteria)")
        #expect(list["memberCount"] as? Int == expected.count, "memberCount of criteria \(criteria): \(list)")
    }

    @Test func criteriaCombinationsSelectExactlyTheirVoters() async throws {
        try await Orchestra.run(pipelines: Self.pipelines) { o in
            let h = o.h
            let org = try await h.makeOrg()
            let admin = try await h.token(org.email(.admin))
            let specs: [[String: Any]] = [
                Self.voter(0, parish: "ORLEANS", party: "DEM", born: 1960),
                Self.voter(1, parish: "ORLEANS", ward: "W2", precinct: "P2", party: "REP", born: 1975),
                Self.voter(2, parish: "ORLEANS", precinct: "P2", party: "DEM", status: "inactive", born: 1980),
                Self.voter(3, parish: "JEFFERSON", ward: "W2", party: "DEM", zip: "70001", born: 1990),
                Self.voter(4, parish: "JEFFERSON", precinct: "P3", party: "IND", zip: "70001", born: 1955),
                Self.voter(5, parish: "CADDO", party: "DEM", zip: "71101", born: 1981),
            ]
            let ids = try await CampaignTests.voters(h, token: admin, specs)
            func pick(_ indexes: Int...) -> Set<String> { Set(indexes.map { ids[$0] }) }
            try await o.withWorker { _ in
                try await Self.expectFill(h, token: admin, criteria: [:], expected: Set(ids))
                try await Self.expectFill(h, token: admin, criteria: ["parishes": ["ORLEANS"], "parties": ["DEM"]], expected: pick(0, 2))
                try await Self.expectFill(
                    h,
                    token: admin,
                    criteria: ["precincts": ["P1", "P2"], "statuses": ["active"], "birthYearMin": 1960, "birthYearMax": 1980],
                    expected: pick(0, 1)
                )
                try await Self.expectFill(h, token: admin, criteria: ["wards": ["W2"], "zip5": ["70001"]], expected: pick(3))
                try await Self.expectFill(h, token: admin, criteria: ["birthYearMax": 1959], expected: pick(4))
                try await Self.expectFill(h, token: admin, criteria: ["parishes": ["NOWHERE"]], expected: [])
                // Ranges of two voters: every range edge is crossed, and the fill is the same.
                let list = try await h.call(.post, "/api/v1/lists", token: admin, json: ["name": "Ranges"])
                let listId = try #require(list.json["id"] as? String)
                let spec = try JobSpec(
                    ListPopulationPipeline.self,
                    .init(listId: UUID(uuidString: listId)!, criteria: VoterCriteria(parties: ["DEM"]), mode: .replace, chunkSize: 2),
                    scope: OrgScope(orgId: org.id)
                )
                let job = try #require(try await o.jobs.enqueueAndPublish([spec]).first)
                try await waitUntil("ranged population") { try await o.job(job.id).state == .succeeded }
                #expect(try await Self.members(h, list: listId, token: admin) == pick(0, 2, 3, 5))
                let text = try #require(try await o.scalar("SELECT progress::text FROM jobs WHERE id = \(job.id)", as: String.self))
                let progress = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
                // `added` counts the last attempt's inserts: a retry (a lease lost on a loaded machine) finds some already there.
                let attempts = try await o.scalar("SELECT attempt::int8 FROM jobs WHERE id = \(job.id)", as: Int.self)
                let added = progress?["added"] as? Int ?? -1
                #expect(progress?["chunks"] as? Int == 4 && progress?["chunksDone"] as? Int == 4, "\(text)")
                #expect(attempts == 1 ? added == 4 : (0...4).contains(added), "\(text), attempt \(String(describing: attempts))")
            }
        }
    }

    @Test func appendKeepsAndReplaceRemovesMembersButNeverInteractionsOrAssignments() async throws {
        try await Orchestra.run(pipelines: Self.pipelines) { o in
            let h = o.h
            let org = try await h.makeOrg()
            let organizer = try await h.token(org.email(.organizer))
            let ids = try await CampaignTests.voters(
                h,
                token: organizer,
                [Self.voter(0, parish: "A"), Self.voter(1, parish: "A"), Self.voter(2, parish: "B"), Self.voter(3, parish: "C")]
            )
            try await o.withWorker { _ in
                let created = try await h.call(.post, "/api/v1/lists", token: organizer, json: ["name": "Walk", "criteria": ["parishes": ["A"]]])
                let list = try #require(created.json["id"] as? String)
                _ = try await Self.settled(h, list: list, token: organizer)
                // A hand-added member (parish C) and an assignment with an interaction on an A voter.
                _ = try await h.call(.post, "/api/v1/lists/\(list)/members", token: organizer, json: ["voterIds": [ids[3]]])
                let assignment = try await h.call(
                    .post,
                    "/api/v1/assignments",
                    token: organizer,
                    json: ["listId": list, "canvasserId": org.userId(.canvasser)]
                )
                let assignmentId = try #require(assignment.json["id"] as? String)
                let canvasser = try await h.token(org.email(.canvasser))
                let interaction: [String: Any] = [
                    "clientInteractionUuid": UUID().uuidString.lowercased(), "voterId": ids[0], "assignmentId": assignmentId, "channel": "door",
                    "result": "canvassed", "occurredAt": "2026-11-20T15:00:00Z",
                ]
                let bulk = try await h.call(.post, "/api/v1/interactions/bulk", token: canvasser, json: ["interactions": [interaction]])
                #expect(bulk.json["created"] as? Int == 1, "\(bulk.text)")

                let append = try await Self.populate(h, list: list, token: organizer, parishes: ["B"], mode: "append")
                #expect(try await Self.members(h, list: list, token: organizer) == Set([ids[0], ids[1], ids[2], ids[3]]))
                #expect(append.list["memberCount"] as? Int == 4)
                #expect((append.list["population"] as? [String: Any])?["jobId"] as? String == append.jobId)
                // Appending voters who are all members already adds nothing (they are skipped, not refused by the key).
                let again = try await Self.populate(h, list: list, token: organizer, parishes: ["A", "B"], mode: "append")
                #expect(again.list["memberCount"] as? Int == 4)
                #expect(try await Self.members(h, list: list, token: organizer).count == 4)
                let againJob = try #require(UUID(uuidString: again.jobId))
                #expect(try await h.scalar("SELECT attempt::int8 FROM jobs WHERE id = \(againJob)", as: Int.self) == 1, "in one attempt")
                // Rolled up: the field summary counts the list from its member set (ids[0] attempted on 2026-11-20).
                try await FieldSummaryTests.rollUp(h, org: org.id)
                let range = "?from=2026-11-20&to=\(FieldSummaryTests.localDay(0))"
                func progress() async throws -> [String: Any]? {
                    let summary = try await FieldSummaryTests.summary(h, token: organizer, range)
                    return (summary["byList"] as? [[String: Any]])?.first { $0["listId"] as? String == list }
                }
                let before = try await progress()
                #expect(before?["members"] as? Int == 4 && before?["attempted"] as? Int == 1, "\(before ?? [:])")

                let replaced = try await Self.populate(h, list: list, token: organizer, parishes: ["B", "C"], mode: "replace").list
                #expect(try await Self.members(h, list: list, token: organizer) == Set([ids[2], ids[3]]))
                #expect(replaced["memberCount"] as? Int == 2, "\(replaced)")
                #expect((replaced["criteria"] as? [String: Any])?["parishes"] as? [String] == ["B", "C"], "the list records its last criteria")
                // The population rebuilt the list's member set: it is current, and the summary follows the new members.
                let fresh = try await h.db.query(
                    """
                    SELECT count(*)::int8 FROM field_rollup_lists f JOIN lists l ON l.id = f.list_id AND l.members_version = f.members_version
                    WHERE l.id = \(UUID(uuidString: list)!)
                    """
                )
                for try await n in fresh.decode(Int64.self) { #expect(n == 1, "a current member set after the population") }
                let after = try await progress()
                #expect(after?["members"] as? Int == 2 && after?["attempted"] as? Int == 0 && after?["completion"] as? Double == 0, "\(after ?? [:])")

                let assignments = try await h.call(.get, "/api/v1/assignments?listId=\(list)", token: organizer)
                let kept = (assignments.json["items"] as? [[String: Any]])?.first { $0["id"] as? String == assignmentId }
                #expect(kept?["status"] as? String == "active", "the assignment survives replace: \(assignments.text)")
                #expect((kept?["progress"] as? [String: Any])?["total"] as? Int == 2)
                let history = try await h.call(.get, "/api/v1/interactions?voterId=\(ids[0])", token: organizer)
                #expect((history.json["items"] as? [[String: Any]])?.count == 1, "the removed voter's interaction stays: \(history.text)")
            }
        }
    }

    @Test func excludeTerminalUsesEachVotersLatestResult() async throws {
        try await Orchestra.run(pipelines: Self.pipelines) { o in
            let h = o.h
            let org = try await h.makeOrg()
            let admin = try await h.token(org.email(.admin))
            let ids = try await CampaignTests.voters(h, token: admin, (0..<5).map { Self.voter($0, parish: "T") })
            func submit(_ voter: Int, _ result: String, _ at: String) async throws {
                let item: [String: Any] = [
                    "clientInteractionUuid": UUID().uuidString.lowercased(), "voterId": ids[voter], "channel": "door", "result": result,
                    "occurredAt": at,
                ]
                let reply = try await h.call(.post, "/api/v1/interactions/bulk", token: admin, json: ["interactions": [item]])
                #expect(reply.json["created"] as? Int == 1, "\(reply.text)")
            }
            try await submit(0, "moved", "2026-11-01T10:00:00Z")  // terminal: out
            try await submit(1, "deceased", "2026-11-01T10:00:00Z")  // older terminal, newer not: in
            try await submit(1, "not_home", "2026-11-02T10:00:00Z")
            try await submit(2, "hostile", "2026-11-05T10:00:00Z")  // newer terminal; an older one syncs late: still out
            try await submit(2, "canvassed", "2026-11-03T10:00:00Z")
            try await submit(3, "not_home", "2026-11-01T10:00:00Z")  // not terminal: in; voter 4 has none: in
            try await o.withWorker { _ in
                let kept = Set([ids[1], ids[3], ids[4]])
                try await Self.expectFill(h, token: admin, criteria: ["parishes": ["T"], "excludeTerminal": true], expected: kept)
                try await Self.expectFill(h, token: admin, criteria: ["parishes": ["T"], "excludeTerminal": false], expected: Set(ids))
            }
            let latest = try await o.scalar(
                "SELECT result FROM voter_latest_results WHERE org_id = \(org.id) AND voter_id = \(UUID(uuidString: ids[2])!)",
                as: String.self
            )
            #expect(latest == "hostile")
        }
    }

    @Test func aSecondPopulateWhileOneIsUnfinishedIsAConflict() async throws {
        try await Orchestra.run(pipelines: Self.pipelines) { o in
            let h = o.h
            let org = try await h.makeOrg()
            let admin = try await h.token(org.email(.admin))
            _ = try await CampaignTests.voters(h, token: admin, [Self.voter(0, parish: "X"), Self.voter(1, parish: "Y")])
            let created = try await h.call(.post, "/api/v1/lists", token: admin, json: ["name": "Manual"])
            let list = try #require(created.json["id"] as? String)
            #expect(created.json["population"] == nil && created.json["source"] as? String == "manual")
            // No worker yet: the first job stays queued. Two at once: exactly one is accepted.
            let body: [String: Any] = ["criteria": ["parishes": ["X"]], "mode": "append"]
            let path = "/api/v1/lists/\(list)/populate"
            async let first = h.call(.post, path, token: admin, json: ["criteria": ["parishes": ["X"]], "mode": "append"])
            async let second = h.call(.post, path, token: admin, json: ["criteria": ["parishes": ["X"]], "mode": "append"])
            let replies = try await [first, second]
            #expect(Set(replies.map(\.status.code)) == [202, 409], "\(replies.map(\.text))")
            let accepted = try #require(replies.first { $0.status == .accepted }?.json["jobId"] as? String)
            #expect(replies.first { $0.status == .conflict }?.errorCode == "CONFLICT")
            let queued = try await h.call(.get, "/api/v1/lists/\(list)", token: admin)
            let population = queued.json["population"] as? [String: Any]
            #expect(population?["jobId"] as? String == accepted && population?["status"] as? String == "queued", "\(queued.text)")
            #expect(queued.json["source"] as? String == "criteria")
            let third = try await h.call(.post, "/api/v1/lists/\(list)/populate", token: admin, json: body)
            #expect(third.status == .conflict)
            try await o.withWorker { _ in
                let done = try await Self.settled(h, list: list, token: admin)
                #expect(done["memberCount"] as? Int == 1)
            }
            let again = try await h.call(.post, "/api/v1/lists/\(list)/populate", token: admin, json: body)
            #expect(again.status == .accepted, "a finished population frees the list: \(again.text)")
        }
    }

    @Test func rolesValidationAndOtherOrgs() async throws {
        try await Orchestra.run(pipelines: Self.pipelines) { o in
            let h = o.h
            let org = try await h.makeOrg()
            let other = try await h.makeOrg()
            let admin = try await h.token(org.email(.admin))
            let organizer = try await h.token(org.email(.organizer))
            let canvasser = try await h.token(org.email(.canvasser))
            let list = try #require(try await h.call(.post, "/api/v1/lists", token: admin, json: ["name": "Mine"]).json["id"] as? String)
            let theirs = try await h.call(.post, "/api/v1/lists", token: try await h.token(other.email(.admin)), json: ["name": "Theirs"])
            let theirList = try #require(theirs.json["id"] as? String)
            let populate: [String: Any] = ["criteria": ["parishes": ["A"]], "mode": "replace"]

            let denied = try await h.call(.post, "/api/v1/lists", token: canvasser, json: ["name": "No", "criteria": ["parishes": ["A"]]])
            #expect(denied.status == .forbidden && denied.errorCode == "FORBIDDEN")
            #expect(try await h.call(.post, "/api/v1/lists/\(list)/populate", token: canvasser, json: populate).status == .forbidden)
            let foreign = try await h.call(.post, "/api/v1/lists/\(theirList)/populate", token: admin, json: populate)
            #expect(foreign.status == .notFound && foreign.errorCode == "NOT_FOUND" && !foreign.text.contains("Theirs"))
            #expect(try await h.call(.post, "/api/v1/lists/\(UUID())/populate", token: admin, json: populate).status == .notFound)
            #expect(try await o.scalar("SELECT count(*)::int8 FROM jobs WHERE org_id = \(other.id)", as: Int.self) == 0)

            for (criteria, field) in [
                (["shoeSize": ["9"]] as [String: Any], nil as String?),
                (["parishes": "A"], nil),
                (["birthYearMin": "1970"], nil),
                (["statuses": ["retired"]], nil),
                (["birthYearMin": 1990, "birthYearMax": 1980], "criteria.birthYearMin"),
                (["parishes": [String]()], "criteria.parishes"),
                (["zip5": [""]], "criteria.zip5[0]"),
            ] {
                for (path, body) in [
                    ("/api/v1/lists", ["name": "Bad", "criteria": criteria] as [String: Any]),
                    ("/api/v1/lists/\(list)/populate", ["criteria": criteria, "mode": "append"]),
                ] {
                    let reply = try await h.call(.post, path, token: organizer, json: body)
                    #expect(reply.status == .badRequest && reply.errorCode == "VALIDATION_ERROR", "\(path) \(criteria) → \(reply.text)")
                    if let field {
                        let details = (reply.json["error"] as? [String: Any])?["details"] as? [[String: Any]]
                        #expect(details?.contains { $0["path"] as? String == field } == true, "\(reply.text)")
                    }
                }
            }
            let merge: [String: Any] = ["criteria": [String: Any](), "mode": "merge"]
            let badMode = try await h.call(.post, "/api/v1/lists/\(list)/populate", token: organizer, json: merge)
            #expect(badMode.status == .badRequest)
            // Criteria are required and an object: missing or null is refused, not read as "every voter".
            for body in [["mode": "replace"], ["criteria": NSNull(), "mode": "replace"]] as [[String: Any]] {
                let reply = try await h.call(.post, "/api/v1/lists/\(list)/populate", token: organizer, json: body)
                #expect(reply.status == .badRequest && reply.errorCode == "VALIDATION_ERROR", "\(body) → \(reply.text)")
            }
            let enqueued = try await o.scalar("SELECT count(*)::int8 FROM jobs WHERE org_id = \(org.id)", as: Int.self)
            #expect(enqueued == 0, "nothing refused was enqueued")
            let accepted = try await h.call(.post, "/api/v1/lists/\(list)/populate", token: organizer, json: populate)
            #expect(accepted.status == .accepted, "\(accepted.text)")
        }
    }
}
