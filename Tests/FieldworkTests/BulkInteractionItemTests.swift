import Foundation
import HTTPTypes
import Testing

/// One bad item of a bulk submission is rejected with its reason; the others are created.
@Suite struct BulkInteractionItemTests {
    static func item(
        _ voter: String,
        occurredAt: String = "2026-11-20T15:00:00Z",
        channel: String = "door",
        result: String = "not_home"
    )
        -> [String: Any]
    {
        ["clientInteractionUuid": UUID().uuidString.lowercased(), "voterId": voter, "channel": channel, "result": result, "occurredAt": occurredAt]
    }

    @Test func malformedFieldsRejectOnlyTheirItem() async throws {
        try await Harness.run { h in
            let org = try await h.makeOrg()
            let admin = try await h.token(org.email(.admin))
            let voter = try await CampaignTests.voters(h, token: admin, [CampaignTests.voter(0)])[0]
            let batch = [
                Self.item(voter), Self.item(voter, occurredAt: "2026-11-20 15:00"), Self.item(voter, channel: "carrier_pigeon"),
                Self.item(voter, result: "maybe"), Self.item(voter, occurredAt: "2026-02-30T10:00:00Z"), Self.item(voter, channel: "phone"),
            ]
            let reply = try await h.call(.post, "/api/v1/interactions/bulk", token: admin, json: ["interactions": batch])
            #expect(reply.status == .ok, "\(reply.text)")
            let results = reply.json["results"] as? [[String: Any]] ?? []
            let statuses = results.map { $0["status"] as? String }
            #expect(statuses == ["created", "rejected", "rejected", "rejected", "rejected", "created"], "\(reply.text)")
            let uuids = results.map { $0["clientInteractionUuid"] as? String }
            #expect(uuids == batch.map { $0["clientInteractionUuid"] as? String }, "in request order")
            let errors = results.map { $0["error"] as? [String: Any] }
            #expect(errors[1]?["code"] as? String == "VALIDATION_ERROR")
            #expect((errors[1]?["message"] as? String)?.hasPrefix("occurredAt:") == true, "\(reply.text)")
            #expect((errors[2]?["message"] as? String)?.hasPrefix("channel:") == true, "\(reply.text)")
            #expect((errors[3]?["message"] as? String)?.hasPrefix("result:") == true, "\(reply.text)")
            #expect((errors[4]?["message"] as? String)?.hasPrefix("occurredAt:") == true, "\(reply.text)")
            #expect(reply.json["created"] as? Int == 2 && reply.json["rejected"] as? Int == 4 && reply.json["duplicates"] as? Int == 0)
            let listed = try await h.call(.get, "/api/v1/interactions?voterId=\(voter)", token: admin)
            #expect(Set((listed.json["items"] as? [[String: Any]] ?? []).compactMap { $0["channel"] as? String }) == ["door", "phone"])
            #expect((listed.json["items"] as? [Any])?.count == 2)
        }
    }

    /// `-19:37` is a valid RFC 3339 offset (hours 00–23); the instant is stored in UTC.
    @Test func everyValidOffsetIsStoredAsItsUTCInstant() async throws {
        try await Harness.run { h in
            let org = try await h.makeOrg()
            let admin = try await h.token(org.email(.admin))
            let voters = try await CampaignTests.voters(h, token: admin, [CampaignTests.voter(0), CampaignTests.voter(1)])
            let batch = [
                Self.item(voters[0], occurredAt: "2026-11-20T10:00:00-19:37"), Self.item(voters[1], occurredAt: "2026-11-20T10:00:00+23:59"),
            ]
            let reply = try await h.call(.post, "/api/v1/interactions/bulk", token: admin, json: ["interactions": batch])
            #expect(reply.json["created"] as? Int == 2, "\(reply.text)")
            let west = try await h.call(.get, "/api/v1/interactions?voterId=\(voters[0])", token: admin)
            #expect((west.json["items"] as? [[String: Any]])?.first?["occurredAt"] as? String == "2026-11-21T05:37:00Z", "\(west.text)")
            let east = try await h.call(.get, "/api/v1/interactions?voterId=\(voters[1])", token: admin)
            #expect((east.json["items"] as? [[String: Any]])?.first?["occurredAt"] as? String == "2026-11-19T10:01:00Z", "\(east.text)")
            // The same offsets work in query parameters (one transcoder reads every date-time).
            let window = try await h.call(.get, "/api/v1/interactions?from=2026-11-21T05:36:00Z&to=2026-11-20T10:01:00-19:37", token: admin)
            #expect((window.json["items"] as? [[String: Any]])?.compactMap { $0["voterId"] as? String } == [voters[0]], "\(window.text)")
        }
    }
}
