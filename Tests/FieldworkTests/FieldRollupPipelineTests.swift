import Foundation
import Logging
import PostgresNIO
import Store
import Testing

@testable import Actors

/// The shipped `field-rollup` pipelines through the orchestrator: the nightly schedule fans out one job
/// per org and day, the intraday one per org and hour, staff trigger them, a worker runs them into the
/// rollup tables.
@Suite struct FieldRollupPipelineTests {
    static func shippedFile(_ name: String = "field-rollup") throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try String(contentsOf: root.appendingPathComponent("pipelines/\(name).yaml"), encoding: .utf8)
    }

    @Test func nightlyPerOrgAndStaffTrigger() async throws {
        var pipelines = Orchestra.defaultPipelines
        pipelines["field-rollup"] = try Self.shippedFile()
        try await Orchestra.run(pipelines: pipelines) { o in
            let org = try await o.h.makeOrg()
            let admin = try await o.h.token(org.email(.admin))
            let ids = try await CampaignTests.voters(o.h, token: admin, [CampaignTests.voter(0)])
            let yesterday = FieldSummaryTests.localDay(1)
            let item = FieldSummaryTests.item(ids[0], "canvassed", at: FieldSummaryTests.noon(yesterday))
            try await FieldSummaryTests.submit(o.h, token: admin, [item])
            // 02:00 in the org's zone (America/Chicago, UTC-6 in November) fires once for the day, however often the scheduler looks.
            let scheduler = try Scheduler(jobs: o.jobs, databaseURL: o.config.databaseURL, logger: o.logger)
            try await scheduler.fireDue(now: CronTests.date("2026-11-22T07:59:00Z"))
            #expect(try await o.scalar("SELECT count(*)::int8 FROM jobs WHERE pipeline = 'field-rollup'", as: Int.self) == 0)
            try await scheduler.fireDue(now: CronTests.date("2026-11-22T08:00:30Z"))
            try await scheduler.fireDue(now: CronTests.date("2026-11-22T08:05:00Z"))
            let second = try Scheduler(jobs: o.jobs, databaseURL: o.config.databaseURL, logger: o.logger)
            try await second.fireDue(now: CronTests.date("2026-11-22T08:10:00Z"))
            #expect(
                try await o.scalar("SELECT count(*)::int8 FROM jobs WHERE pipeline = 'field-rollup' AND org_id = \(org.id)", as: Int.self) == 1
            )
            let staff = try await o.h.staffToken()
            let trigger = try await o.h.call(.post, "/api/v1/internal/schedules/field-rollup/trigger", token: staff)
            #expect(trigger.status == .accepted && (trigger.json["jobIds"] as? [Any])?.count == 1, "\(trigger.text)")
            try await o.withWorker { _ in
                try await waitUntil("both rollup jobs succeed") {
                    try await o.scalar(
                        "SELECT count(*)::int8 FROM jobs WHERE pipeline = 'field-rollup' AND state = 'succeeded'",
                        as: Int.self
                    ) == 2
                }
            }
            let through = try await o.scalar("SELECT rolled_through::text FROM field_rollup_state WHERE org_id = \(org.id)", as: String.self)
            #expect(through == FieldSummaryTests.localDay(0), "today is rolled up too, up to the cutoff")
            let progress = try await o.scalar(
                "SELECT progress->>'rolledThrough' FROM jobs WHERE pipeline = 'field-rollup' AND state = 'succeeded' LIMIT 1",
                as: String.self
            )
            #expect(progress == FieldSummaryTests.localDay(0))
            // The interaction arrived within the pipeline's settle time: not rolled yet, counted live.
            let summary = try await FieldSummaryTests.summary(o.h, token: admin)
            #expect(FieldSummaryTests.totals(summary)["attempts"] as? Int == 1, "\(summary)")
        }
    }

    @Test func intradayHourlyPerOrg() async throws {
        var pipelines = Orchestra.defaultPipelines
        pipelines["field-rollup-intraday"] = try Self.shippedFile("field-rollup-intraday")
        try await Orchestra.run(pipelines: pipelines) { o in
            let org = try await o.h.makeOrg()
            let admin = try await o.h.token(org.email(.admin))
            let ids = try await CampaignTests.voters(o.h, token: admin, [CampaignTests.voter(0)])
            let earlier = FieldSummaryTests.localDay(2)
            try await FieldSummaryTests.submit(o.h, token: admin, [FieldSummaryTests.item(ids[0], "canvassed", at: FieldSummaryTests.noon(earlier))])
            // :30 of every hour in the org's zone: once per hour, however often and by however many schedulers it is looked at.
            let scheduler = try Scheduler(jobs: o.jobs, databaseURL: o.config.databaseURL, logger: o.logger)
            try await scheduler.fireDue(now: CronTests.date("2026-11-22T08:30:30Z"))
            try await scheduler.fireDue(now: CronTests.date("2026-11-22T08:45:00Z"))
            let second = try Scheduler(jobs: o.jobs, databaseURL: o.config.databaseURL, logger: o.logger)
            try await second.fireDue(now: CronTests.date("2026-11-22T08:50:00Z"))
            func runs(_ state: String? = nil) async throws -> Int? {
                try await o.scalar(
                    """
                    SELECT count(*)::int8 FROM jobs WHERE pipeline = 'field-rollup-intraday' AND org_id = \(org.id)
                    AND (\(state)::text IS NULL OR state = \(state))
                    """,
                    as: Int.self
                )
            }
            #expect(try await runs() == 1)
            try await scheduler.fireDue(now: CronTests.date("2026-11-22T09:30:10Z"))
            #expect(try await runs() == 2, "the next hour fires again")
            try await o.withWorker { _ in
                try await waitUntil("both runs succeed") {
                    try await runs("succeeded") == 2
                }
            }
            let through = try await o.scalar("SELECT rolled_through::text FROM field_rollup_state WHERE org_id = \(org.id)", as: String.self)
            #expect(through == FieldSummaryTests.localDay(0))
            // Received within the pipeline's settle time: left to the next run, counted live meanwhile.
            let summary = try await FieldSummaryTests.summary(o.h, token: admin, "?from=\(earlier)&to=\(FieldSummaryTests.localDay(0))")
            #expect(FieldSummaryTests.totals(summary)["attempts"] as? Int == 1, "\(summary)")
        }
    }
}
