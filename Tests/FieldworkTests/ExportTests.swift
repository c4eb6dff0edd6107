import Actors
import AsyncHTTPClient
import Foundation
import NIOCore
import Pipelines
import PostgresNIO
@_spi(TenantAuth) import Store
import Testing

/// Exports through HTTP with a real worker, on both stores: the job streams rows into the store, the download streams
/// the CSV (local) or redirects to a signed URL (S3), other orgs see 404, expiry answers 404 and the expiry job deletes
/// the object.
@Suite struct ExportTests {
    static let pipelines = Orchestra.defaultPipelines.merging([
        "export": "name: export\nmax_attempts: 2\nlease: 5s\nper_org_concurrency: 2\nglobal_concurrency: 4\n",
        "export-expiry": "name: export-expiry\nmax_attempts: 1\nlease: 5s\nper_org_concurrency: 1\nglobal_concurrency: 1\n",
    ]) { $1 }

    static func storageURL(_ kind: StoreKind) async throws -> String {
        try await TestStores.url(kind)
    }

    /// Polls the export until its job has written it (or failed).
    static func finished(_ h: Harness, token: String, _ id: String) async throws -> Harness.Reply {
        var last: Harness.Reply?
        try await waitUntil("export \(id) written", timeout: .seconds(60), every: .milliseconds(100)) {
            let reply = try await h.call(.get, "/api/v1/exports/\(id)", token: token)
            last = reply
            return ["succeeded", "failed"].contains(reply.json["status"] as? String)
        }
        return try #require(last)
    }

    /// The CSV of a finished export: streamed by the API, or fetched from the URL it redirects to.
    static func download(_ h: Harness, token: String, _ id: String, kind: StoreKind) async throws -> String {
        let reply = try await h.call(.get, "/api/v1/exports/\(id)/download", token: token)
        switch kind {
        case .local:
            #expect(reply.status == .ok, "\(reply.text)")
            #expect(reply.headers[.contentType]?.hasPrefix("text/csv") == true)
            #expect(reply.headers[.contentDisposition]?.hasPrefix("attachment; filename=\"") == true, "\(reply.headers)")
            return reply.text
        case .s3:
            #expect(reply.status == .found, "\(reply.text)")
            let location = try #require(reply.headers[.location])
            #expect(location.contains("X-Amz-Signature=") && location.contains("response-content-disposition="), "\(reply.headers)")
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: location), timeout: .seconds(30))
            #expect(response.status == .ok)
            return String(buffer: try await response.body.collect(upTo: 16 << 20))
        }
    }

    @Test(arguments: StoreKind.allCases) func voterExportRoundTrip(kind: StoreKind) async throws {
        let storage = try await Self.storageURL(kind)
        try await Orchestra.run(pipelines: Self.pipelines, storageURL: storage) { o in
            let h = o.h
            let org = try await h.makeOrg()
            let admin = try await h.token(org.email(.admin))
            var tricky = CampaignTests.voter(0)
            tricky["firstName"] = "=1+2"
            tricky["lastName"] = "Müller, \"Jr\""
            tricky["phone"] = "+1 555 0100"
            tricky["latitude"] = -30.25
            _ = try await CampaignTests.voters(h, token: admin, [tricky] + (1...24).map { CampaignTests.voter($0) })

            let created = try await h.call(.post, "/api/v1/exports", token: admin, json: ["kind": "voters"])
            #expect(created.status == .accepted, "\(created.text)")
            let id = try #require(created.json["id"] as? String)
            #expect(created.json["status"] as? String == "queued" && created.json["format"] as? String == "csv")
            // No worker yet: the file is not there.
            #expect(try await h.call(.get, "/api/v1/exports/\(id)/download", token: admin).status == .conflict)

            try await o.withWorker { _ in
                let done = try await Self.finished(h, token: admin, id)
                #expect(done.json["status"] as? String == "succeeded", "\(done.text)")
                #expect(done.json["rowCount"] as? Int == 25)
                #expect(done.json["downloadUrl"] as? String == "/api/v1/exports/\(id)/download")
                let expires = try #require(RFC3339Date(done.json["expiresAt"] as? String))
                #expect(abs(expires.timeIntervalSinceNow - 7 * 86_400) < 120, "the default TTL is 7 days")

                let csv = try await Self.download(h, token: admin, id, kind: kind)
                #expect(csv.utf8.count == done.json["byteSize"] as? Int)
                #expect(csv.hasPrefix("\u{FEFF}voterId,externalId,firstName,middleName,lastName,"), "a BOM, then the header")
                let lines = csv.components(separatedBy: "\r\n")
                #expect(lines.count == 27 && lines.last == "", "header, 25 rows, a final CRLF")
                let row = try #require(lines.first { $0.contains("Müller") })
                #expect(row.contains(",\"'=1+2\",,\"Müller, \"\"Jr\"\"\","), "\(row)")
                #expect(row.contains("\"'+1 555 0100\",-30.25,"), "\(row)")

                // Another org sees nothing; a canvasser may not export.
                let other = try await h.makeOrg()
                let stranger = try await h.token(other.email(.admin))
                #expect(try await h.call(.get, "/api/v1/exports/\(id)", token: stranger).status == .notFound)
                #expect(try await h.call(.get, "/api/v1/exports/\(id)/download", token: stranger).status == .notFound)
                let canvasser = try await h.token(org.email(.canvasser))
                #expect(try await h.call(.get, "/api/v1/exports/\(id)", token: canvasser).status == .forbidden)
                #expect(try await h.call(.post, "/api/v1/exports", token: canvasser, json: ["kind": "voters"]).status == .forbidden)

                // Expired: 404 "export expired"; the expiry job deletes the object.
                let exportId = try #require(UUID(uuidString: id))
                try await h.db.query("UPDATE exports SET expires_at = now() - interval '1 second' WHERE id = \(exportId)", logger: o.logger)
                    .consume()
                let expired = try await h.call(.get, "/api/v1/exports/\(id)/download", token: admin)
                #expect(expired.status == .notFound)
                #expect((expired.json["error"] as? [String: Any])?["message"] as? String == "export expired")
                let key = try await Self.objectKey(h, exportId)
                let store = try makeObjectStore(url: storage, environment: TestStores.environment)
                #expect(try await store.head(key) != nil)
                _ = try await o.jobs.enqueueAndPublish([JobSpec(ExportExpiryPipeline.self, .init(), scope: nil)])
                try await waitUntil("the expired export purged", timeout: .seconds(30), every: .milliseconds(100)) {
                    try await Self.isPurged(h, exportId)
                }
                #expect(try await store.head(key) == nil)
                #expect(try await h.call(.get, "/api/v1/exports/\(id)/download", token: admin).status == .notFound)
            }
        }
    }

    @Test func listMembersAndInteractionsExports() async throws {
        try await Orchestra.run(pipelines: Self.pipelines, storageURL: try await Self.storageURL(.local)) { o in
            let h = o.h
            let org = try await h.makeOrg()
            let organizer = try await h.token(org.email(.organizer))
            let voters = try await CampaignTests.voters(h, token: organizer, (0..<3).map { CampaignTests.voter($0) })
            let list = try await h.call(.post, "/api/v1/lists", token: organizer, json: ["name": "Export me"])
            let listId = try #require(list.json["id"] as? String)
            _ = try await h.call(.post, "/api/v1/lists/\(listId)/members", token: organizer, json: ["voterIds": Array(voters[0..<2])])
            let items: [[String: Any]] = [("2026-01-10T12:00:00Z", voters[0]), ("2026-03-10T12:00:00Z", voters[1])].map {
                ["clientInteractionUuid": UUID().uuidString.lowercased(), "voterId": $0.1, "channel": "door", "result": "canvassed",
                 "occurredAt": $0.0, "notes": "@once, said \"hi\""]
            }
            let bulk = try await h.call(.post, "/api/v1/interactions/bulk", token: organizer, json: ["interactions": items])
            #expect(bulk.json["created"] as? Int == 2, "\(bulk.text)")

            // Bad requests: a list export without a list, another org's list, a period on a voter export.
            #expect(try await h.call(.post, "/api/v1/exports", token: organizer, json: ["kind": "list_members"]).status == .badRequest)
            let other = try await h.makeOrg()
            let otherAdmin = try await h.token(other.email(.admin))
            let foreign = try await h.call(.post, "/api/v1/lists", token: otherAdmin, json: ["name": "Theirs"])
            let foreignId = try #require(foreign.json["id"] as? String)
            let refused = try await h.call(.post, "/api/v1/exports", token: organizer, json: ["kind": "list_members", "listId": foreignId])
            #expect(refused.status == .notFound)
            let period = ["kind": "voters", "from": "2026-01-01T00:00:00Z"]
            #expect(try await h.call(.post, "/api/v1/exports", token: organizer, json: period).status == .badRequest)

            let members = try await h.call(.post, "/api/v1/exports", token: organizer, json: ["kind": "list_members", "listId": listId])
            let window = ["kind": "interactions", "from": "2026-02-01T00:00:00Z", "to": "2026-04-01T00:00:00Z"]
            let interactions = try await h.call(.post, "/api/v1/exports", token: organizer, json: window)
            let membersId = try #require(members.json["id"] as? String)
            let interactionsId = try #require(interactions.json["id"] as? String)
            #expect(members.json["listId"] as? String == listId)
            try await o.withWorker { _ in
                let membersDone = try await Self.finished(h, token: organizer, membersId)
                let interactionsDone = try await Self.finished(h, token: organizer, interactionsId)
                #expect(membersDone.json["rowCount"] as? Int == 2, "\(membersDone.text)")
                #expect(interactionsDone.json["rowCount"] as? Int == 1, "\(interactionsDone.text)")
            }
            let memberCSV = try await Self.download(h, token: organizer, membersId, kind: .local)
            #expect(memberCSV.components(separatedBy: "\r\n")[0].hasSuffix(",latitude,longitude,addedAt"))
            let interactionCSV = try await Self.download(h, token: organizer, interactionsId, kind: .local)
            let lines = interactionCSV.components(separatedBy: "\r\n")
            #expect(lines[0].hasPrefix("\u{FEFF}interactionId,clientInteractionUuid,occurredAt,"))
            #expect(lines[1].contains(",2026-03-10T12:00:00Z,") && lines[1].contains(",\"'@once, said \"\"hi\"\"\","), "\(lines[1])")
        }
    }

    static func objectKey(_ h: Harness, _ id: UUID) async throws -> String {
        for try await key in try await h.db.query("SELECT object_key FROM exports WHERE id = \(id)", logger: .init(label: "t")).decode(String.self) {
            return key
        }
        throw TestFailure("no export \(id)")
    }

    static func isPurged(_ h: Harness, _ id: UUID) async throws -> Bool {
        let rows = try await h.db.query("SELECT purged_at IS NOT NULL FROM exports WHERE id = \(id)", logger: .init(label: "t"))
        for try await purged in rows.decode(Bool.self) { return purged }
        return false
    }
}

/// An RFC 3339 date-time the API wrote (whole seconds, `Z`).
func RFC3339Date(_ text: String?) -> Date? {
    text.flatMap { try? Date($0, strategy: .iso8601) }
}
