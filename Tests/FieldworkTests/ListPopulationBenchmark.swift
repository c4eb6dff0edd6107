import Foundation
import Logging
import PostgresNIO
import Store
import Testing

/// Issue 12's list benchmark, opt-in (`FIELDWORK_BENCH=lists`): 1,000,000 voters and 500,000 interactions filled by SQL,
/// then `POST /lists` with criteria matching half of them, timed until the population job has succeeded (in-process
/// worker, the shipped `pipelines/list-population.yaml`). Prints the rate; asserts only that the fill is exact.
@Suite struct ListPopulationBenchmark {
    static let enabled = ProcessInfo.processInfo.environment["FIELDWORK_BENCH"] == "lists"

    @Test(.enabled(if: enabled), .timeLimit(.minutes(20)))
    func halfOfAMillionVotersFromCriteria() async throws {
        let shipped = try String(contentsOfFile: "pipelines/list-population.yaml", encoding: .utf8)
        try await Orchestra.run(pipelines: Orchestra.defaultPipelines.merging(["list-population": shipped]) { $1 }) { o in
            let h = o.h
            let logger = Logger(label: "bench")
            let org = try await h.makeOrg()
            let admin = try await h.token(org.email(.admin))
            let filled = ContinuousClock.now
            try await h.db.query(
                """
                INSERT INTO voters (org_id, external_id, first_name, last_name, birth_year, party, parish, precinct, res_house_number,
                                    res_street_name, res_zip5, status)
                SELECT \(org.id), 'LA' || lpad(i::text, 9, '0'), 'F', 'L' || (i % 1000), 1940 + i % 65,
                       (ARRAY['DEM','REP','NOPTY','LBT'])[1 + i % 4], 'Parish ' || (i % 64), 'P' || (i % 4000), (1 + i % 9999)::text,
                       'Street ' || (i % 2000), lpad((70000 + i % 1500)::text, 5, '0'), CASE WHEN i % 10 = 0 THEN 'inactive' ELSE 'active' END
                FROM generate_series(1, 1000000) i
                """,
                logger: logger
            ).consume()
            let votersFilled = ContinuousClock.now - filled
            let results = "ARRAY['canvassed','not_home','refused','moved','deceased','inaccessible','vacant','hostile','language_barrier',"
                + "'come_back','wrong_address','do_not_contact','lit_drop']"
            let interactionsStart = ContinuousClock.now
            try await h.db.query(
                """
                INSERT INTO interactions (org_id, client_interaction_uuid, voter_id, canvasser_id, channel, result, occurred_at)
                SELECT v.org_id, gen_random_uuid(), v.id, \(org.userIds[.canvasser]!), 'door', (\(unescaped: results))[1 + (v.n * 7) % 13],
                       now() - (v.n % 1000) * interval '1 hour'
                FROM (SELECT org_id, id, row_number() OVER () AS n FROM voters WHERE org_id = \(org.id)) v WHERE v.n % 2 = 0
                """,
                logger: logger
            ).consume()
            let interactionsFilled = ContinuousClock.now - interactionsStart
            try await h.db.query("VACUUM ANALYZE", logger: logger).consume()
            try await o.withWorker { _ in
                for (label, criteria) in [
                    ("parties DEM, REP", ["parties": ["DEM", "REP"]] as [String: Any]),
                    ("parties DEM, REP, excludeTerminal", ["parties": ["DEM", "REP"], "excludeTerminal": true]),
                ] {
                    let start = ContinuousClock.now
                    let created = try await h.call(.post, "/api/v1/lists", token: admin, json: ["name": label, "criteria": criteria])
                    let id = try #require(created.json["id"] as? String, "\(created.text)")
                    var list: [String: Any] = [:]
                    try await waitUntil("population of \(label)", timeout: .seconds(600), every: .milliseconds(20)) {
                        list = try await h.call(.get, "/api/v1/lists/\(id)", token: admin).json
                        return (list["population"] as? [String: Any])?["status"] as? String == "succeeded"
                    }
                    let elapsed = ContinuousClock.now - start
                    let members = list["memberCount"] as? Int ?? 0
                    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                    let exact = try await o.scalar("SELECT count(*)::int8 FROM list_members WHERE list_id = \(UUID(uuidString: id)!)", as: Int.self)
                    #expect(exact == members)
                    if label == "parties DEM, REP" { #expect(members == 500_000) }
                    let rate = Int(Double(members) / seconds)
                    print(
                        "BENCH lists \(label): \(members) members in \(String(format: "%.2f", seconds)) s = \(rate) members/s "
                            + "(voters filled in \(votersFilled), 500,000 interactions in \(interactionsFilled))"
                    )
                }
            }
        }
    }
}
