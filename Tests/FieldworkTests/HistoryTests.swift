import Foundation
import HTTPTypes
import PostgresNIO
import Testing

@testable import Actors

/// The 7-day history from the hourly rollup the workers' maintenance pass keeps.
@Suite struct HistoryTests {
    @Test func rollupCountsEachAttemptOnceAndServesBothViews() async throws {
        try await Orchestra.run { o in
            let org = try await o.h.makeOrg()
            let staff = try await o.h.staffToken()
            func series(_ query: String) async throws -> [String: [[String: Any]]] {
                let reply = try await o.h.call(.get, "/api/v1/internal/history?\(query)", token: staff)
                var out: [String: [[String: Any]]] = [:]
                for entry in reply.json["series"] as? [[String: Any]] ?? [] {
                    out[entry["key"] as? String ?? "?"] = entry["hours"] as? [[String: Any]]
                }
                return out
            }
            func total(_ hours: [[String: Any]]?, _ field: String) -> Int { (hours ?? []).reduce(0) { $0 + ($1[field] as? Int ?? 0) } }
            try await o.withWorker { _ in
                try await o.enqueue("noop", count: 5, orgIds: [org.id], token: staff)
                try await o.enqueue("fail", count: 2, orgIds: [org.id], args: ["retryable": false], token: staff)
                // Completions reach the rollup once they are five seconds old, at the next pass (every 5 s).
                try await waitUntil("the rollup has the attempts", timeout: .seconds(40), every: .milliseconds(500)) {
                    let perPipeline = try await series("by=pipeline")
                    return total(perPipeline["noop"], "done") == 5 && total(perPipeline["fail"], "failed") == 2
                }
            }
            // Passes over the same span add nothing: the watermark moved with the rows.
            try await o.jobs.ledger.rollUpHistory(on: o.h.db)
            try await o.jobs.ledger.rollUpHistory(on: o.h.db)
            let perPipeline = try await series("by=pipeline")
            #expect(total(perPipeline["noop"], "done") == 5 && total(perPipeline["fail"], "failed") == 2 && total(perPipeline["fail"], "done") == 0)
            #expect(perPipeline["noop"]?.first?["p95RunMs"] is Double, "p95 comes from the hour's histogram")
            let perOrg = try await series("by=org&orgId=\(org.idString)")
            #expect(total(perOrg[org.idString], "done") == 5 && total(perOrg[org.idString], "failed") == 2, "\(perOrg)")
            #expect(try await series("by=org&pipeline=noop")[org.idString].map { total($0, "failed") } == 0)
            #expect(try await o.h.call(.get, "/api/v1/internal/history?by=team", token: staff).status == .badRequest)

            let browser = try await DashboardBrowser.signIn(o.h)
            let page = try await browser.get("/dashboard/history")
            #expect(page.status == .ok && page.text.contains("data-series=\"noop\"") && page.text.contains("<rect class=\"done\""))
        }
    }

    @Test func percentileOfAHistogram() {
        var buckets = [Int64](repeating: 0, count: 48)
        buckets[10] = 95
        buckets[20] = 5
        // 95 runs in bucket 10 (up to 320 ms): the p95 is there, at its geometric middle.
        #expect(abs((JobLedger.percentile(0.95, of: buckets) ?? 0) - 10 * pow(2, 9.5 / 2)) < 0.001)
        buckets[20] = 6
        #expect((JobLedger.percentile(0.95, of: buckets) ?? 0) > 1000)
        #expect(JobLedger.percentile(0.95, of: [Int64](repeating: 0, count: 48)) == nil)
    }
}
