import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

/// The seed's workflow end to end (issue 12 §4), through HTTP only, against `fieldwork all` started as a
/// process on its own database, Redis prefix and object directory, with the repository's `pipelines/`.
@Suite struct WorkflowTests {
    @Test func theSeedWorkflowRunsEndToEnd() async throws {
        guard let bin = ProcessInfo.processInfo.environment["FIELDWORK_BIN"] else {
            throw TestFailure("FIELDWORK_BIN is not set: ops/test sets it to the built binary")
        }
        try await InfrastructureTests.withScratchDatabase { databaseURL in
            let objects = FileManager.default.temporaryDirectory.appendingPathComponent("workflow-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: objects) }
            let port = 20_000 + Int.random(in: 0..<10_000)
            var environment = ProcessInfo.processInfo.environment
            environment["DATABASE_URL"] = databaseURL
            environment["REDIS_URL"] = InfrastructureTests.redisURL
            environment["REDIS_KEY_PREFIX"] = "fwflow:\(UUID().uuidString.prefix(8)):"
            environment["STORAGE_URL"] = "file://\(objects.path)"
            environment["PIPELINES_DIR"] = Self.repository.appendingPathComponent("pipelines").path
            environment["JWT_SECRET"] = TestEnv.jwtSecret
            environment["JWT_KEY_FILE"] = nil
            environment["FIELDWORK_STAFF"] = "\(TestEnv.staffEmail):\(TestEnv.staffHash)"
            environment["HOST"] = "127.0.0.1"
            environment["PORT"] = String(port)
            environment["SHUTDOWN_GRACE"] = "5"
            environment["LOG_LEVEL"] = "info"
            let child = try Child([bin, "all"], environment: environment)
            defer { child.signal(SIGKILL) }
            let api = WorkflowClient(base: "http://127.0.0.1:\(port)")
            try await waitUntil("the API up", timeout: .seconds(60)) { (try? await api.get("/health").status) == 200 }
            // The fresh database is migrated before the workers and the scheduler start (they prepare statements).
            let output = child.output
            let migrated = try #require(output.range(of: "\"msg\":\"migration applied\"", options: .backwards), "\(output.suffix(3000))")
            let workerStarted = try #require(output.range(of: "\"msg\":\"worker started\""), "\(output.suffix(3000))")
            #expect(migrated.upperBound < workerStarted.lowerBound, "the worker started before the last migration: \(output.suffix(3000))")
            do {
                try await Self.walk(api)
            } catch {
                Issue.record("server output:\n\(child.output.suffix(6_000))")
                throw error
            }
            child.signal(SIGTERM)
            #expect(try await child.wait(timeout: .seconds(15)) == 0)
        }
    }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Staff creates an org; its admin imports a Louisiana file, cuts a list from criteria, assigns it; the
    /// canvasser walks it and submits twice; the admin sees the summary, re-imports with changes, exports.
    static func walk(_ api: WorkflowClient) async throws {
        let tag = UUID().uuidString.prefix(8).lowercased()
        let staff = try await api.post("/api/v1/internal/auth/login", json: ["email": TestEnv.staffEmail, "password": TestEnv.staffPassword])
        let staffToken = try #require(staff.json["accessToken"] as? String, "staff login: \(staff.text)")
        let adminEmail = "admin@\(tag).flow.test"
        let created = try await api.post(
            "/api/v1/internal/organizations",
            json: [
                "name": "Flow \(tag)", "slug": "flow-\(tag)", "timezone": "America/Chicago",
                "admin": ["email": adminEmail, "name": "Flow Admin", "password": TestEnv.password],
            ],
            token: staffToken
        )
        #expect(created.status == 201, "org created: \(created.text)")
        let admin = try await api.token(adminEmail)

        // Import: 40 voters in two parishes, one bad row.
        let file = VoterFileFixture.louisiana(count: 40, phoneSuffix: "0000")
        let imported = try await api.importFile(file, name: "parishes.csv", token: admin)
        #expect(imported["status"] as? String == "succeeded", "import: \(imported)")
        let progress = imported["progress"] as? [String: Any] ?? [:]
        #expect(progress["inserted"] as? Int == 40 && progress["rejected"] as? Int == 1, "counts: \(progress)")

        // A list from criteria: the 20 voters of Orleans.
        let list = try await api.post(
            "/api/v1/lists",
            json: ["name": "Orleans doors", "criteria": ["parishes": ["ORLEANS"]]],
            token: admin
        )
        #expect(list.status == 201, "list: \(list.text)")
        let listId = try #require(list.json["id"] as? String)
        var members = 0
        try await waitUntil("the list populated", timeout: .seconds(60), every: .milliseconds(250)) {
            let current = try await api.get("/api/v1/lists/\(listId)", token: admin).json
            members = current["memberCount"] as? Int ?? 0
            return (current["population"] as? [String: Any])?["status"] as? String == "succeeded"
        }
        #expect(members == 20)

        // A canvasser and an assignment.
        let canvasserEmail = "walker@\(tag).flow.test"
        let member = try await api.post(
            "/api/v1/members",
            json: ["email": canvasserEmail, "name": "Walker", "role": "canvasser", "password": TestEnv.password],
            token: admin
        )
        let canvasserId = try #require((member.json["user"] as? [String: Any])?["id"] as? String, "member: \(member.text)")
        let assignment = try await api.post("/api/v1/assignments", json: ["listId": listId, "canvasserId": canvasserId], token: admin)
        #expect(assignment.status == 201, "assignment: \(assignment.text)")
        let assignmentId = try #require(assignment.json["id"] as? String)

        // The canvasser loads the assignment and its voters in walk order, and submits twice.
        let canvasser = try await api.token(canvasserEmail)
        let mine = try await api.get("/api/v1/me/assignments", token: canvasser).json["items"] as? [[String: Any]] ?? []
        #expect(mine.map { $0["id"] as? String } == [assignmentId])
        let walkList = try await api.get("/api/v1/assignments/\(assignmentId)/voters?limit=100", token: canvasser).json
        let voters = walkList["items"] as? [[String: Any]] ?? []
        #expect(voters.count == 20)
        let now = Date()
        let interactions: [[String: Any]] = voters.prefix(12).enumerated().map { index, voter in
            [
                "clientInteractionUuid": UUID().uuidString.lowercased(),
                "voterId": voter["id"] as? String ?? "",
                "assignmentId": assignmentId,
                "channel": "door",
                "result": index % 3 == 0 ? "not_home" : "canvassed",
                "occurredAt": ISO8601DateFormatter().string(from: now.addingTimeInterval(Double(index - 20) * 60)),
            ]
        }
        let first = try await api.post("/api/v1/interactions/bulk", json: ["interactions": interactions], token: canvasser)
        #expect(first.json["created"] as? Int == 12, "first submission: \(first.text)")
        let again = try await api.post("/api/v1/interactions/bulk", json: ["interactions": interactions], token: canvasser)
        #expect(again.json["created"] as? Int == 0 && again.json["duplicates"] as? Int == 12, "retry: \(again.text)")

        // The admin sees them in the field summary.
        let summary = try await api.get("/api/v1/metrics/field/summary", token: admin)
        let totals = summary.json["totals"] as? [String: Any] ?? [:]
        #expect(totals["attempts"] as? Int == 12 && totals["contacts"] as? Int == 8, "summary: \(summary.text)")

        // A re-import with changed phones updates every voter and keeps the interactions.
        let changed = VoterFileFixture.louisiana(count: 40, phoneSuffix: "9999")
        let reimported = try await api.importFile(changed, name: "parishes-2.csv", token: admin)
        let again2 = reimported["progress"] as? [String: Any] ?? [:]
        #expect(again2["updated"] as? Int == 40 && again2["inserted"] as? Int == 0, "re-import: \(again2)")
        let firstVoter = voters[0]["id"] as? String ?? ""
        let voter = try await api.get("/api/v1/voters/\(firstVoter)", token: admin).json
        #expect((voter["phone"] as? String)?.hasSuffix("9999") == true, "updated phone: \(voter)")
        let kept = try await api.get("/api/v1/interactions?assignmentId=\(assignmentId)&limit=100", token: admin).json["items"] as? [[String: Any]]
        #expect(kept?.count == 12)

        // The interactions export holds exactly those interactions.
        let export = try await api.post("/api/v1/exports", json: ["kind": "interactions"], token: admin)
        #expect(export.status == 202, "export: \(export.text)")
        let exportId = try #require(export.json["id"] as? String)
        try await waitUntil("the export done", timeout: .seconds(60), every: .milliseconds(250)) {
            try await api.get("/api/v1/exports/\(exportId)", token: admin).json["status"] as? String == "succeeded"
        }
        let csv = try await api.get("/api/v1/exports/\(exportId)/download", token: admin)
        #expect(csv.status == 200)
        let rows = csv.text.split(whereSeparator: \.isNewline).dropFirst()
        #expect(rows.count == 12, "export rows: \(csv.text.prefix(2_000))")
        for item in interactions {
            let uuid = item["clientInteractionUuid"] as? String ?? "?"
            #expect(rows.contains { $0.contains(uuid) }, "exported \(uuid)")
        }
    }
}

/// Small Louisiana-style voter files: dBASE header cells, quoted commas, an accent, one row without a last name.
enum VoterFileFixture {
    static func louisiana(count: Int, phoneSuffix: String) -> String {
        var lines = [
            "\"REG_NUMBER,N,10,0\",\"LAST_NAME,C,30\",\"FIRST_NAME,C,30\",\"BIRTH_YEAR,N,4,0\",\"PARISH,C,20\",\"PRECINCT,C,10\","
                + "\"RESIDENCE HOUSE NUMBER,C,10\",\"STREET NAME,C,40\",\"CITY,C,30\",\"ZIP CODE5,C,5\",\"PHONE,C,15\",\"STATUS,C,1\""
        ]
        for index in 0..<count {
            let parish = index % 2 == 0 ? "ORLEANS" : "JEFFERSON"
            let phone = "504555\(phoneSuffix)"
            lines.append(
                "\(9_000_000 + index),\"Boudreaux, \(index)\",Ren\u{e9}e,\(1950 + index),\(parish),\(index % 4 + 1),"
                    + "\(100 + index),Magazine St,New Orleans,70115,\(phone),A"
            )
        }
        lines.append("9999999,,Nobody,1970,ORLEANS,1,1,Nowhere St,New Orleans,70115,5045550000,A")
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}

/// JSON over HTTP to a running server.
struct WorkflowClient: Sendable {
    let base: String

    struct Reply: Sendable {
        let status: Int
        let text: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:] }
    }

    func get(_ path: String, token: String? = nil) async throws -> Reply {
        try await send(post: false, path, body: nil, contentType: nil, token: token)
    }

    func post(_ path: String, json: [String: Any], token: String? = nil) async throws -> Reply {
        let data = try JSONSerialization.data(withJSONObject: json)
        return try await send(post: true, path, body: ByteBuffer(bytes: data), contentType: "application/json", token: token)
    }

    func token(_ email: String) async throws -> String {
        let reply = try await post("/api/v1/auth/login", json: ["email": email, "password": TestEnv.password])
        guard let token = reply.json["accessToken"] as? String else { throw TestFailure("login of \(email): \(reply.status) \(reply.text)") }
        return token
    }

    /// Uploads a voter file as `text/csv` and polls the import until it ends; returns the final ImportJob.
    func importFile(_ file: String, name: String, token: String) async throws -> [String: Any] {
        let reply = try await send(
            post: true,
            "/api/v1/imports/voters?format=louisiana&fileName=\(name)",
            body: ByteBuffer(string: file),
            contentType: "text/csv",
            token: token
        )
        guard reply.status == 202, let id = reply.json["id"] as? String else { throw TestFailure("upload: \(reply.status) \(reply.text)") }
        var job: [String: Any] = [:]
        try await waitUntil("import \(name) done", timeout: .seconds(60), every: .milliseconds(250)) {
            job = try await get("/api/v1/imports/\(id)", token: token).json
            return ["succeeded", "failed", "cancelled"].contains(job["status"] as? String ?? "")
        }
        return job
    }

    private func send(post: Bool, _ path: String, body: ByteBuffer?, contentType: String?, token: String?) async throws -> Reply {
        var request = HTTPClientRequest(url: base + path)
        request.method = post ? .POST : .GET
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        if let body { request.body = .bytes(body) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        return Reply(status: Int(response.status.code), text: String(buffer: bytes))
    }
}
