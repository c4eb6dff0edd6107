import Foundation
import Logging
import PostgresNIO
import Store

/// One hour of one series (a pipeline or an org) in the history.
public struct HistoryHour: Sendable {
    public let hour: Date
    public let done: Int
    public let failed: Int
    /// From the hour's run-time histogram: within a factor of √2 (see `job_history_hourly`).
    public let p95RunMs: Double?
}

/// The 7-day history: `job_history_hourly`, rolled up from `job_attempts` by the maintenance pass.
extension JobLedger {
    /// Histogram buckets: bucket i holds runs up to 10 ms · √2^i.
    static let historyBuckets = 48

    /// Adds the attempts that finished since the watermark (up to five seconds ago, so a completion
    /// committed a moment late is still counted, and at most an hour per pass) to the hourly rollup,
    /// and moves the watermark, in one statement. The watermark row is taken `SKIP LOCKED`: with
    /// several workers, one rolls up and the others skip (nothing is counted twice).
    /// Run times are `date_part` (float8), not `extract` (numeric since Postgres 14): `ln` of a numeric made
    /// the pass 2.5 times slower (100,000 attempts: 724–840 ms against 288 ms, `docs/benchmarks.md`).
    public func rollUpHistory(on runner: some QueryRunner) async throws {
        _ = try await runner.run(
            """
            WITH w AS (
                SELECT through, LEAST(now() - interval '5 seconds', through + interval '1 hour') AS upto
                FROM job_history_watermark FOR UPDATE SKIP LOCKED
            ),
            src AS (
                SELECT date_trunc('hour', a.finished_at) AS hour, a.pipeline, COALESCE(a.org_id::text, '') AS org_key, a.outcome,
                       LEAST(47, GREATEST(0, ceil(ln(GREATEST(date_part('epoch', a.finished_at - a.started_at) * 1000, 0.001::float8) / 10)
                           / ln(sqrt(2::float8)))))::int AS bucket
                FROM w JOIN job_attempts a ON a.finished_at > w.through AND a.finished_at <= w.upto
                WHERE a.outcome IN ('succeeded', 'failed')
            ),
            per_bucket AS (
                SELECT hour, pipeline, org_key, bucket, count(*) FILTER (WHERE outcome = 'succeeded') AS done,
                       count(*) FILTER (WHERE outcome = 'failed') AS failed, count(*)::int8 AS n
                FROM src GROUP BY 1, 2, 3, 4
            ),
            groups AS (
                SELECT hour, pipeline, org_key, sum(done)::int8 AS done, sum(failed)::int8 AS failed,
                       job_history_histogram(array_agg(bucket), array_agg(n)) AS buckets
                FROM per_bucket GROUP BY 1, 2, 3
            ),
            added AS (
                INSERT INTO job_history_hourly (hour, pipeline, org_key, done, failed, run_buckets)
                SELECT hour, pipeline, org_key, done, failed, buckets FROM groups ORDER BY 1, 2, 3
                ON CONFLICT (hour, pipeline, org_key) DO UPDATE SET
                    done = job_history_hourly.done + EXCLUDED.done,
                    failed = job_history_hourly.failed + EXCLUDED.failed,
                    run_buckets = int8_array_add(job_history_hourly.run_buckets, EXCLUDED.run_buckets)
            )
            UPDATE job_history_watermark SET through = w.upto FROM w
            """,
            logger: logger
        )
    }

    /// Hourly series over the last `days`: per pipeline (`byOrg` false) or per org (true; the
    /// `limit` busiest), optionally narrowed to one pipeline or one org. Series keys: the pipeline
    /// name, or the org id ("" for platform jobs).
    public func history(
        byOrg: Bool,
        pipeline: String?,
        org: UUID?,
        days: Int = 7,
        limit: Int = 20,
        on runner: some QueryRunner
    ) async throws -> [(key: String, hours: [HistoryHour])] {
        let orgKey = org?.uuidString.lowercased()
        let rows = try await runner.run(
            """
            WITH h AS (
                SELECT hour, CASE WHEN \(byOrg) THEN org_key ELSE pipeline END AS key, done, failed, run_buckets
                FROM job_history_hourly
                WHERE hour >= date_trunc('hour', now()) - \(days) * interval '1 day'
                  AND (\(pipeline)::text IS NULL OR pipeline = \(pipeline))
                  AND (\(orgKey)::text IS NULL OR org_key = \(orgKey))
            ),
            top AS (SELECT key FROM h GROUP BY key ORDER BY sum(done + failed) DESC, key LIMIT \(limit))
            SELECT h.hour, h.key, sum(h.done)::int8, sum(h.failed)::int8, int8_array_sum(h.run_buckets)
            FROM h JOIN top USING (key)
            GROUP BY 1, 2 ORDER BY 2, 1
            """,
            logger: logger
        )
        var series: [(key: String, hours: [HistoryHour])] = []
        for try await (hour, key, done, failed, buckets) in rows.decode((Date, String, Int, Int, [Int64]).self) {
            let point = HistoryHour(hour: hour, done: done, failed: failed, p95RunMs: Self.percentile(0.95, of: buckets))
            if series.last?.key == key { series[series.count - 1].hours.append(point) } else { series.append((key, [point])) }
        }
        return series
    }

    /// The `q` quantile of a run-time histogram, as its bucket's geometric middle.
    static func percentile(_ q: Double, of buckets: [Int64]) -> Double? {
        let total = buckets.reduce(0, +)
        guard total > 0 else { return nil }
        let rank = Int64((Double(total) * q).rounded(.up))
        var seen: Int64 = 0
        for (index, count) in buckets.enumerated() {
            seen += count
            if seen >= rank { return 10 * pow(2.0, (Double(index) - 0.5) / 2) }
        }
        return 10 * pow(2.0, Double(buckets.count - 1) / 2)
    }
}
