import Foundation
import Logging
import Pipelines
import PostgresNIO
@_spi(TenantAuth) import Store
import Testing

@testable import Actors

/// The job runtime's review findings: stops of waiting jobs, long fenced transactions, lock order,
/// worker pruning, and Redis scripts called by digest.
@Suite struct RuntimeTests {
    /// A job stopped while it waits for its org's local slot records its outcome without ever
    /// running its pipeline.
    @Test func aStoppedWaitingJobNeverRunsItsPipeline() async throws {
        var pipelines = Orchestra.defaultPipelines
        pipelines["probe"] = "name: probe\nlease: 3s\nper_org_concurrency: 1\nglobal_concurrency: 8"
        try await Orchestra.run(pipelines: pipelines) { o in
            let org = try await o.h.makeOrg()
            let scope = OrgScope(orgId: org.id)
            let calls = Locked<[UUID]>([])
            try await o.withWorker(pipelines: try o.pipelines.adding([ProbePipeline(calls: calls)])) { _ in
                let first = try await o.jobs.enqueueAndPublish([JobSpec(ProbePipeline.self, .init(ms: 60_000), scope: scope)])[0]
                try await waitUntil("the first job running") { calls.value == [first.id] }
                let second = try await o.jobs.enqueueAndPublish([JobSpec(ProbePipeline.self, .init(ms: 0), scope: scope)])[0]
                // Redis holds the org at its cap of one. Forgetting its slots (as a flush would) lets the worker
                // claim the second job while the first still runs: it waits for the org's local slot.
                let active = "\(o.config.redisKeyPrefix)jobs:{probe}:active"
                try await waitUntil("the second job claimed") {
                    try await o.jobs.queue.redis.command("DEL", active, "\(active):\(org.idString)")
                    return try await o.job(second.id).state == .running
                }
                #expect(calls.value == [first.id], "the second job waits")
                _ = try await o.jobs.ledger.cancel(jobId: second.id, on: o.h.db)
                try await waitUntil("the waiting job cancelled", timeout: .seconds(5)) { try await o.job(second.id).state == .cancelled }
                #expect(try await o.job(second.id).attempts.map(\.outcome) == [.cancelled])
                #expect(calls.value == [first.id], "the cancelled job's pipeline never ran")
                _ = try await o.jobs.ledger.cancel(jobId: first.id, on: o.h.db)
                try await waitUntil("the first job cancelled", timeout: .seconds(5)) { try await o.job(first.id).state == .cancelled }
            }
        }
    }

    /// A fenced transaction open for three lease periods: heartbeats keep extending its lease and
    /// the other jobs' (the transaction's row lock does not hold them up), and each job runs once.
    @Test func aFencedTransactionLongerThanTheLeaseKeepsItAlive() async throws {
        var pipelines = Orchestra.defaultPipelines
        pipelines["fenced-hold"] = "name: fenced-hold\nlease: 1s"
        try await Orchestra.run(pipelines: pipelines) { o in
            try await o.withWorker(pipelines: try o.pipelines.adding([FencedHoldPipeline()])) { _ in
                let held = try await o.jobs.enqueueAndPublish([JobSpec(FencedHoldPipeline.self, .init(ms: 3_000), scope: nil)])[0]
                // Longer than the fenced job, so that it is surely still running when its lease is read.
                let other = try await o.jobs.enqueueAndPublish([JobSpec(SleepPipeline.self, .init(ms: 6_000), scope: nil)])[0]
                try await waitUntil("both running") { try await o.states()["running"] == 2 }
                // Two lease periods in, the fenced transaction is still open.
                try await Task.sleep(for: .seconds(2))
                for id in [held.id, other.id] {
                    let alive = try await o.scalar("SELECT lease_expires_at > now() FROM jobs WHERE id = \(id)", as: Bool.self)
                    #expect(alive == true, "the lease of \(id == held.id ? "the fenced job" : "the other job") was extended")
                }
                try await waitUntil("both succeeded", timeout: .seconds(10)) { try await o.states() == ["succeeded": 2] }
                #expect(try await o.job(held.id).attempts.map(\.outcome) == [.succeeded])
                #expect(try await o.job(other.id).attempts.map(\.outcome) == [.succeeded])
                #expect(try await o.scalar("SELECT count(*)::int8 FROM diagnostic_effects WHERE job_id = \(held.id)", as: Int.self) == 1)
            }
        }
    }

    /// Two claims of the same 400 queued jobs in opposite orders (ids Redis handed out twice), both
    /// waiting on a bulk UPDATE of those rows: when it commits, they queue behind each other (rows
    /// locked in id order) instead of meeting in the middle and deadlocking; each job is claimed once.
    @Test func overlappingClaimsBehindABulkUpdateDoNotDeadlock() async throws {
        try await Orchestra.run { o in
            let org = try await o.h.makeOrg()
            let ledger = o.jobs.ledger
            let db = o.h.db
            let logger = o.logger
            // A backlog, planned as production plans it: the claimed ids are looked up by index in the order given.
            let backlog = try await db.inTransaction(logger: logger) { connection in
                try await o.jobs.enqueueCopies(
                    try JobPayload(NoopPipeline.self, .init()),
                    scopes: [OrgScope(orgId: org.id)],
                    count: 5_000,
                    requestId: nil,
                    on: connection
                )
            }
            try await db.query("ANALYZE jobs", logger: logger).consume()
            let ids = backlog.prefix(400).map(\.id)
            let locked = AsyncStream<Void>.makeStream()
            let release = AsyncStream<Void>.makeStream()
            let claimed = try await withThrowingTaskGroup(of: [ClaimedJob].self) { group in
                group.addTask {
                    try await db.inTransaction(logger: logger) { connection in
                        try await connection.query("UPDATE jobs SET priority = priority WHERE id = ANY(\(ids))", logger: logger).consume()
                        locked.continuation.finish()
                        for await _ in release.stream {}
                    }
                    return []
                }
                for await _ in locked.stream {}
                for (worker, order) in [("a", ids), ("b", ids.reversed())] {
                    group.addTask {
                        do {
                            return try await ledger.claim(order.map { ($0, UUID()) }, worker: worker, lease: .seconds(30), on: db)
                        } catch let error as PSQLError {
                            throw TestFailure("claim \(worker) failed: \(error.serverInfo?[.message] ?? String(reflecting: error))")
                        }
                    }
                }
                try await waitUntil("both claims wait on the bulk UPDATE") {
                    try await o.scalar(
                        "SELECT count(*)::int8 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
                        as: Int.self
                    ) == 2
                }
                release.continuation.finish()
                var all: [ClaimedJob] = []
                for try await jobs in group { all += jobs }
                return all
            }
            #expect(claimed.count == 400 && Set(claimed.map(\.id)) == Set(ids), "each job claimed once")
        }
    }

    /// A worker row silent for a day goes at the next reconciler pass; the live worker's stays.
    @Test func workersSilentForADayArePruned() async throws {
        try await Orchestra.run { o in
            try await o.h.db.query(
                """
                INSERT INTO workers (id, host, pid, pipelines, lease_ms, started_at, last_heartbeat_at)
                VALUES ('gone:1:abcdef', 'gone', 1, '{noop}', 1000, now() - interval '3 days', now() - interval '2 days')
                """,
                logger: o.logger
            ).consume()
            try await o.withWorker { supervisor in
                try await waitUntil("the silent worker pruned", timeout: .seconds(5)) {
                    try await o.scalar("SELECT count(*)::int8 FROM workers WHERE id = 'gone:1:abcdef'", as: Int.self) == 0
                }
                let live = await supervisor.settings.id
                try await waitUntil("the live worker listed") {
                    try await o.scalar("SELECT count(*)::int8 FROM workers WHERE id = \(live)", as: Int.self) == 1
                }
            }
        }
    }

    /// The transport's scripts run by digest (`EVALSHA`, never `EVAL`), and a Redis that forgot
    /// them (`SCRIPT FLUSH`, as a restart does) gets them loaded again.
    @Test func redisScriptsRunByDigestAndAreReloaded() async throws {
        let port = 57_000 + Int.random(in: 0..<500)
        let redis = try InfrastructureTests.startRedis(port: port)
        defer {
            redis.signal(SIGKILL)
            _ = waitpid(redis.pid, nil, 0)
        }
        try await Orchestra.run(redisURL: "redis://127.0.0.1:\(port)/0") { o in
            let org = try await o.h.makeOrg()
            let staff = try await o.h.staffToken()
            var loadedBeforeTheFlush = 0
            try await o.withWorker { _ in
                try await o.enqueue("noop", count: 50, orgIds: [org.id], token: staff)
                try await waitUntil("50 done") { try await o.states(org: org.id)["succeeded"] == 50 }
                loadedBeforeTheFlush = try await Self.calls("script|load", on: o.jobs.queue.redis)
                try await o.jobs.queue.redis.command("SCRIPT", "FLUSH")
                try await o.enqueue("noop", count: 50, orgIds: [org.id], token: staff)
                try await waitUntil("100 done") { try await o.states(org: org.id)["succeeded"] == 100 }
            }
            #expect(try await Self.calls("evalsha", on: o.jobs.queue.redis) > 10)
            #expect(try await Self.calls("eval", on: o.jobs.queue.redis) == 0)
            #expect(loadedBeforeTheFlush > 0)
            #expect(try await Self.calls("script|load", on: o.jobs.queue.redis) > loadedBeforeTheFlush, "loaded again after the flush")
        }
    }

    /// Calls of `command` since Redis started, from `INFO commandstats`.
    static func calls(_ command: String, on redis: RedisClient) async throws -> Int {
        let stats = try await redis.command("INFO", "commandstats").string ?? ""
        guard let line = stats.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("cmdstat_\(command):") }) else { return 0 }
        let fields = line.drop { $0 != ":" }.dropFirst().split(separator: ",")
        return fields.first { $0.hasPrefix("calls=") }.flatMap { Int($0.dropFirst("calls=".count)) } ?? 0
    }
}
