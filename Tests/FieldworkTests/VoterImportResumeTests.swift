import Foundation
import Pipelines
import PostgresNIO
import Store
import Testing

@testable import Actors

/// A `fieldwork work` process killed with SIGKILL in the middle of an import: the next worker resumes from the
/// last committed batch, and the counts are exact (no row twice, none lost); a registration number loaded before the
/// kill is still rejected as a duplicate after it, citing its first row.
@Suite(.serialized) struct VoterImportResumeTests {
    @Test(arguments: StoreKind.allCases) func aWorkerKilledMidImportIsResumedByAnotherWithExactCounts(store: StoreKind) async throws {
        try await Orchestra.run(pipelines: ["voter-import": Importer.voterImportYAML], storageURL: try await TestStores.url(store)) { o in
            let org = try await o.h.makeOrg()
            let importer = Importer(h: o.h, token: try await o.h.token(org.email(.admin)))
            let total = 120_000
            // The last three rows repeat V0..V2 (rows 2 to 4), which the first batch loads before the kill.
            let file = VoterFiles.csv(count: total) + VoterFiles.csv(count: 3).split(separator: "\n").dropFirst().joined(separator: "\n") + "\n"
            let id = try await importer.start(file)
            let child = try await o.startWorkerProcess(environment: ["STORAGE_URL": o.config.storageURL])
            var killedAt = 0
            do {
                try await waitUntil("a batch committed by the child", timeout: .seconds(120), every: .milliseconds(20)) {
                    killedAt = Importer.progress(try await importer.get(id))["rowsRead"] ?? 0
                    return killedAt > 0
                }
            } catch {
                child.signal(SIGKILL)
                _ = try await child.wait()
                throw TestFailure("\(error); child output: \(child.output.suffix(3000))")
            }
            child.signal(SIGKILL)
            #expect(try await child.wait() == 128 + SIGKILL)
            let afterKill = Importer.progress(try await importer.get(id))
            #expect((afterKill["rowsRead"] ?? 0) < total, "killed part way: \(afterKill)")
            // Two batches load at once, but they commit in file order: what committed before the kill is the file's
            // first rows up to the checkpoint (V0, V1, … with no gap), nothing past it.
            let committed = try #require(try await o.scalar("SELECT count(*) FROM voters WHERE org_id = \(org.id)", as: Int.self))
            let highest = try await o.scalar("SELECT max(substr(external_id, 2)::int8) FROM voters WHERE org_id = \(org.id)", as: Int.self)
            #expect(committed == afterKill["inserted"] && highest == committed - 1, "committed \(committed), highest V\(highest ?? -1): \(afterKill)")

            try await o.withWorker { _ in
                let job = try await importer.waitEnded(id, timeout: .seconds(180))
                #expect(job["status"] as? String == "succeeded", "\(job)")
                let counts = Importer.progress(job)
                #expect(counts == ["bytesRead": file.utf8.count, "rowsRead": total + 3, "inserted": total, "updated": 0, "unchanged": 0, "rejected": 3],
                        "the second attempt went on from the checkpoint: \(counts)")
                let errors = (job["errors"] as? [[String: Any]] ?? []).compactMap { $0["message"] as? String }
                #expect(errors.count == 3 && errors.first?.contains("also on row 2") == true, "\(errors)")
            }
            #expect(try await o.scalar("SELECT count(*) FROM voters WHERE org_id = \(org.id)", as: Int.self) == total)
            #expect(try await o.scalar("SELECT count(DISTINCT external_id) FROM voters WHERE org_id = \(org.id)", as: Int.self) == total)
            let jobId = try #require(try await o.scalar("SELECT job_id FROM import_jobs WHERE id = \(UUID(uuidString: id)!)", as: UUID.self))
            let record = try await o.job(jobId)
            #expect(record.attempts.count >= 2, "a second attempt ran: \(record.attempts.map(\.outcome))")
            #expect(record.attempts.first?.outcome == .lost)
        }
    }
}
