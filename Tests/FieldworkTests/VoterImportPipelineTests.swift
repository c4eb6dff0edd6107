import Foundation
import HTTPTypes
import Pipelines
import PostgresNIO
@_spi(TenantAuth) import Store
import Testing

@testable import Actors

/// The import pipeline end to end: upload over HTTP, an in-process worker, then the voters in Postgres and the job's counts.
@Suite struct VoterImportPipelineTests {
    /// The build's pipelines, but an importer with `batchRows` (small batches make batch boundaries and progress visible).
    static func registry(_ o: Orchestra, batchRows: Int) throws -> PipelineRegistry {
        PipelineRegistry([VoterImportPipeline(db: o.h.db, store: try makeObjectStore(url: o.config.storageURL), batchRows: batchRows)])
    }

    @Test(arguments: StoreKind.allCases) func aFileIsImportedWithExactCountsAndReimportKeepsWhatCampaignsAdded(store: StoreKind) async throws {
        try await Orchestra.run(pipelines: ["voter-import": Importer.voterImportYAML], storageURL: try await TestStores.url(store)) { o in
            let org = try await o.h.makeOrg()
            let importer = Importer(h: o.h, token: try await o.h.token(org.email(.admin)))
            try await o.withWorker { _ in
                let first = try await importer.waitEnded(try await importer.start(VoterFiles.csv(count: 50)))
                #expect(first["status"] as? String == "succeeded", "\(first)")
                #expect(Importer.progress(first) == ["bytesRead": VoterFiles.csv(count: 50).utf8.count, "rowsRead": 50, "inserted": 50,
                                                      "updated": 0, "unchanged": 0, "rejected": 0])
                #expect(first["startedAt"] is String && first["finishedAt"] is String)
                #expect(try await o.scalar("SELECT count(*) FROM voters WHERE org_id = \(org.id)", as: Int.self) == 50)
                let phone = try await o.scalar("SELECT phone FROM voters WHERE org_id = \(org.id) AND external_id = 'V7'", as: String.self)
                #expect(phone == "5045550007")

                // What the campaign added: a list member and an interaction on V1, a phone typed in by hand on V2.
                let v1 = try #require(try await o.scalar("SELECT id FROM voters WHERE org_id = \(org.id) AND external_id = 'V1'", as: UUID.self))
                let admin = org.userIds[.admin]!
                let canvasser = org.userIds[.canvasser]!
                let list = UUID()
                try await o.h.db.query(
                    "INSERT INTO lists (id, org_id, name, created_by) VALUES (\(list), \(org.id), 'walk', \(admin))", logger: o.logger
                ).consume()
                try await o.h.db.query(
                    "INSERT INTO list_members (org_id, list_id, voter_id) VALUES (\(org.id), \(list), \(v1))", logger: o.logger
                ).consume()
                try await o.h.db.query(
                    """
                    INSERT INTO interactions (org_id, client_interaction_uuid, voter_id, canvasser_id, channel, result, occurred_at)
                    VALUES (\(org.id), \(UUID()), \(v1), \(canvasser), 'door', 'canvassed', now())
                    """,
                    logger: o.logger
                ).consume()

                // The same 50 with V3..V5 renamed, V10's phone blank (kept), plus 10 new ones.
                var lines = VoterFiles.csv(count: 50).split(separator: "\n").map(String.init)
                for i in 3...5 { lines[i + 1] = lines[i + 1].replacingOccurrences(of: "First\(i),", with: "Renamed\(i),") }
                lines[11] = "V10,Last10,First10,70010,,1960"
                let newcomers = VoterFiles.csv(count: 10, from: 50).split(separator: "\n").dropFirst()
                let second = (lines + newcomers.map(String.init)).joined(separator: "\n") + "\n"
                let again = try await importer.waitEnded(try await importer.start(second))
                #expect(again["status"] as? String == "succeeded", "\(again)")
                let counts = Importer.progress(again)
                #expect(counts["inserted"] == 10 && counts["updated"] == 3 && counts["unchanged"] == 47 && counts["rejected"] == 0, "\(counts)")
                #expect(try await o.scalar("SELECT count(*) FROM voters WHERE org_id = \(org.id)", as: Int.self) == 60)
                #expect(try await o.voterText("first_name", org: org, externalId: "V4") == "Renamed4")
                #expect(try await o.voterText("phone", org: org, externalId: "V10") == "5045550010", "a blank cell keeps the stored value")
                #expect(try await o.scalar("SELECT count(*) FROM list_members WHERE voter_id = \(v1)", as: Int.self) == 1)
                #expect(try await o.scalar("SELECT count(*) FROM interactions WHERE voter_id = \(v1)", as: Int.self) == 1)
                #expect(try await o.scalar("SELECT id FROM voters WHERE org_id = \(org.id) AND external_id = 'V1'", as: UUID.self) == v1)
                let untouched = try await o.scalar(
                    "SELECT count(*) FROM voters WHERE org_id = \(org.id) AND updated_at > created_at + interval '1 millisecond'", as: Int.self
                )
                #expect(untouched == 3, "only the changed rows were rewritten")
                let timeOrdered = try await o.scalar(
                    "SELECT count(*) FROM voters WHERE org_id = \(org.id) AND substr(id::text, 15, 1) = '7'", as: Int.self
                )
                #expect(timeOrdered == 60, "imported voters get time-ordered (version 7) ids")
            }
        }
    }

    /// A small Louisiana export (dBASE header cells, quotes, CRLF, an unknown column) with exact counts.
    @Test(arguments: StoreKind.allCases) func aLouisianaFileIsImportedWithExactCounts(store: StoreKind) async throws {
        try await Orchestra.run(pipelines: ["voter-import": Importer.voterImportYAML], storageURL: try await TestStores.url(store)) { o in
            let org = try await o.h.makeOrg()
            let importer = Importer(h: o.h, token: try await o.h.token(org.email(.admin)))
            let file = [
                #""REG_NUMBER,N,10,0","LAST_NAME,C,30","FIRST_NAME,C,30","BIRTH_YEAR,N,4,0","PARISH,C,20","ZIP CODE5,C,5","#
                    + #""REGISTRATION DATE,D,8","STATUS,C,1","PRECINCT,C,10","FAVORITE COLOR,C,10""#,
                #""1000001","BOUDREAUX","MARIE","1961","ORLEANS","70112","20040115","A","01-001","BLUE""#,
                #"1000002,"THIBODEAUX, JR","JEAN",1975,JEFFERSON,70001,19991231,A,02-003,"#,
                #"1000003,LANDRY,"PAUL ""PJ""",1980,ST. TAMMANY,70433,20101010,I,04-002,RED"#,
                #"1000004,HEBERT,ANNE,19X0,ORLEANS,70113,20001212,A,01-002,"#,
                #"1000005,GUIDRY,LUC,1990,ORLEANS,70114,20231345,A,01-003,"#,
                #"1000001,BOUDREAUX,MARIE,1961,ORLEANS,70112,20040115,A,01-001,BLUE"#,
                #",NOID,X,1950,ORLEANS,70115,20000101,A,01-004,"#,
            ].joined(separator: "\r\n") + "\r\n"
            try await o.withWorker { _ in
                let reply = try await importer.uploadForm(file, format: "louisiana", fileName: "orleans.txt")
                #expect(reply.status == .accepted, "\(reply.text)")
                let job = try await importer.waitEnded(try #require(reply.json["id"] as? String))
                #expect(job["status"] as? String == "succeeded", "\(job)")
                #expect(job["format"] as? String == "louisiana")
                let counts = Importer.progress(job)
                let expected = ["bytesRead": file.utf8.count, "rowsRead": 7, "inserted": 3, "updated": 0, "unchanged": 0, "rejected": 4]
                #expect(counts == expected, "\(counts)")
                let errors = try #require(job["errors"] as? [[String: Any]])
                #expect(errors.compactMap { $0["row"] as? Int } == [1, 5, 6, 7, 8], "the header's note, then the rejected rows: \(errors)")
                #expect((errors.first?["message"] as? String)?.contains("FAVORITE COLOR") == true, "\(errors)")
                #expect((job["errorCount"] as? NSNumber)?.intValue == 5)
                let rows = try await o.h.db.query(
                    """
                    SELECT external_id, last_name, first_name, birth_year, parish, res_zip5, to_char(registration_date, 'YYYY-MM-DD'),
                           status, extra::text
                    FROM voters WHERE org_id = \(org.id) ORDER BY external_id
                    """,
                    logger: o.logger
                )
                var found: [String] = []
                for try await (id, last, first, year, parish, zip, date, status, extra) in rows.decode(
                    (String, String, String, Int?, String?, String?, String?, String, String).self
                ) {
                    let kept = extra.contains("BLUE") || extra.contains("RED")
                    found.append("\(id)|\(last)|\(first)|\(year ?? 0)|\(parish ?? "")|\(zip ?? "")|\(date ?? "")|\(status)|\(kept)")
                }
                #expect(found == [
                    "1000001|BOUDREAUX|MARIE|1961|ORLEANS|70112|2004-01-15|active|true",
                    "1000002|THIBODEAUX, JR|JEAN|1975|JEFFERSON|70001|1999-12-31|active|false",
                    "1000003|LANDRY|PAUL \"PJ\"|1980|ST. TAMMANY|70433|2010-10-10|inactive|true",
                ], "\(found)")
                let csv = try await o.h.call(.get, "/api/v1/imports/\(try #require(reply.json["id"] as? String))/rejected", token: importer.token)
                #expect(csv.text.split(separator: "\n").count == 5, "a header and the four rejected rows: \(csv.text)")
            }
        }
    }

    @Test(arguments: StoreKind.allCases) func duplicatesAndBadRowsAreRejectedWithRowsAndWrittenToTheRejectedFile(store: StoreKind) async throws {
        try await Orchestra.run(pipelines: ["voter-import": Importer.voterImportYAML], storageURL: try await TestStores.url(store)) { o in
            let org = try await o.h.makeOrg()
            let importer = Importer(h: o.h, token: try await o.h.token(org.email(.admin)))
            // Batches of 3 rows: V1's twin on row 9 is in a later batch than row 2; V2's twin on row 4 in the same one.
            let file = [
                VoterFiles.header,
                "V1,One,A,70001,,1950", "V2,Two,B,70002,,1951", "V2,Twin,C,70003,,1952", "V3,Three,D,70004,,19x0",
                "V4,Four,E,70005,,1953", "V5,,F,70006,,1954", "V6,Six,G,70007,,1955", "V1,Again,H,70008,,1956", "V7,Seven,I,70009,,1957",
            ].joined(separator: "\n") + "\n"
            try await o.withWorker(pipelines: try Self.registry(o, batchRows: 3)) { _ in
                let id = try await importer.start(file)
                let job = try await importer.waitEnded(id)
                #expect(job["status"] as? String == "succeeded", "\(job)")
                let counts = Importer.progress(job)
                #expect(counts["rowsRead"] == 9 && counts["inserted"] == 5 && counts["rejected"] == 4, "\(counts)")
                #expect((job["errorCount"] as? NSNumber)?.intValue == 4)
                let errors = try #require(job["errors"] as? [[String: Any]])
                #expect(errors.compactMap { $0["row"] as? Int } == [4, 5, 7, 9], "\(errors)")
                let twin = try #require(errors.first { $0["row"] as? Int == 4 })
                #expect((twin["message"] as? String)?.contains("row 3") == true, "the later row cites the first: \(twin)")
                let again = try #require(errors.first { $0["row"] as? Int == 9 })
                #expect((again["message"] as? String)?.contains("row 2") == true, "across batches too: \(again)")
                let bad = try #require(errors.first { $0["row"] as? Int == 5 })
                #expect(bad["column"] as? String != nil)
                #expect(try await o.scalar("SELECT last_name FROM voters WHERE org_id = \(org.id) AND external_id = 'V1'", as: String.self) == "One")
                #expect(try await o.scalar("SELECT last_name FROM voters WHERE org_id = \(org.id) AND external_id = 'V2'", as: String.self) == "Two")

                let csv = try await o.h.call(.get, "/api/v1/imports/\(id)/rejected", token: importer.token)
                #expect(csv.status == .ok)
                #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true)
                let lines = csv.text.split(separator: "\n").map(String.init)
                #expect(lines.first == "row,column,reason,original")
                #expect(lines.count == 5, "\(csv.text)")
                #expect(lines.contains { $0.hasPrefix("5,") && $0.contains("V3,Three,D,70004,,19x0") }, "the original text: \(csv.text)")

                // Across batches: the store hands out 256 KiB chunks, so this file is loaded in several batches.
                let big = VoterFiles.csv(count: 12_000, prefix: "W") + "W0,Again,X,70001,,1950\n"
                let later = try await importer.waitEnded(try await importer.start(big))
                let bigCounts = Importer.progress(later)
                #expect(bigCounts["inserted"] == 12_000 && bigCounts["rejected"] == 1 && bigCounts["rowsRead"] == 12_001, "\(bigCounts)")
                let cited = try #require((later["errors"] as? [[String: Any]])?.first)
                #expect(cited["row"] as? Int == 12_002 && (cited["message"] as? String)?.contains("row 2") == true, "\(cited)")
                #expect(try await o.voterText("last_name", org: org, externalId: "W0") == "Last0")
            }
        }
    }

    @Test(arguments: StoreKind.allCases) func aFileThatIsNotAVoterFileFailsAtOnceWithAReason(store: StoreKind) async throws {
        try await Orchestra.run(pipelines: ["voter-import": Importer.voterImportYAML], storageURL: try await TestStores.url(store)) { o in
            let org = try await o.h.makeOrg()
            let importer = Importer(h: o.h, token: try await o.h.token(org.email(.admin)))
            try await o.withWorker { _ in
                let id = try await importer.start("<html><body>502 Bad Gateway</body></html>\n")
                let job = try await importer.waitEnded(id)
                #expect(job["status"] as? String == "failed")
                #expect((job["failureReason"] as? String)?.isEmpty == false, "\(job)")
                let jobId = try #require(try await o.scalar("SELECT job_id FROM import_jobs WHERE id = \(UUID(uuidString: id)!)", as: UUID.self))
                // The import row says failed in the pipeline's last transaction; the job's outcome is written just after.
                try await waitUntil("the job's outcome") { try await o.job(jobId).state.isFinished }
                let record = try await o.job(jobId)
                #expect(record.state == .dead && record.attempt == 1, "not retried: \(record.state) attempt \(record.attempt)")
                try await Task.sleep(for: .milliseconds(500))
                #expect(try await o.job(jobId).state == .dead, "and not queued again")
                #expect(try await o.scalar("SELECT count(*) FROM voters WHERE org_id = \(org.id)", as: Int.self) == 0)
            }
        }
    }

    @Test(arguments: StoreKind.allCases) func progressShowsWhileItRunsAndCancelStopsBetweenBatches(store: StoreKind) async throws {
        try await Orchestra.run(pipelines: ["voter-import": Importer.voterImportYAML], storageURL: try await TestStores.url(store)) { o in
            let org = try await o.h.makeOrg()
            let importer = Importer(h: o.h, token: try await o.h.token(org.email(.admin)))
            let total = 30_000
            try await o.withWorker(pipelines: try Self.registry(o, batchRows: 200)) { _ in
                let id = try await importer.start(VoterFiles.csv(count: total))
                var seen: [Int] = []
                try await waitUntil("progress while running", timeout: .seconds(60), every: .milliseconds(100)) {
                    let job = try await importer.get(id)
                    let rows = Importer.progress(job)["rowsRead"] ?? 0
                    if job["status"] as? String == "running", rows > 0 { seen.append(rows) }
                    return seen.count >= 2 && seen.last! > seen.first!
                }
                let cancel = try await o.h.call(.post, "/api/v1/imports/\(id)/cancel", token: importer.token)
                #expect(cancel.status == .ok, "\(cancel.text)")
                let job = try await importer.waitEnded(id)
                #expect(job["status"] as? String == "cancelled", "\(job)")
                let counts = Importer.progress(job)
                let voters = try #require(try await o.scalar("SELECT count(*) FROM voters WHERE org_id = \(org.id)", as: Int.self))
                #expect(voters > 0 && voters < total, "stopped part way: \(voters)")
                #expect(counts["inserted"] == voters && counts["rowsRead"] == voters, "the counts say what committed: \(counts)")
                #expect(try await o.h.call(.get, "/api/v1/imports/\(id)/rejected", token: importer.token).status == .ok)
            }
        }
    }
}
