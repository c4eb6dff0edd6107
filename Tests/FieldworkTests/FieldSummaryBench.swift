import Foundation
import Logging
import PostgresNIO
@_spi(TenantAuth) import Store
import Testing

/// The summary's cost over a large org, without HTTP: runs only when `SUMMARY_BENCH_DB` names a
/// database filled for it and `SUMMARY_BENCH_ORG` the org (docs/decisions.md, "Field rollups", says how).
@Suite struct FieldSummaryBench {
    static let env = ProcessInfo.processInfo.environment

    @Test(.enabled(if: env["SUMMARY_BENCH_DB"] != nil && env["SUMMARY_BENCH_ORG"] != nil))
    func summaryOverALargeOrg() async throws {
        let logger = Logger(label: "bench")
        let db = PostgresClient(configuration: try DatabaseSettings.configuration(url: Self.env["SUMMARY_BENCH_DB"]!), backgroundLogger: logger)
        let scope = OrgScope(orgId: try #require(UUID(uuidString: Self.env["SUMMARY_BENCH_ORG"]!)))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await db.run() }
            defer { group.cancelAll() }
            let clock = ContinuousClock()
            let rollup = try await clock.measure {
                _ = try await db.inTransaction(logger: logger) { connection in
                    try await FieldRollups(logger: logger).rollUp(scope, settle: .zero, on: connection)
                }
            }
            let repository = FieldSummaryRepository(logger: logger)
            let (zone, today) = try await repository.today(in: scope, on: db)
            let last = CalendarDay.parse(today)!
            var report = ["rollup (first, every day): \(rollup)"]
            for days in [1, 7, 90] {
                let range = DayRange(from: CalendarDay.format(CalendarDay.adding(1 - days, to: last)), to: today)
                var samples: [Double] = []
                for _ in 0..<30 {
                    let took = try await clock.measure { _ = try await repository.summary(range, zone: zone, in: scope, on: db) }
                    samples.append(Double(took.components.attoseconds) / 1e15 + Double(took.components.seconds) * 1000)
                }
                samples.sort()
                report.append(String(format: "%d days: p50 %.1f ms, p99 %.1f ms", days, samples[15], samples[29]))
            }
            Issue.record("bench (not a failure): \(report.joined(separator: "; "))", severity: .warning)
        }
    }
}
