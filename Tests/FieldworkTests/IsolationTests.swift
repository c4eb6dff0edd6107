import Foundation
import HTTPTypes
import Logging
import Testing

@testable import Actors

/// Walks every operation of `openapi/openapi.yaml` that takes an id in its path, calling it with
/// org A's admin token and org B's ids; expects 403/404 and never B's data. Routes added to the
/// spec later are walked without editing this test.
@Suite struct IsolationTests {
    static func specURL() -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("openapi/openapi.yaml")
    }

    struct Operation {
        let method: String
        let path: String
        let body: [String: Any]?
    }

    static func operations(ids: [String: String], fallbackId: String, onlyWithIds: Bool = true) async throws -> [Operation] {
        // YAML to JSON through PyYAML (on every machine of this kind): no YAML parser in the package graph.
        let json = try await Child.run([
            "python3", "-c", "import json,sys,yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)", specURL().path,
        ])
        let data = Data(json.utf8)
        let spec = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let schemas = ((spec["components"] as? [String: Any])?["schemas"] as? [String: Any]) ?? [:]
        func resolve(_ schema: [String: Any]) -> [String: Any] {
            guard let ref = schema["$ref"] as? String else { return schema }
            return resolve(schemas[String(ref.split(separator: "/").last!)] as? [String: Any] ?? [:])
        }
        /// A minimal value the schema accepts, with every uuid pointing at B.
        func sample(_ raw: [String: Any], key: String) -> Any {
            let schema = resolve(raw)
            if let values = schema["enum"] as? [Any] { return values[0] }
            let type = (schema["type"] as? String) ?? ((schema["type"] as? [String])?.first ?? "object")
            switch type {
            case "object":
                var out: [String: Any] = [:]
                let props = schema["properties"] as? [String: Any] ?? [:]
                for name in schema["required"] as? [String] ?? [] {
                    out[name] = sample(props[name] as? [String: Any] ?? [:], key: name)
                }
                return out
            case "array": return [sample(schema["items"] as? [String: Any] ?? [:], key: key)]
            case "integer", "number": return 1
            case "boolean": return false
            default:
                if schema["format"] as? String == "uuid" { return ids[key] ?? fallbackId }
                if key.lowercased().contains("email") { return "x@example.test" }
                return String(repeating: "x", count: max(8, schema["minLength"] as? Int ?? 1))
            }
        }
        var out: [Operation] = []
        for (path, item) in spec["paths"] as? [String: Any] ?? [:] where path.contains("{") || !onlyWithIds {
            for (method, op) in item as? [String: Any] ?? [:] where ["get", "post", "put", "patch", "delete"].contains(method) {
                var concrete = path
                while let open = concrete.firstIndex(of: "{"), let close = concrete.firstIndex(of: "}") {
                    let name = String(concrete[concrete.index(after: open)..<close])
                    concrete.replaceSubrange(open...close, with: ids[name] ?? fallbackId)
                }
                let content = (((op as? [String: Any])?["requestBody"] as? [String: Any])?["content"] as? [String: Any])
                let schema = (content?["application/json"] as? [String: Any])?["schema"] as? [String: Any]
                out.append(
                    Operation(method: method.uppercased(), path: concrete, body: schema.map { sample($0, key: "body") as? [String: Any] ?? [:] })
                )
            }
        }
        return out
    }

    @Test func everyIdRouteRefusesAnotherOrgsIds() async throws {
        try await Harness.run { h in
            let a = try await h.makeOrg()
            let b = try await h.makeOrg()
            let token = try await h.token(a.email(.admin))
            let bJob = try await JobLedger(logger: Logger(label: "test")).enqueue(
                [JobSpec(pipeline: "noop", orgId: b.id, argsJSON: #"{"secret": "\#(b.tag)"}"#)],
                catalog: try PipelineCatalog.load(directory: "pipelines"),
                on: h.db
            )[0].id.uuidString.lowercased()
            // One row of each of B's resources, so every id-taking route is walked with a real id of B's.
            let bAdmin = try await h.token(b.email(.admin))
            let voter = try await h.call(
                .post,
                "/api/v1/voters",
                token: bAdmin,
                json: ["externalId": "B-\(b.tag)", "firstName": "Secret", "lastName": b.tag]
            )
            let list = try await h.call(.post, "/api/v1/lists", token: bAdmin, json: ["name": "List \(b.tag)"])
            let bVoter = voter.json["id"] as? String ?? b.idString
            let bList = list.json["id"] as? String ?? b.idString
            _ = try await h.call(.post, "/api/v1/lists/\(bList)/members", token: bAdmin, json: ["voterIds": [bVoter]])
            let assignment = try await h.call(
                .post,
                "/api/v1/assignments",
                token: bAdmin,
                json: ["listId": bList, "canvasserId": b.userId(.canvasser)]
            )
            let question = try await h.call(
                .post,
                "/api/v1/survey-questions",
                token: bAdmin,
                json: ["key": "q_\(b.tag)", "prompt": "Prompt \(b.tag)", "type": "text"]
            )
            // An export and an import of B's (no worker runs here: their rows exist, queued).
            let export = try await h.call(.post, "/api/v1/exports", token: bAdmin, json: ["kind": "voters"])
            let upload = try await h.call(
                .post,
                "/api/v1/imports/voters?format=csv&fileName=b.csv",
                token: bAdmin,
                raw: "externalId,firstName,lastName\nB1,Secret,\(b.tag)\n",
                headers: [.contentType: "text/csv"]
            )
            let ids = [
                "exportId": export.json["id"] as? String ?? b.idString, "importId": upload.json["id"] as? String ?? b.idString,
                "userId": b.userId(.organizer), "id": b.idString, "orgId": b.idString, "jobId": bJob, "voterId": bVoter, "listId": bList,
                "assignmentId": assignment.json["id"] as? String ?? b.idString, "questionId": question.json["id"] as? String ?? b.idString,
                "canvasserId": b.userId(.canvasser), "voterIds": bVoter,
            ]
            #expect(export.status == .accepted && upload.status == .accepted, "B's export and import: \(export.text) \(upload.text)")
            let operations = try await Self.operations(ids: ids, fallbackId: b.idString)
            #expect(operations.count >= 2)
            let secrets = [b.email(.admin), b.email(.organizer), b.userId(.canvasser), "Test \(b.tag)", b.tag]
            for op in operations {
                let reply = try await h.call(HTTPRequest.Method(op.method)!, op.path, token: token, json: op.body)
                #expect([403, 404].contains(reply.status.code), "\(op.method) \(op.path) → \(reply.status) \(reply.text)")
                for secret in secrets { #expect(!reply.text.contains(secret), "\(op.method) \(op.path) leaked \(secret)") }
            }
            // B's member is untouched.
            let members = try await h.call(.get, "/api/v1/members", token: bAdmin)
            #expect((members.json["items"] as? [Any])?.count == 3)
        }
    }

    @Test func listsNeverShowAnotherOrgsRows() async throws {
        try await Harness.run { h in
            let a = try await h.makeOrg()
            let b = try await h.makeOrg()
            _ = try await h.token(b.email(.admin))
            let token = try await h.token(a.email(.admin))
            let members = try await h.call(.get, "/api/v1/members?limit=500", token: token)
            let audit = try await h.call(.get, "/api/v1/audit-logs?limit=500", token: token)
            let auditForB = try await h.call(.get, "/api/v1/audit-logs?actorId=\(b.userId(.admin))", token: token)
            for reply in [members, audit] {
                #expect(reply.status == .ok)
                #expect(!reply.text.contains(b.tag))
                #expect(!reply.text.contains(b.userId(.admin)))
            }
            #expect((auditForB.json["items"] as? [Any])?.isEmpty == true)
        }
    }
}
