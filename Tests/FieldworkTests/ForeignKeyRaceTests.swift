import Foundation
import HTTPTypes
import Logging
import PostgresNIO
@_spi(TenantAuth) import Store
import Testing

/// A row deleted by a transaction that commits while a request inserts a reference to it: the
/// foreign key refuses the insert, and the caller gets 404 or 409, never a 500.
@Suite struct ForeignKeyRaceTests {
    static let logger = Logger(label: "race")

    /// Runs `statements` in a transaction on a connection of its own, starts `request`, waits until
    /// the request's statement is blocked by that transaction, then commits: the request then finds
    /// the row gone after its own checks saw it.
    static func race(
        _ h: Harness,
        deleting statements: [PostgresQuery],
        _ request: @escaping @Sendable () async throws -> Harness.Reply
    ) async throws -> Harness.Reply {
        try await h.db.withConnection { connection in
            try await connection.query("BEGIN", logger: logger).consume()
            for statement in statements { try await connection.query(statement, logger: logger).consume() }
            var pid: Int32 = 0
            for try await value in try await connection.query("SELECT pg_backend_pid()", logger: logger).decode(Int32.self) { pid = value }
            let reply = Task { try await request() }
            var blocked = false
            for _ in 0..<500 where !blocked {
                let rows = try await h.db.query(
                    "SELECT count(*)::int8 FROM pg_stat_activity WHERE \(pid)::int = ANY(pg_blocking_pids(pid))",
                    logger: logger
                )
                for try await n in rows.decode(Int.self) { blocked = n > 0 }
                if !blocked { try await Task.sleep(for: .milliseconds(20)) }
            }
            try await connection.query("COMMIT", logger: logger).consume()
            #expect(blocked, "the request never waited for the deleting transaction")
            return try await reply.value
        }
    }

    /// A request body as text, so it can cross into the request's task.
    static func json(_ object: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    @Test func assignmentForAListDeletedMeanwhileIs404() async throws {
        try await Harness.run { h in
            let org = try await h.makeOrg()
            let admin = try await h.token(org.email(.admin))
            let list = try #require(try await h.call(.post, "/api/v1/lists", token: admin, json: ["name": "Gone"]).json["id"] as? String)
            let reply = try await Self.race(h, deleting: ["DELETE FROM lists WHERE org_id = \(org.id) AND id = \(UUID(uuidString: list)!)"]) {
                try await h.call(.post, "/api/v1/assignments", token: admin, json: ["listId": list, "canvasserId": org.userId(.canvasser)])
            }
            #expect(reply.status == .notFound && reply.errorCode == "NOT_FOUND", "\(reply.text)")
        }
    }

    @Test func membersAddedToAListDeletedMeanwhileAre404() async throws {
        try await Harness.run { h in
            let org = try await h.makeOrg()
            let admin = try await h.token(org.email(.admin))
            let voters = try await CampaignTests.voters(h, token: admin, [CampaignTests.voter(0)])
            let list = try #require(try await h.call(.post, "/api/v1/lists", token: admin, json: ["name": "Gone"]).json["id"] as? String)
            let listId = try #require(UUID(uuidString: list))
            let reply = try await Self.race(h, deleting: ["DELETE FROM lists WHERE org_id = \(org.id) AND id = \(listId)"]) {
                try await h.call(.post, "/api/v1/lists/\(list)/members", token: admin, json: ["voterIds": voters])
            }
            #expect(reply.status == .notFound && reply.errorCode == "NOT_FOUND", "\(reply.text)")
            // The repository itself, without the list lock the handler takes first: the foreign key
            // refuses the members of a list deleted (and committed) after the caller looked it up.
            let repository = VoterListRepository(logger: Self.logger)
            let second = try #require(try await h.call(.post, "/api/v1/lists", token: admin, json: ["name": "Gone too"]).json["id"] as? String)
            let secondId = try #require(UUID(uuidString: second))
            try await h.db.query("DELETE FROM lists WHERE id = \(secondId)", logger: Self.logger).consume()
            do {
                _ = try await h.db.inTransaction(logger: Self.logger) { connection in
                    try await repository.addMembers([UUID(uuidString: voters[0])!], to: secondId, in: OrgScope(orgId: org.id), on: connection)
                }
                Issue.record("members were added to a deleted list")
            } catch let error as CampaignError {
                #expect(error.httpStatus == 404 && error.message.contains(second), "\(error)")
            }
        }
    }

    @Test func interactionsWhoseAssignmentOrVoterIsDeletedMeanwhileAre409() async throws {
        try await Harness.run { h in
            let org = try await h.makeOrg()
            let admin = try await h.token(org.email(.admin))
            let voters = try await CampaignTests.voters(h, token: admin, (0..<3).map { CampaignTests.voter($0) })
            let (_, assignment) = try await CampaignTests.assigned(h, org: org, token: admin, voterIds: [voters[0], voters[1]])
            func item(_ voter: String, assignment: String? = nil) -> [String: Any] {
                var item: [String: Any] = [
                    "clientInteractionUuid": UUID().uuidString.lowercased(), "voterId": voter, "channel": "door", "result": "canvassed",
                    "occurredAt": "2026-11-20T15:00:00Z",
                ]
                item["assignmentId"] = assignment
                return item
            }
            let batch = try Self.json(["interactions": [item(voters[0], assignment: assignment), item(voters[1])]])
            let assignmentId = try #require(UUID(uuidString: assignment))
            let reply = try await Self.race(h, deleting: ["DELETE FROM assignments WHERE org_id = \(org.id) AND id = \(assignmentId)"]) {
                try await h.call(.post, "/api/v1/interactions/bulk", token: admin, raw: batch)
            }
            #expect(reply.status == .conflict && reply.errorCode == "CONFLICT", "\(reply.text)")
            let message = (reply.json["error"] as? [String: Any])?["message"] as? String
            #expect(message == "an assignment of this batch was deleted while it was recorded; submit the batch again")
            // Submitting again rejects only the item whose assignment is gone.
            let again = try await h.call(.post, "/api/v1/interactions/bulk", token: admin, raw: batch)
            let statuses = (again.json["results"] as? [[String: Any]] ?? []).map {
                "\($0["status"]!)" + (($0["error"] as? [String: Any])?["code"].map { ":\($0)" } ?? "")
            }
            #expect(statuses == ["rejected:ASSIGNMENT_NOT_FOUND", "created"], "\(again.text)")

            let voterId = try #require(UUID(uuidString: voters[2]))
            let lone = try Self.json(["interactions": [item(voters[2])]])
            let voterReply = try await Self.race(h, deleting: ["DELETE FROM voters WHERE org_id = \(org.id) AND id = \(voterId)"]) {
                try await h.call(.post, "/api/v1/interactions/bulk", token: admin, raw: lone)
            }
            #expect(voterReply.status == .conflict && voterReply.errorCode == "CONFLICT", "\(voterReply.text)")
            let rejected = try await h.call(.post, "/api/v1/interactions/bulk", token: admin, raw: lone)
            #expect((rejected.json["results"] as? [[String: Any]])?.first?["status"] as? String == "rejected", "\(rejected.text)")
        }
    }
}
