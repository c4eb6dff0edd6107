import Foundation
import Testing

@testable import Actors

@Suite struct CronTests {
    static let utc = TimeZone(identifier: "UTC")!
    static let newYork = TimeZone(identifier: "America/New_York")!

    static func date(_ text: String) -> Date { try! Date(text, strategy: .iso8601) }
    static func next(_ cron: String, _ after: String, _ zone: TimeZone = utc) throws -> String? {
        try CronExpression(cron).next(after: date(after), in: zone)?.formatted(.iso8601)
    }

    @Test func fieldsListsRangesStepsAndNames() throws {
        #expect(try Self.next("*/15 9-17 * * MON-FRI", "2026-11-20T17:50:00Z") == "2026-11-23T09:00:00Z")  // Friday evening → Monday
        #expect(try Self.next("*/15 9-17 * * MON-FRI", "2026-11-23T09:00:00Z") == "2026-11-23T09:15:00Z")
        #expect(try Self.next("0 0 1,15 * *", "2026-11-02T00:00:00Z") == "2026-11-15T00:00:00Z")
        #expect(try Self.next("0 12 * jan,JUL sun", "2026-11-22T00:00:00Z") == "2027-01-03T12:00:00Z")
        #expect(try Self.next("5-20/5 * * * *", "2026-11-22T10:20:00Z") == "2026-11-22T11:05:00Z")
        #expect(try Self.next("0 0 29 2 *", "2026-03-01T00:00:00Z") == "2028-02-29T00:00:00Z")  // leap day
        #expect(try Self.next("0 0 * * 7", "2026-11-22T00:00:00Z") == "2026-11-29T00:00:00Z")  // 7 is Sunday
        #expect(try Self.next("@daily", "2026-11-22T10:00:00Z") == "2026-11-23T00:00:00Z")
        #expect(try Self.next("@hourly", "2026-11-22T10:00:00Z") == "2026-11-22T11:00:00Z")
        #expect(try Self.next("*/10 * * * * *", "2026-11-22T10:00:05Z") == "2026-11-22T10:00:10Z")  // seconds field
        #expect(try Self.next("30 * * * * *", "2026-11-22T10:00:30Z") == "2026-11-22T10:01:30Z")
    }

    /// Day of month and day of week both restricted: either matching fires (Vixie semantics).
    @Test func dayOfMonthOrDayOfWeek() throws {
        // 2026-11-13 is a Friday; after it, the next Friday is the 20th, before the next 13th.
        #expect(try Self.next("0 0 13 * FRI", "2026-11-13T00:00:00Z") == "2026-11-20T00:00:00Z")
        #expect(try Self.next("0 0 13 * FRI", "2026-11-28T00:00:00Z") == "2026-12-04T00:00:00Z")
        #expect(try Self.next("0 0 13 * *", "2026-11-28T00:00:00Z") == "2026-12-13T00:00:00Z")
    }

    @Test func refusesBadExpressions() {
        for bad in [
            "60 * * * *", "* * *", "5-1 * * * *", "*/0 * * * *", "foo * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "1,,2 * * * *", "@sometimes",
            "1/2/3 * * * *",
        ] {
            #expect(throws: CronError.self, "\(bad)") { try CronExpression(bad) }
        }
    }

    /// Clocks spring forward in New York on 2026-03-08 at 02:00 (to 03:00): a 02:30 entry runs
    /// at 03:00 that day, and at 02:30 the day after.
    @Test func daylightSavingGapRunsOnceAfterTheGap() throws {
        #expect(try Self.next("30 2 * * *", "2026-03-07T12:00:00Z", Self.newYork) == "2026-03-08T07:00:00Z")
        #expect(try Self.next("30 2 * * *", "2026-03-08T07:00:00Z", Self.newYork) == "2026-03-09T06:30:00Z")
        // A wildcard-hour entry follows the wall clock: 01:30 EST, then 03:30 EDT.
        #expect(try Self.next("30 * * * *", "2026-03-08T06:30:00Z", Self.newYork) == "2026-03-08T07:30:00Z")
    }

    /// Clocks fall back on 2026-11-01 at 02:00 EDT (to 01:00 EST): a 01:30 entry runs once.
    @Test func daylightSavingOverlapRunsOnce() throws {
        #expect(try Self.next("30 1 * * *", "2026-10-31T12:00:00Z", Self.newYork) == "2026-11-01T05:30:00Z")
        #expect(try Self.next("30 1 * * *", "2026-11-01T05:30:00Z", Self.newYork) == "2026-11-02T06:30:00Z")
        // Hourly entries run every real hour, both 01:00s included.
        #expect(try Self.next("0 * * * *", "2026-11-01T05:00:00Z", Self.newYork) == "2026-11-01T06:00:00Z")
        // A nightly 02:00 entry in each zone.
        #expect(try Self.next("0 2 * * *", "2026-11-22T00:00:00Z", TimeZone(identifier: "Asia/Tokyo")!) == "2026-11-22T17:00:00Z")
        #expect(try Self.next("0 2 * * *", "2026-11-22T00:00:00Z", TimeZone(identifier: "America/Chicago")!) == "2026-11-22T08:00:00Z")
    }
}

@Suite struct PipelineConfigTests {
    @Test func theShippedPipelinesLoad() throws {
        let catalog = try PipelineCatalog.load(directory: "pipelines")
        #expect(Set(catalog.names).isSuperset(of: ["noop", "sleep", "fail"]))
    }

    @Test func parsesEveryKey() throws {
        let config = try PipelineCatalog.parse(
            """
            # a comment
            name: rollup   # trailing comment
            max_attempts: 5
            backoff:
              base: 500ms
              cap: 2m
              jitter: equal
            timeout: 1h
            lease: 45s
            per_org_concurrency: 2
            global_concurrency: 10
            priority: -5
            schedule:
              cron: "0 2 * * *"
              timezone: America/Chicago
              per_org: true
            """,
            file: "rollup.yaml"
        )
        #expect(config.name == "rollup" && config.maxAttempts == 5 && config.priority == -5)
        #expect(config.backoff == BackoffPolicy(base: .milliseconds(500), cap: .seconds(120), jitter: .equal))
        #expect(config.timeout == .seconds(3600) && config.lease == .seconds(45))
        #expect(config.perOrgConcurrency == 2 && config.globalConcurrency == 10)
        #expect(config.schedule?.perOrg == true && config.schedule?.timeZone.identifier == "America/Chicago")
    }

    @Test func errorsNameTheFileTheKeyAndTheExpectation() {
        func error(_ text: String) -> PipelineConfigError? {
            do { _ = try PipelineCatalog.parse(text, file: "pipelines/x.yaml") } catch let e as PipelineConfigError { return e } catch { return nil }
            return nil
        }
        #expect(error("max_attempts: 3")?.key == "name")
        #expect(error("name: x\nmax_attempts: lots")?.description == "pipelines/x.yaml: max_attempts: a whole number in 1...100, got \"lots\"")
        #expect(error("name: x\nbackoff:\n  base: soon")?.key == "backoff.base")
        #expect(error("name: x\nbackoff:\n  jitter: wild")?.description.contains("none, full or equal") == true)
        #expect(error("name: x\ntimout: 5s")?.description.contains("not a known key") == true)
        #expect(error("name: x\nschedule:\n  cron: \"61 * * * *\"")?.key == "schedule.cron")
        #expect(error("name: x\nschedule:\n  cron: \"0 2 * * *\"\n  timezone: Mars/Base")?.key == "schedule.timezone")
        #expect(error("name: x\nper_org_concurrency: 50\nglobal_concurrency: 10")?.key == "per_org_concurrency")
        #expect(error("name: x\nname: y")?.description.contains("repeats") == true)
        #expect(error("name: [x]")?.key == "line 1")
        #expect(error("name: Bad Name")?.key == "name")
    }

    @Test func backoffGrowsAndIsCapped() {
        let policy = BackoffPolicy(base: .milliseconds(100), cap: .seconds(1), jitter: .none)
        #expect((1...6).map { policy.delay(afterAttempt: $0).milliseconds } == [100, 200, 400, 800, 1000, 1000])
        let full = BackoffPolicy(base: .milliseconds(100), cap: .seconds(1), jitter: .full)
        #expect(full.delay(afterAttempt: 3, random: { 0.5 }).milliseconds == 200)
        let equal = BackoffPolicy(base: .milliseconds(100), cap: .seconds(1), jitter: .equal)
        #expect(equal.delay(afterAttempt: 3, random: { 0 }).milliseconds == 200)
        for attempt in 1...10 { #expect(full.delay(afterAttempt: attempt) <= .seconds(1)) }
    }

    @Test func fingerprintsIgnoreParticulars() {
        let a = ErrorFingerprint.make(
            pipeline: "import",
            errorType: "ParseError",
            message: "row 12 of file 'a.csv' for 3f2504e0-4f89-11d3-9a0c-0305e82c3301: bad date \"2024-13-01\""
        )
        let b = ErrorFingerprint.make(
            pipeline: "import",
            errorType: "ParseError",
            message: "row 99812 of file 'b.csv' for 6ba7b810-9dad-11d1-80b4-00c04fd430c8: bad date \"1999-99-99\""
        )
        #expect(a == b)
        #expect(a != ErrorFingerprint.make(pipeline: "export", errorType: "ParseError", message: "row 12 of file 'a.csv'"))
        #expect(a != ErrorFingerprint.make(pipeline: "import", errorType: "IOError", message: "row 12 of file 'a.csv'"))
        #expect(ErrorFingerprint.normalise("timeout after 30s talking to 10.0.0.1") == "timeout after <n>s talking to <n>")
    }
}
