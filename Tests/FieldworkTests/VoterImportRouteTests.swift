import Foundation
import HTTPTypes
import Pipelines
import PostgresNIO
import Store
import Testing

/// `/imports` over HTTP without a worker: uploads both ways, the size limit, idempotency, roles and tenancy.
@Suite struct VoterImportRouteTests {
    @Test(arguments: StoreKind.allCases) func rawAndMultipartUploadsAreStoredAndQueued(store kind: StoreKind) async throws {
        try await Orchestra.run(pipelines: Importer.pipelines, storageURL: try await TestStores.url(kind)) { o in
            let org = try await o.h.makeOrg()
            let importer = Importer(h: o.h, token: try await o.h.token(org.email(.admin)))
            let store = try makeObjectStore(url: o.config.storageURL)
            let file = VoterFiles.csv(count: 5)

            let raw = try await importer.upload(file, format: "csv", fileName: "parish.csv")
            #expect(raw.status == .accepted, "\(raw.text)")
            #expect(raw.json["status"] as? String == "queued")
            #expect(raw.json["format"] as? String == "csv")
            #expect(raw.json["fileName"] as? String == "parish.csv")
            #expect((raw.json["fileBytes"] as? NSNumber)?.intValue == file.utf8.count)
            #expect(raw.json["createdBy"] as? String == org.userId(.admin))

            let form = try await importer.uploadForm(file, format: "csv", fileName: "from-form.csv")
            #expect(form.status == .accepted, "\(form.text)")
            #expect(form.json["fileName"] as? String == "from-form.csv")
            #expect((form.json["fileBytes"] as? NSNumber)?.intValue == file.utf8.count)

            for reply in [raw, form] {
                let id = try #require(reply.json["id"] as? String)
                let key = "orgs/\(org.idString)/imports/\(id)/source"
                var stored = Data()
                for try await chunk in try await store.get(key, from: 0) { stored.append(contentsOf: chunk.readableBytesView) }
                #expect(String(decoding: stored, as: UTF8.self) == file, "the object holds exactly the uploaded bytes")
                #expect(try await o.jobState(ofImport: id) == "queued", "the import's job committed with its row")
            }
            let list = try await o.h.call(.get, "/api/v1/imports", token: importer.token)
            #expect((list.json["items"] as? [[String: Any]])?.count == 2)

            let bad = try await importer.uploadForm(file, format: "excel")
            #expect(bad.status == .badRequest)
            let noFile = try await o.h.call(
                .post, "/api/v1/imports/voters", token: importer.token,
                raw: "--b\r\nContent-Disposition: form-data; name=\"format\"\r\n\r\ncsv\r\n--b--\r\n",
                headers: [.contentType: "multipart/form-data; boundary=b"]
            )
            #expect(noFile.status == .badRequest, "\(noFile.text)")
            let count = try await o.scalar("SELECT count(*) FROM import_jobs WHERE org_id = \(org.id)", as: Int.self)
            #expect(count == 2, "refused uploads leave no row")
            let objects = try await store.list(prefix: "orgs/\(org.idString)/")
            #expect(objects.count == 2, "refused uploads leave no object: \(objects.map(\.key))")
        }
    }

    @Test func anUploadOverTheLimitIs413AndLeavesNothing() async throws {
        try await Harness.run({ $0.maxUploadBytes = 4096 }) { h in
            let org = try await h.makeOrg()
            let token = try await h.token(org.email(.admin))
            let importer = Importer(h: h, token: token)
            let big = VoterFiles.csv(count: 400)
            let declared = try await importer.upload(big)
            #expect(declared.status == .contentTooLarge)
            #expect(declared.errorCode == "PAYLOAD_TOO_LARGE")

            // Chunked (no Content-Length): cut off while it streams to the store.
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("big-\(UUID().uuidString).csv").path
            try big.write(toFile: path, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let port = try #require(h.client.port)
            let output = try await Child.run([
                "curl", "-s", "-m", "10", "-X", "POST", "-H", "Authorization: Bearer \(token)", "-H", "Content-Type: text/csv",
                "-H", "Transfer-Encoding: chunked", "--data-binary", "@\(path)", "-w", "\n%{http_code}",
                "http://127.0.0.1:\(port)/api/v1/imports/voters?format=csv",
            ])
            #expect(output.hasSuffix("413"), "\(output)")

            let rows = try await h.scalar("SELECT count(*) FROM import_jobs WHERE org_id = \(org.id)", as: Int.self)
            #expect(rows == 0)
            let store = try makeObjectStore(url: try TestEnv.config().storageURL)
            let objects = try await store.list(prefix: "orgs/\(org.idString)/")
            #expect(objects.isEmpty, "no object and no partial file: \(objects.map(\.key))")

            let small = try await importer.upload(VoterFiles.csv(count: 3))
            #expect(small.status == .accepted, "under the limit it passes: \(small.text)")
        }
    }

    @Test func theSameIdempotencyKeyGivesTheSameImportWithinAnOrgOnly() async throws {
        try await Orchestra.run(pipelines: Importer.pipelines) { o in
            let first = try await o.h.makeOrg()
            let second = try await o.h.makeOrg()
            let a = Importer(h: o.h, token: try await o.h.token(first.email(.admin)))
            let b = Importer(h: o.h, token: try await o.h.token(second.email(.admin)))
            let key = "upload-\(UUID().uuidString)"
            let one = try await a.upload(VoterFiles.csv(count: 3), key: key)
            let again = try await a.upload(VoterFiles.csv(count: 4), key: key)
            let other = try await b.upload(VoterFiles.csv(count: 3), key: key)
            #expect(one.status == .accepted && again.status == .accepted && other.status == .accepted)
            #expect(one.json["id"] as? String == again.json["id"] as? String, "same org, same key: same import")
            // A repeated key does not excuse a malformed request: a form without its file part is still a 400.
            let formless = try await a.uploadForm(nil, format: "csv", key: key)
            #expect(formless.status == .badRequest && formless.errorCode == "VALIDATION_ERROR", "\(formless.text)")
            let form = try await a.uploadForm(VoterFiles.csv(count: 2), format: "csv", key: key)
            #expect(form.status == .accepted && form.json["id"] as? String == one.json["id"] as? String, "\(form.text)")
            #expect(other.json["id"] as? String != one.json["id"] as? String, "another org's key is another import")
            #expect(try await o.scalar("SELECT count(*) FROM import_jobs WHERE org_id = \(first.id)", as: Int.self) == 1)
            #expect(try await o.scalar("SELECT count(*) FROM jobs WHERE org_id = \(first.id)", as: Int.self) == 1)
            // Past 24 hours the key names nothing any more.
            try await o.h.db.query(
                "UPDATE import_jobs SET created_at = now() - interval '25 hours' WHERE org_id = \(first.id)", logger: o.logger
            ).consume()
            let later = try await a.upload(VoterFiles.csv(count: 3), key: key)
            #expect(later.status == .accepted, "\(later.text)")
            #expect(later.json["id"] as? String != one.json["id"] as? String)
        }
    }

    @Test func onlyAdminsOfTheOrgReachImports() async throws {
        try await Orchestra.run(pipelines: Importer.pipelines) { o in
            let org = try await o.h.makeOrg()
            let other = try await o.h.makeOrg()
            let admin = Importer(h: o.h, token: try await o.h.token(org.email(.admin)))
            let id = try await admin.start(VoterFiles.csv(count: 2))
            for role in [Role.organizer, .canvasser] {
                let token = try await o.h.token(org.email(role))
                let upload = try await Importer(h: o.h, token: token).upload(VoterFiles.csv(count: 2))
                #expect(upload.status == .forbidden, "\(role) upload")
                #expect(try await o.h.call(.get, "/api/v1/imports", token: token).status == .forbidden)
                #expect(try await o.h.call(.get, "/api/v1/imports/\(id)", token: token).status == .forbidden)
                #expect(try await o.h.call(.post, "/api/v1/imports/\(id)/cancel", token: token).status == .forbidden)
            }
            let stranger = try await o.h.token(other.email(.admin))
            #expect(try await o.h.call(.get, "/api/v1/imports/\(id)", token: stranger).status == .notFound)
            #expect(try await o.h.call(.post, "/api/v1/imports/\(id)/cancel", token: stranger).status == .notFound)
            #expect(try await o.h.call(.get, "/api/v1/imports/\(id)/rejected", token: stranger).status == .notFound)
            #expect(try await o.h.call(.get, "/api/v1/imports/\(id)", token: admin.token).status == .ok)
            #expect(try await o.h.call(.get, "/api/v1/imports/\(id)/rejected", token: admin.token).status == .conflict, "not ended yet")
            #expect(try await o.scalar("SELECT count(*) FROM import_jobs WHERE org_id = \(org.id)", as: Int.self) == 1)
        }
    }

    @Test func cancellingAQueuedImportCancelsItAtOnce() async throws {
        try await Orchestra.run(pipelines: Importer.pipelines) { o in
            let org = try await o.h.makeOrg()
            let admin = Importer(h: o.h, token: try await o.h.token(org.email(.admin)))
            let id = try await admin.start(VoterFiles.csv(count: 2))
            let reply = try await o.h.call(.post, "/api/v1/imports/\(id)/cancel", token: admin.token)
            #expect(reply.status == .ok, "\(reply.text)")
            #expect(reply.json["status"] as? String == "cancelled")
            #expect(reply.json["finishedAt"] is String)
            #expect(try await o.jobState(ofImport: id) == "cancelled")
            #expect(try await o.h.call(.post, "/api/v1/imports/\(id)/cancel", token: admin.token).status == .conflict, "ended")
            let rejected = try await o.h.call(.get, "/api/v1/imports/\(id)/rejected", token: admin.token)
            #expect(rejected.status == .ok && rejected.text == "row,column,reason,original\n")
        }
    }
}
