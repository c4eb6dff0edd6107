import Foundation
import Logging
import PostgresNIO
import Testing

/// The references that migrations 0015 and 0016 check once per statement instead of by row-level foreign keys: the same
/// guarantees in raw SQL (another org's rows refused, with the old constraint names), and the same cascades.
@Suite struct ReferenceCheckTests {
    static let logger = Logger(label: "references")

    /// Two orgs of their own, each with its admin's token.
    static func twoOrgs(_ h: Harness) async throws -> (org: TestOrg, admin: String, other: TestOrg, otherAdmin: String) {
        let (org, other) = (try await h.makeOrg(), try await h.makeOrg())
        return (org, try await h.token(org.email(.admin)), other, try await h.token(other.email(.admin)))
    }

    /// Runs `sql`; the constraint a foreign-key violation names, nil if it succeeded.
    static func refusal(_ h: Harness, _ sql: PostgresQuery) async -> String? {
        do {
            try await h.db.query(sql, logger: logger).consume()
            return nil
        } catch let error as PSQLError {
            #expect(error.serverInfo?[.sqlState] == "23503", "\(String(reflecting: error))")
            return error.serverInfo?[.constraintName]
        } catch {
            return "\(error)"
        }
    }

    /// A member's list and voter are checked per statement (migration 0015), not by foreign keys: another org's list or
    /// voter is refused in raw SQL with the old constraint names, and deleting a voter or a list deletes its memberships.
    @Test func listMemberReferencesHoldPerStatement() async throws {
        try await Harness.run { h in
            let (org, admin, other, otherAdmin) = try await Self.twoOrgs(h)
            let ids = try await CampaignTests.voters(h, token: admin, (0..<3).map { CampaignTests.voter($0) }).map { UUID(uuidString: $0)! }
            let foreign = UUID(uuidString: try await CampaignTests.voters(h, token: otherAdmin, [CampaignTests.voter(7)])[0])!
            func makeList(_ token: String) async throws -> UUID {
                let made = try await h.call(.post, "/api/v1/lists", token: token, json: ["name": "Doors"])
                guard made.status == .created, let id = made.json["id"] as? String else { throw TestFailure("list: \(made.text)") }
                return UUID(uuidString: id)!
            }
            let list = try await makeList(admin)
            let otherList = try await makeList(otherAdmin)
            func refusal(_ orgId: UUID, _ listId: UUID, _ voters: [UUID]) async -> String? {
                await Self.refusal(h, "INSERT INTO list_members (org_id, list_id, voter_id) SELECT \(orgId), \(listId), unnest(\(voters))")
            }
            #expect(await refusal(org.id, otherList, [ids[0]]) == "list_members_org_id_list_id_fkey")
            #expect(await refusal(org.id, list, [ids[0], foreign]) == "list_members_org_id_voter_id_fkey")
            #expect(await refusal(other.id, otherList, [foreign, ids[1]]) == "list_members_org_id_voter_id_fkey")
            #expect(await refusal(org.id, UUID(), [ids[0]]) == "list_members_org_id_list_id_fkey")
            #expect(await refusal(org.id, list, ids) == nil)
            func members(_ listId: UUID) async throws -> Int {
                try await h.scalar("SELECT count(*)::int8 FROM list_members WHERE list_id = \(listId)", as: Int.self) ?? -1
            }
            #expect(try await members(list) == 3)
            // A refused statement leaves nothing; a voter's deletion takes its memberships, a list's deletion the rest.
            #expect(await refusal(org.id, list, [foreign]) == "list_members_org_id_voter_id_fkey")
            try await h.db.query("DELETE FROM voters WHERE org_id = \(org.id) AND id = \(ids[0])", logger: Self.logger).consume()
            #expect(try await members(list) == 2)
            #expect(try await h.call(.delete, "/api/v1/lists/\(list.uuidString)", token: admin).status == .noContent)
            #expect(try await members(list) == 0)
            #expect(try await h.scalar("SELECT count(*)::int8 FROM voters WHERE org_id = \(org.id)", as: Int.self) == 2)
        }
    }

    /// An interaction's voter, assignment and list must be of its org and its canvasser a user; a voter or user with
    /// interactions cannot be deleted; deleting an assignment or a list keeps its interactions without the reference.
    @Test func interactionReferencesHoldPerStatement() async throws {
        try await Harness.run { h in
            let (org, admin, other, otherAdmin) = try await Self.twoOrgs(h)
            let voters = try await CampaignTests.voters(h, token: admin, (0..<3).map { CampaignTests.voter($0) })
            let (list, assignment) = try await CampaignTests.assigned(h, org: org, token: admin, voterIds: [voters[0], voters[1]])
            let foreignVoter = try await CampaignTests.voters(h, token: otherAdmin, [CampaignTests.voter(9)])[0]
            let (foreignList, foreignAssignment) = try await CampaignTests.assigned(h, org: other, token: otherAdmin, voterIds: [foreignVoter])
            let canvasser = UUID(uuidString: org.userId(.canvasser))!
            func insert(voter: String, assignment: String? = nil, list: String? = nil, canvasser: UUID = canvasser) async -> String? {
                await Self.refusal(
                    h,
                    """
                    INSERT INTO interactions (org_id, client_interaction_uuid, voter_id, assignment_id, list_id, canvasser_id, channel, result,
                                              occurred_at)
                    VALUES (\(org.id), \(UUID()), \(UUID(uuidString: voter)!), \(assignment.flatMap(UUID.init(uuidString:))),
                            \(list.flatMap(UUID.init(uuidString:))), \(canvasser), 'door', 'canvassed', now())
                    """
                )
            }
            #expect(await insert(voter: foreignVoter) == "interactions_org_id_voter_id_fkey")
            #expect(await insert(voter: UUID().uuidString) == "interactions_org_id_voter_id_fkey")
            #expect(await insert(voter: voters[0], assignment: foreignAssignment) == "interactions_org_id_assignment_id_fkey")
            #expect(await insert(voter: voters[0], list: foreignList) == "interactions_org_id_list_id_fkey")
            #expect(await insert(voter: voters[0], canvasser: UUID()) == "interactions_canvasser_id_fkey")
            #expect(await insert(voter: voters[0], assignment: assignment, list: list) == nil)
            #expect(await insert(voter: voters[1], assignment: assignment, list: list) == nil)
            #expect(try await h.scalar("SELECT count(*)::int8 FROM interactions WHERE org_id = \(org.id)", as: Int.self) == 2)
            #expect(try await h.scalar("SELECT count(*)::int8 FROM voter_latest_results WHERE org_id = \(org.id)", as: Int.self) == 2)
            // NO ACTION: a voter or a user with interactions stays.
            let voterZero = UUID(uuidString: voters[0])!
            #expect(await Self.refusal(h, "DELETE FROM voters WHERE id = \(voterZero)") == "interactions_org_id_voter_id_fkey")
            // A user whom nothing but an interaction names (a canvasser's membership would refuse first).
            let loner = UUID()
            #expect(await Self.refusal(h, "INSERT INTO users (id, email, name) VALUES (\(loner), \("\(loner.uuidString.lowercased())@refs.test"), 'Loner')") == nil)
            #expect(await insert(voter: voters[1], canvasser: loner) == nil)
            #expect(await Self.refusal(h, "DELETE FROM users WHERE id = \(loner)") == "interactions_canvasser_id_fkey")
            // A voter without interactions goes, with its memberships.
            #expect(await Self.refusal(h, "DELETE FROM voters WHERE id = \(UUID(uuidString: voters[2])!)") == nil)
            // SET NULL: the interactions stay, without their assignment, then without their list.
            let assignmentId = UUID(uuidString: assignment)!
            #expect(await Self.refusal(h, "DELETE FROM assignments WHERE id = \(assignmentId)") == nil)
            #expect(try await h.scalar("SELECT count(*)::int8 FROM interactions WHERE org_id = \(org.id) AND assignment_id IS NULL", as: Int.self) == 3)
            #expect(try await h.call(.delete, "/api/v1/lists/\(list)", token: admin).status == .noContent)
            #expect(try await h.scalar("SELECT count(*)::int8 FROM interactions WHERE org_id = \(org.id) AND list_id IS NULL", as: Int.self) == 3)
            #expect(try await h.scalar("SELECT count(*)::int8 FROM voters WHERE org_id = \(org.id)", as: Int.self) == 2)
        }
    }

    /// A voter delete waits only for its own org's writers (migration 0018): while one org's delete is uncommitted,
    /// another org records interactions and adds members at once.
    @Test func aVoterDeleteHoldsUpOnlyItsOwnOrg() async throws {
        try await Harness.run { h in
            let (_, admin, _, otherAdmin) = try await Self.twoOrgs(h)
            let doomed = UUID(uuidString: try await CampaignTests.voters(h, token: admin, [CampaignTests.voter(0)])[0])!
            let voters = try await CampaignTests.voters(h, token: otherAdmin, (1..<3).map { CampaignTests.voter($0) })
            let list = try #require(try await h.call(.post, "/api/v1/lists", token: otherAdmin, json: ["name": "Doors"]).json["id"] as? String)
            try await h.db.withConnection { connection in
                try await connection.query("BEGIN", logger: Self.logger).consume()
                try await connection.query("DELETE FROM voters WHERE id = \(doomed)", logger: Self.logger).consume()
                let item: [String: Any] = [
                    "clientInteractionUuid": UUID().uuidString.lowercased(), "voterId": voters[0], "channel": "door", "result": "canvassed",
                    "occurredAt": "2026-11-20T15:00:00Z",
                ]
                let body = try ForeignKeyRaceTests.json(["interactions": [item]])
                let members = try ForeignKeyRaceTests.json(["voterIds": voters])
                let started = ContinuousClock.now
                let writes = Task {
                    let bulk = try await h.call(.post, "/api/v1/interactions/bulk", token: otherAdmin, raw: body)
                    let added = try await h.call(.post, "/api/v1/lists/\(list)/members", token: otherAdmin, raw: members)
                    return (bulk, added, ContinuousClock.now - started)
                }
                // Were they held up, they would wait for this commit: give them 10 s, then commit either way.
                var done = false
                while !done, ContinuousClock.now - started < .seconds(10) {
                    try await Task.sleep(for: .milliseconds(50))
                    done = try await h.scalar(
                        "SELECT count(*)::int8 FROM list_members WHERE list_id = \(UUID(uuidString: list)!)", as: Int.self) == 2
                }
                try await connection.query("COMMIT", logger: Self.logger).consume()
                let (bulk, added, waited) = try await writes.value
                #expect(bulk.json["created"] as? Int == 1, "\(bulk.text)")
                #expect(added.json["added"] as? Int == 2, "\(added.text)")
                #expect(waited < .seconds(5), "the other org waited \(waited) for an uncommitted voter delete")
            }
            #expect(try await h.scalar("SELECT count(*)::int8 FROM voters WHERE id = \(doomed)", as: Int.self) == 0)
        }
    }
}
