import Foundation
import HTTPTypes
import Logging
import PostgresNIO
@_spi(TenantAuth) import Store
import Testing

/// Voters, lists, assignments, surveys and bulk interactions over HTTP.
@Suite struct CampaignTests {
    /// Creates `n` voters through the API; returns their ids.
    static func voters(_ h: Harness, token: String, _ specs: [[String: Any]]) async throws -> [String] {
        var ids: [String] = []
        for spec in specs {
            let reply = try await h.call(.post, "/api/v1/voters", token: token, json: spec)
            guard reply.status == .created, let id = reply.json["id"] as? String else { throw TestFailure("voter: \(reply.status) \(reply.text)") }
            ids.append(id)
        }
        return ids
    }

    static func voter(_ n: Int, precinct: String = "P1", street: String = "Main St", house: String = "1") -> [String: Any] {
        [
            "externalId": "EXT-\(UUID().uuidString.prefix(8))-\(n)", "firstName": "First\(n)", "lastName": "Last\(n)", "precinct": precinct,
            "residence": ["houseNumber": house, "streetName": street, "zip5": "70112"], "party": "DEM",
        ]
    }

    /// A list with the given voters, assigned to the org's canvasser; returns (list, assignment).
    static func assigned(_ h: Harness, org: TestOrg, token: String, voterIds: [String]) async throws -> (String, String) {
        let list = try await h.call(.post, "/api/v1/lists", token: token, json: ["name": "Walk \(UUID().uuidString.prefix(4))"])
        let listId = try #require(list.json["id"] as? String)
        let added = try await h.call(.post, "/api/v1/lists/\(listId)/members", token: token, json: ["voterIds": voterIds])
        #expect(added.json["added"] as? Int == voterIds.count, "\(added.text)")
        let assignment = try await h.call(
            .post,
            "/api/v1/assignments",
            token: token,
            json: ["listId": listId, "canvasserId": org.userId(.canvasser)]
        )
        #expect(assignment.status == .created, "\(assignment.text)")
        return (listId, try #require(assignment.json["id"] as? String))
    }

    @Test func votersSearchFilterPageAndConflict() async throws {
        try await Harness.run { h in
            let org = try await h.makeOrg()
            let admin = try await h.token(org.email(.admin))
            var specs = (0..<5).map { Self.voter($0) }
            specs[0]["lastName"] = "Thibodeaux"
            specs[1]["lastName"] = "Thibault"
            specs[2]["precinct"] = "P9"
            specs[4]["firstName"] = "Ozymandias"
            specs[4]["lastName"] = "Landry"
            let ids = try await Self.voters(h, token: admin, specs)
            let dup = try await h.call(.post, "/api/v1/voters", token: admin, json: specs[0])
            #expect(dup.status == .conflict)
            let search = try await h.call(.get, "/api/v1/voters?q=thib&includeTotal=true", token: admin)
            #expect(search.json["total"] as? Int == 2 && (search.json["items"] as? [Any])?.count == 2, "\(search.text)")
            for q in ["ozym", "ozymandias%20la"] {
                let byName = try await h.call(.get, "/api/v1/voters?q=\(q)", token: admin)
                #expect((byName.json["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [ids[4]], "q=\(q): \(byName.text)")
            }
            let byExternal = try await h.call(.get, "/api/v1/voters?q=\(specs[3]["externalId"]!)", token: admin)
            #expect((byExternal.json["items"] as? [[String: Any]])?.first?["id"] as? String == ids[3])
            let precinct = try await h.call(.get, "/api/v1/voters?precinct=P9", token: admin)
            #expect((precinct.json["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [ids[2]])
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await h.call(.get, "/api/v1/voters?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""), token: admin)
                seen += (page.json["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                cursor = page.json["nextCursor"] as? String
            } while cursor != nil
            #expect(Set(seen) == Set(ids) && seen.count == 5, "each voter once across pages")
            let patched = try await h.call(
                .patch,
                "/api/v1/voters/\(ids[4])",
                token: admin,
                json: ["phone": "504 555 0100", "residence": ["unit": "B"]]
            )
            #expect(patched.json["phone"] as? String == "504 555 0100" && (patched.json["residence"] as? [String: Any])?["unit"] as? String == "B")
            #expect((patched.json["residence"] as? [String: Any])?["streetName"] as? String == "Main St", "other fields unchanged")
            // An explicit null is the same as leaving the field out (the spec declares these nullable).
            let nulls = try await h.call(
                .patch,
                "/api/v1/voters/\(ids[4])",
                token: admin,
                json: ["mailing": NSNull(), "status": NSNull(), "residence": NSNull()]
            )
            #expect(nulls.status == .ok && nulls.json["status"] as? String == "active", "\(nulls.text)")
            #expect((nulls.json["residence"] as? [String: Any])?["unit"] as? String == "B")
            #expect(try await h.call(.patch, "/api/v1/voters/\(ids[4])", token: admin, json: ["status": ""]).status == .badRequest)
            #expect(try await h.call(.patch, "/api/v1/voters/\(ids[4])", token: admin, json: ["status": "deceased"]).status == .badRequest)
            for bad: [String: Any] in [
                ["externalId": "has space", "firstName": "a", "lastName": "b"], ["externalId": "x", "firstName": "", "lastName": "b"],
                ["externalId": "x", "firstName": "a", "lastName": "b", "birthYear": 1700],
                ["externalId": "x", "firstName": "a", "lastName": "b", "registrationDate": "2024-02-30"],
            ] {
                #expect(try await h.call(.post, "/api/v1/voters", token: admin, json: bad).status == .badRequest, "\(bad)")
            }
            let canvasser = try await h.token(org.email(.canvasser))
            #expect(try await h.call(.get, "/api/v1/voters", token: canvasser).status == .forbidden)
            #expect(try await h.call(.get, "/api/v1/voters/\(ids[0])", token: canvasser).status == .notFound, "not on an assignment")
        }
    }

    /// A voter with every field reads back the same from create, GET /voters/{id}, the voter
    /// page and the list-member page (the pages decode rows; create builds JSON in Postgres).
    @Test func everyVoterFieldReadsBackTheSame() async throws {
        try await Harness.run { h in
            let org = try await h.makeOrg()
            let admin = try await h.token(org.email(.admin))
            let full: [String: Any] = [
                "externalId": "FULL-\(UUID().uuidString.prefix(8))", "firstName": "Marie", "middleName": "Claire", "lastName": "Boudreaux",
                "suffix": "Jr", "birthYear": 1961, "sex": "F", "race": "W", "party": "DEM", "status": "inactive",
                "residence": [
                    "houseNumber": "12", "houseFraction": "1/2", "streetDirection": "N", "streetName": "Oak St", "unit": "B",
                    "city": "Lafayette", "state": "LA", "zip5": "70501", "zip4": "1234",
                ],
                "mailing": ["houseNumber": "PO 9", "city": "Lafayette", "state": "LA", "zip5": "70502"],
                "parish": "Lafayette", "ward": "3", "precinct": "P12", "congressionalDistrict": "3", "senateDistrict": "24",
                "houseDistrict": "44", "registrationDate": "1990-02-28", "phone": "337-555-0100", "latitude": 30.2241, "longitude": -92.0198,
            ]
            let created = try await h.call(.post, "/api/v1/voters", token: admin, json: full)
            #expect(created.status == .created, "\(created.text)")
            let id = try #require(created.json["id"] as? String)
            let list = try await h.call(.post, "/api/v1/lists", token: admin, json: ["name": "Full"])
            let listId = try #require(list.json["id"] as? String)
            _ = try await h.call(.post, "/api/v1/lists/\(listId)/members", token: admin, json: ["voterIds": [id]])
            let single = try await h.call(.get, "/api/v1/voters/\(id)", token: admin).json
            let paged = (try await h.call(.get, "/api/v1/voters?q=\(full["externalId"]!)", token: admin).json["items"] as? [[String: Any]])?.first
            let member = (try await h.call(.get, "/api/v1/lists/\(listId)/members", token: admin).json["items"] as? [[String: Any]])?.first
            let expected = created.json as NSDictionary
            #expect(single as NSDictionary == expected, "\(single)")
            #expect(paged.map { $0 as NSDictionary } == expected, "\(String(describing: paged))")
            #expect(member.map { $0 as NSDictionary } == expected, "\(String(describing: member))")
            for (key, value) in full where key != "residence" && key != "mailing" {
                #expect((single[key] as? NSObject) == (value as? NSObject), "\(key)")
            }
            #expect((single["mailing"] as? [String: String]) == (full["mailing"] as? [String: String]))
        }
    }

    /// A canvasser sees only their active assignments and the voters on them, in walk order.
    @Test func canvasserVisibilityAndWalkOrder() async throws {
        try await Harness.run { h in
            let org = try await h.makeOrg()
            let organizer = try await h.token(org.email(.organizer))
            let canvasser = try await h.token(org.email(.canvasser))
            let ids = try await Self.voters(
                h,
                token: organizer,
                [
                    Self.voter(0, precinct: "P2", street: "Elm", house: "10"), Self.voter(1, precinct: "P1", street: "Oak", house: "102"),
                    Self.voter(2, precinct: "P1", street: "Oak", house: "12"), Self.voter(3, precinct: "P1", street: "Ash", house: "5"),
                ]
            )
            let outsider = try await Self.voters(h, token: organizer, [Self.voter(9)])[0]
            let (listId, assignment) = try await Self.assigned(h, org: org, token: organizer, voterIds: ids)
            let mine = try await h.call(.get, "/api/v1/me/assignments", token: canvasser)
            #expect((mine.json["items"] as? [[String: Any]])?.first?["id"] as? String == assignment)
            #expect(((mine.json["items"] as? [[String: Any]])?.first?["progress"] as? [String: Int])?["total"] == 4)
            var order: [String] = []
            var cursor: String?
            repeat {
                let page = try await h.call(
                    .get,
                    "/api/v1/assignments/\(assignment)/voters?limit=3" + (cursor.map { "&cursor=\($0)" } ?? ""),
                    token: canvasser
                )
                #expect(page.status == .ok, "\(page.text)")
                order += (page.json["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                cursor = page.json["nextCursor"] as? String
            } while cursor != nil
            #expect(order == [ids[3], ids[2], ids[1], ids[0]], "precinct, street, house number as a number")
            #expect(try await h.call(.get, "/api/v1/voters/\(ids[1])", token: canvasser).status == .ok)
            #expect(try await h.call(.get, "/api/v1/voters/\(outsider)", token: canvasser).status == .notFound)
            // Revoked: the canvasser loses the assignment and its voters.
            #expect(try await h.call(.patch, "/api/v1/assignments/\(assignment)", token: organizer, json: ["status": "revoked"]).status == .ok)
            #expect(try await h.call(.get, "/api/v1/assignments/\(assignment)/voters", token: canvasser).status == .notFound)
            #expect(try await h.call(.get, "/api/v1/voters/\(ids[1])", token: canvasser).status == .notFound)
            #expect((try await h.call(.get, "/api/v1/me/assignments", token: canvasser).json["items"] as? [Any])?.isEmpty == true)
            // Lists with no active assignment can go; the canvasser must be a member.
            #expect(
                try await h.call(.post, "/api/v1/assignments", token: organizer, json: ["listId": listId, "canvasserId": UUID().uuidString]).status
                    == .unprocessableContent
            )
            #expect(try await h.call(.delete, "/api/v1/lists/\(listId)", token: organizer).status == .noContent)
        }
    }

    @Test func listMembersAddRemoveAndLimits() async throws {
        try await Harness.run { h in
            let org = try await h.makeOrg()
            let other = try await h.makeOrg()
            let admin = try await h.token(org.email(.admin))
            let otherAdmin = try await h.token(other.email(.admin))
            let ids = try await Self.voters(h, token: admin, (0..<3).map { Self.voter($0) })
            let foreign = try await Self.voters(h, token: otherAdmin, [Self.voter(7)])[0]
            let list = try await h.call(.post, "/api/v1/lists", token: admin, json: ["name": "Doors"])
            let listId = try #require(list.json["id"] as? String)
            let missing = UUID().uuidString.lowercased()
            let added = try await h.call(
                .post,
                "/api/v1/lists/\(listId)/members",
                token: admin,
                json: ["voterIds": [ids[0], ids[1], foreign, missing]]
            )
            #expect(added.json["added"] as? Int == 2 && added.json["alreadyPresent"] as? Int == 0)
            #expect(Set(added.json["notFound"] as? [String] ?? []) == [foreign, missing], "another org's voter is not found")
            let again = try await h.call(.post, "/api/v1/lists/\(listId)/members", token: admin, json: ["voterIds": [ids[1], ids[2]]])
            #expect(again.json["added"] as? Int == 1 && again.json["alreadyPresent"] as? Int == 1)
            #expect(try await h.call(.get, "/api/v1/lists/\(listId)", token: admin).json["memberCount"] as? Int == 3)
            let removed = try await h.call(.delete, "/api/v1/lists/\(listId)/members", token: admin, json: ["voterIds": [ids[0], foreign]])
            #expect(removed.json["removed"] as? Int == 1)
            #expect(try await h.call(.get, "/api/v1/lists/\(listId)", token: admin).json["memberCount"] as? Int == 2)
            let tooMany = (0..<10_001).map { _ in UUID().uuidString }
            #expect(try await h.call(.post, "/api/v1/lists/\(listId)/members", token: admin, json: ["voterIds": tooMany]).status == .badRequest)
            #expect(try await h.call(.post, "/api/v1/lists/\(listId)/members", token: admin, json: ["voterIds": []]).status == .badRequest)
            let big = try await h.call(.post, "/api/v1/lists/\(listId)/members", token: admin, json: ["voterIds": Array(tooMany.prefix(10_000))])
            #expect(big.status == .ok && (big.json["notFound"] as? [Any])?.count == 10_000)
            // Criteria lists are filled by a job (ListPopulationTests): the list is created at once, its population queued.
            let criteria = try await h.call(.post, "/api/v1/lists", token: admin, json: ["name": "C", "criteria": ["parishes": ["Orleans"]]])
            #expect(criteria.status == .created && criteria.json["source"] as? String == "criteria", "\(criteria.text)")
            #expect(try await h.call(.get, "/api/v1/lists/\(listId)", token: otherAdmin).status == .notFound)
            // The composite foreign keys refuse a cross-org row even in raw SQL.
            await #expect(throws: PSQLError.self) {
                try await h.db.query(
                    "INSERT INTO list_members (org_id, list_id, voter_id) VALUES (\(org.id), \(UUID(uuidString: listId)!), \(UUID(uuidString: foreign)!))",
                    logger: Logger(label: "test")
                ).consume()
            }
        }
    }

    /// Resubmission, overlapping batches and 20 concurrent requests with the same 100 uuids make exactly 100 rows.
    @Test func bulkInteractionsAreIdempotent() async throws {
        try await Harness.run { h in
            let org = try await h.makeOrg()
            let organizer = try await h.token(org.email(.organizer))
            let canvasser = try await h.token(org.email(.canvasser))
            let ids = try await Self.voters(h, token: organizer, (0..<4).map { Self.voter($0) })
            let (_, assignment) = try await Self.assigned(h, org: org, token: organizer, voterIds: ids)
            func item(_ uuid: String, voter: String? = nil) -> [String: Any] {
                [
                    "clientInteractionUuid": uuid, "voterId": voter ?? ids[Int.random(in: 0..<4)], "assignmentId": assignment, "channel": "door",
                    "result": "not_home", "occurredAt": "2026-11-21T15:00:00Z",
                ]
            }
            let uuids = (0..<100).map { _ in UUID().uuidString.lowercased() }
            let batch = uuids.map { item($0) }
            let first = try await h.call(.post, "/api/v1/interactions/bulk", token: canvasser, json: ["interactions": batch])
            #expect(first.json["created"] as? Int == 100, "\(first.text.prefix(500))")
            let firstIds = (first.json["results"] as? [[String: Any]] ?? []).compactMap { $0["interactionId"] as? String }
            let again = try await h.call(.post, "/api/v1/interactions/bulk", token: canvasser, json: ["interactions": batch])
            #expect(again.json["duplicates"] as? Int == 100 && again.json["created"] as? Int == 0)
            #expect((again.json["results"] as? [[String: Any]] ?? []).compactMap { $0["interactionId"] as? String } == firstIds, "original ids")
            let fresh = (0..<100).map { _ in UUID().uuidString.lowercased() }
            let overlap = try await h.call(
                .post,
                "/api/v1/interactions/bulk",
                token: canvasser,
                json: ["interactions": (uuids.suffix(50) + fresh.prefix(50)).map { item($0) }]
            )
            #expect(overlap.json["duplicates"] as? Int == 50 && overlap.json["created"] as? Int == 50)
            let concurrent = fresh.suffix(50) + (0..<50).map { _ in UUID().uuidString.lowercased() }
            let replies = try await withThrowingTaskGroup(of: Harness.Reply.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await h.call(.post, "/api/v1/interactions/bulk", token: canvasser, json: ["interactions": concurrent.map { item($0) }])
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(replies.allSatisfy { $0.status == .ok })
            #expect(replies.map { $0.json["created"] as? Int ?? 0 }.reduce(0, +) == 100, "each uuid created by exactly one request")
            let idsByUuid = replies.map { reply in
                Dictionary(
                    uniqueKeysWithValues: (reply.json["results"] as? [[String: Any]] ?? []).map {
                        ($0["clientInteractionUuid"] as! String, $0["interactionId"] as? String ?? "")
                    }
                )
            }
            #expect(Set(idsByUuid).count == 1, "every response names the same interaction for each uuid")
            let rows = try await h.db.query("SELECT count(*)::int8 FROM interactions WHERE org_id = \(org.id)", logger: Logger(label: "t")).decode(
                Int.self
            )
            for try await n in rows { #expect(n == 250) }
            let progress = try await h.call(.get, "/api/v1/me/assignments", token: canvasser)
            #expect(((progress.json["items"] as? [[String: Any]])?.first?["progress"] as? [String: Int])?["attempted"] == 4)
            let audit = try await h.db.query(
                "SELECT count(*)::int8 FROM events WHERE org_id = \(org.id) AND type = 'interactions.recorded'",
                logger: Logger(label: "t")
            ).decode(Int.self)
            for try await n in audit { #expect(n == 23, "one event per batch") }
        }
    }

    /// Per-item rejection: foreign voters, voters off the canvasser's assignments, bad survey answers; empty and oversized batches are 400.
    @Test func bulkInteractionsRejectPerItem() async throws {
        try await Harness.run { h in
            let org = try await h.makeOrg()
            let other = try await h.makeOrg()
            let admin = try await h.token(org.email(.admin))
            let canvasser = try await h.token(org.email(.canvasser))
            let ids = try await Self.voters(h, token: admin, (0..<2).map { Self.voter($0) })
            let foreign = try await Self.voters(h, token: try await h.token(other.email(.admin)), [Self.voter(5)])[0]
            let (_, assignment) = try await Self.assigned(h, org: org, token: admin, voterIds: [ids[0]])
            let choice = try await h.call(
                .post,
                "/api/v1/survey-questions",
                token: admin,
                json: ["key": "support", "prompt": "Support?", "type": "single_choice", "choices": ["yes", "no"]]
            )
            let scale = try await h.call(
                .post,
                "/api/v1/survey-questions",
                token: admin,
                json: ["key": "enthusiasm", "prompt": "1-10?", "type": "scale", "active": false]
            )
            #expect(
                try await h.call(.post, "/api/v1/survey-questions", token: admin, json: ["key": "support", "prompt": "Again", "type": "text"]).status
                    == .conflict
            )
            let q1 = try #require(choice.json["id"] as? String)
            let q2 = try #require(scale.json["id"] as? String)
            func item(_ voter: String, _ answers: [[String: Any]] = []) -> [String: Any] {
                [
                    "clientInteractionUuid": UUID().uuidString, "voterId": voter, "channel": "door", "result": "canvassed",
                    "occurredAt": "2026-11-21T15:00:00Z", "surveyResponses": answers, "assignmentId": assignment,
                ]
            }
            let reply = try await h.call(
                .post,
                "/api/v1/interactions/bulk",
                token: canvasser,
                json: [
                    "interactions": [
                        item(ids[0], [["questionId": q1, "answer": "yes"]]),
                        item(ids[1]),
                        item(foreign),
                        item(ids[0], [["questionId": q1, "answer": "maybe"]]),
                        item(ids[0], [["questionId": q2, "answer": 5]]),
                        item(ids[0], [["questionId": UUID().uuidString, "answer": "x"]]),
                    ]
                ]
            )
            let statuses = (reply.json["results"] as? [[String: Any]] ?? []).map {
                "\($0["status"]!)" + (($0["error"] as? [String: Any])?["code"].map { ":\($0)" } ?? "")
            }
            #expect(
                statuses == [
                    "created", "rejected:VOTER_NOT_VISIBLE", "rejected:VOTER_NOT_VISIBLE", "rejected:INVALID_ANSWER", "rejected:QUESTION_INACTIVE",
                    "rejected:QUESTION_NOT_FOUND",
                ],
                "\(reply.text)"
            )
            #expect(try await h.call(.post, "/api/v1/interactions/bulk", token: canvasser, json: ["interactions": []]).status == .badRequest)
            let many = (0..<501).map { _ in item(ids[0]) }
            #expect(try await h.call(.post, "/api/v1/interactions/bulk", token: canvasser, json: ["interactions": many]).status == .badRequest)
            // Admins record for any voter of the org; a canvasser lists only their own interactions.
            let adminItem: [String: Any] = [
                "clientInteractionUuid": UUID().uuidString, "voterId": ids[1], "channel": "phone", "result": "refused",
                "occurredAt": "2026-11-21T16:00:00Z",
            ]
            #expect(
                try await h.call(.post, "/api/v1/interactions/bulk", token: admin, json: ["interactions": [adminItem]]).json["created"] as? Int == 1
            )
            let own = try await h.call(.get, "/api/v1/interactions", token: canvasser)
            #expect((own.json["items"] as? [Any])?.count == 1)
            #expect((try await h.call(.get, "/api/v1/interactions", token: admin).json["items"] as? [Any])?.count == 2)
            #expect(try await h.call(.get, "/api/v1/interactions?canvasserId=\(org.userId(.admin))", token: canvasser).status == .forbidden)
            let assigned = try await h.call(.get, "/api/v1/assignments/\(assignment)/voters", token: canvasser)
            #expect((assigned.json["items"] as? [[String: Any]])?.first?["lastResult"] as? String == "canvassed")
        }
    }
}

@Suite struct CampaignRoleTests {
    /// The contract's "who" column: a canvasser gets 403 on every admin/organizer route, an
    /// organizer on admin-only ones, and a staff token on every campaign route.
    @Test func roleMatrix() async throws {
        try await Harness.run { h in
            let org = try await h.makeOrg()
            let canvasser = try await h.token(org.email(.canvasser))
            let organizer = try await h.token(org.email(.organizer))
            let staff = try await h.staffToken()
            let id = UUID().uuidString
            let organizerRoutes: [(HTTPRequest.Method, String, Any?)] = [
                (.get, "/api/v1/voters", nil), (.post, "/api/v1/voters", ["externalId": "x1", "firstName": "a", "lastName": "b"]),
                (.patch, "/api/v1/voters/\(id)", ["firstName": "a"]), (.get, "/api/v1/lists", nil), (.post, "/api/v1/lists", ["name": "n"]),
                (.get, "/api/v1/lists/\(id)", nil), (.patch, "/api/v1/lists/\(id)", ["name": "n"]), (.delete, "/api/v1/lists/\(id)", nil),
                (.get, "/api/v1/lists/\(id)/members", nil), (.post, "/api/v1/lists/\(id)/members", ["voterIds": [id]]),
                (.delete, "/api/v1/lists/\(id)/members", ["voterIds": [id]]), (.get, "/api/v1/assignments", nil),
                (.post, "/api/v1/assignments", ["listId": id, "canvasserId": id]), (.patch, "/api/v1/assignments/\(id)", ["status": "revoked"]),
                (.post, "/api/v1/survey-questions", ["key": "k", "prompt": "p", "type": "text"]),
                (.patch, "/api/v1/survey-questions/\(id)", ["active": false]),
            ]
            for (method, path, body) in organizerRoutes {
                #expect(try await h.call(method, path, token: canvasser, json: body).status == .forbidden, "canvasser \(method) \(path)")
                #expect(try await h.call(method, path, token: staff, json: body).status == .forbidden, "staff \(method) \(path)")
                #expect(try await h.call(method, path, json: body).status == .unauthorized, "anonymous \(method) \(path)")
            }
            for path in ["/api/v1/jobs", "/api/v1/jobs/\(id)", "/api/v1/members"] {
                #expect(try await h.call(.get, path, token: organizer).status == .forbidden, "organizer GET \(path)")
            }
            // Any member may read survey questions, list their own assignments and submit interactions.
            #expect(try await h.call(.get, "/api/v1/survey-questions", token: canvasser).status == .ok)
            #expect(try await h.call(.get, "/api/v1/me/assignments", token: canvasser).status == .ok)
            #expect(try await h.call(.get, "/api/v1/interactions", token: canvasser).status == .ok)
        }
    }
}
