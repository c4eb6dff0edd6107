import APIEdge
import Foundation
import Logging
import PostgresNIO
@_spi(TenantAuth) import Store
import Testing

@testable import Actors

@Suite struct LedgerTests {
    @Test func enqueueCommitsAndRollsBackWithItsTransaction() async throws {
        try await Orchestra.run { o in
            let org = try await o.h.makeOrg()
            struct Marker: Error {}
            await #expect(throws: Marker.self) {
                try await o.h.db.inTransaction(logger: o.logger) { connection in
                    _ = try await o.jobs.enqueue([JobSpec(pipeline: "noop", orgId: org.id, uniqueKey: "rolled-back")], on: connection)
                    throw Marker()
                }
            }
            #expect(try await o.scalar("SELECT count(*)::int8 FROM jobs", as: Int.self) == 0)
            let jobs = try await o.jobs.enqueueAndPublish([JobSpec(pipeline: "noop", orgId: org.id, uniqueKey: "committed")])
            #expect(jobs.count == 1 && jobs[0].state == .queued && jobs[0].inserted)
            #expect(try await o.scalar("SELECT count(*)::int8 FROM jobs", as: Int.self) == 1)
            #expect(try await o.jobs.queue.depth(pipeline: "noop") == 1, "published after commit")
            // A delayed job is scheduled, not published, until the promoter finds it due.
            let later = try await o.jobs.enqueueAndPublish([JobSpec(pipeline: "noop", orgId: org.id, runAt: Date().addingTimeInterval(3600))])
            #expect(later[0].state == .scheduled)
            #expect(try await o.jobs.queue.depth(pipeline: "noop") == 1)
            await #expect(throws: JobSpecError.unknownPipeline("nope")) {
                _ = try await o.jobs.enqueueAndPublish([JobSpec(pipeline: "nope", orgId: nil)])
            }
        }
    }

    @Test func fiftyConcurrentEnqueuesOfOneUniqueKeyMakeOneJob() async throws {
        try await Orchestra.run { o in
            let org = try await o.h.makeOrg()
            let results = try await withThrowingTaskGroup(of: EnqueuedJob.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        try await o.jobs.enqueueAndPublish([JobSpec(pipeline: "noop", orgId: org.id, uniqueKey: "nightly:2026-11-22")])[0]
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(Set(results.map(\.id)).count == 1, "every caller gets the same job")
            #expect(results.filter(\.inserted).count == 1)
            #expect(try await o.scalar("SELECT count(*)::int8 FROM jobs WHERE unique_key = 'nightly:2026-11-22'", as: Int.self) == 1)
            // Within one batch too.
            let batch = try await o.jobs.enqueueAndPublish(
                (0..<3).map { _ in JobSpec(pipeline: "noop", orgId: org.id, uniqueKey: "batch-key") }
            )
            #expect(Set(batch.map(\.id)).count == 1)
        }
    }

    /// A worker whose lease was taken over can neither finish, heartbeat, report progress nor
    /// write fenced effects; the later attempt can.
    @Test func staleWorkerCannotOverwriteALaterAttempt() async throws {
        try await Orchestra.run { o in
            let ledger = o.jobs.ledger
            let db = o.h.db
            let job = try await o.jobs.enqueueAndPublish([JobSpec(pipeline: "noop", orgId: nil)])[0]
            let first = try await ledger.claim([(job.id, UUID())], worker: "stale-worker", lease: .seconds(30), on: db)
            #expect(first.count == 1 && first[0].attempt == 1)
            #expect(
                try await ledger.claim([(job.id, UUID())], worker: "other", lease: .seconds(30), on: db).isEmpty,
                "a running job cannot be claimed"
            )
            try await db.query("UPDATE jobs SET lease_expires_at = now() - interval '1 second' WHERE id = \(job.id)", logger: o.logger).consume()
            let rescued = try await ledger.sweepExpiredLeases(on: db)
            #expect(rescued.map(\.id) == [job.id] && rescued[0].state == .queued)
            let second = try await ledger.claim([(job.id, UUID())], worker: "fresh-worker", lease: .seconds(30), on: db)
            #expect(second.count == 1 && second[0].attempt == 2)
            // The running attempt is read off the job row (its own row is written when it ends).
            let running = try await o.job(job.id).attempts
            #expect(running.map(\.attempt) == [1, 2] && running.map(\.workerId) == ["stale-worker", "fresh-worker"])
            #expect(running[1].outcome == nil && running[1].finishedAt == nil && running[1].startedAt >= running[0].finishedAt!)

            #expect(try await ledger.finish(first[0], .succeeded, on: db) == nil, "stale completion rejected")
            #expect(try await ledger.finish(first[0], .failed(error: "x", fingerprint: "f", retryAfter: nil), on: db) == nil)
            #expect(try await ledger.heartbeat([(first[0].id, first[0].leaseToken, .seconds(30))], on: db).isEmpty)
            #expect(try await ledger.progress(jobId: job.id, token: first[0].leaseToken, json: "{}", on: db) == false)
            let staleFence = try await db.withTransaction(logger: o.logger) { c in
                try await ledger.lockLease(jobId: job.id, token: first[0].leaseToken, on: c)
            }
            #expect(staleFence == false)

            #expect(try await ledger.heartbeat([(second[0].id, second[0].leaseToken, .seconds(30))], on: db)[job.id] == false)
            #expect(try await ledger.progress(jobId: job.id, token: second[0].leaseToken, json: #"{"done": 1}"#, on: db))
            #expect(try await ledger.finish(second[0], .succeeded, on: db)?.state == .succeeded)
            let record = try await o.job(job.id)
            #expect(record.state == .succeeded && record.progressJSON?.contains("\"done\"") == true)
            #expect(record.attempts.map(\.outcome) == [.lost, .succeeded])
            #expect(record.attempts.map(\.workerId) == ["stale-worker", "fresh-worker"])
            #expect(try await o.scalar("SELECT count(*)::int8 FROM job_attempts WHERE job_id = \(job.id)", as: Int.self) == 2)
        }
    }
}

extension LedgerTests {
    /// A cancel asked for while an attempt is failing (or being handed back) wins: the job does not run again.
    @Test func pendingCancelWinsOverRetryAndHandBack() async throws {
        try await Orchestra.run { o in
            let ledger = o.jobs.ledger
            let db = o.h.db
            for ending in [JobLedger.Ending.failed(error: "boom", fingerprint: "f", retryAfter: .seconds(1)), .returned] {
                let job = try await o.jobs.enqueueAndPublish([JobSpec(pipeline: "noop", orgId: nil)])[0]
                let claimed = try await ledger.claim([(job.id, UUID())], worker: "w", lease: .seconds(30), on: db)[0]
                #expect(try await ledger.cancel(jobId: job.id, on: db).state == .running)
                #expect(try await ledger.finish(claimed, ending, on: db)?.state == .cancelled)
                #expect(try await o.job(job.id).attempts.map(\.outcome) == [.cancelled])
            }
        }
    }

    /// Two dead jobs sharing a unique key: a bulk retry brings back one (the key allows one unfinished job), not a 500.
    /// A priority out of range is clamped, not a crash.
    @Test func bulkRetryKeepsUniqueKeysAndPrioritiesAreClamped() async throws {
        try await Orchestra.run { o in
            let org = try await o.h.makeOrg()
            for _ in 0..<2 {
                let job = try await o.jobs.enqueueAndPublish([JobSpec(pipeline: "noop", orgId: org.id, priority: 10_000_000, uniqueKey: "k")])[0]
                try await o.h.db.query(
                    "UPDATE jobs SET state = 'dead', finished_at = now(), lease_token = NULL WHERE id = \(job.id)",
                    logger: o.logger
                ).consume()
            }
            #expect(try await o.scalar("SELECT max(priority)::int8 FROM jobs", as: Int.self) == 100)
            let result = try await o.jobs.ledger.bulkRetry(
                BulkRetryFilter(orgId: org.id),
                dryRun: false,
                rate: 500,
                catalog: o.jobs.catalog,
                on: o.h.db
            )
            #expect(result.matched == 2 && result.retried == 1)
            #expect(try await o.states(org: org.id) == ["scheduled": 1, "dead": 1])
        }
    }
}

@Suite struct WorkerTests {
    /// Retryable failures follow the backoff (200 ms, then 400 ms, no jitter) and go dead after
    /// three attempts; a non-retryable failure is dead at once; retrying a dead job keeps its id
    /// and history. Job log lines carry the job's identities.
    @Test func retriesBackoffDeadLettersAndRetryFromDead() async throws {
        try await Orchestra.run { o in
            let org = try await o.h.makeOrg()
            try await o.withWorker { _ in
                let reply = try await o.enqueue("fail", count: 2, orgIds: [org.id])
                try await waitUntil("both fail jobs dead", timeout: .seconds(20)) { try await o.states(org: org.id)["dead"] == 2 }
                var ids: [UUID] = []
                for try await id in try await o.h.db.query("SELECT id FROM jobs WHERE org_id = \(org.id) ORDER BY id", logger: o.logger).decode(
                    UUID.self
                ) {
                    ids.append(id)
                }
                let job = try await o.job(ids[0])
                #expect(job.attempts.map(\.outcome) == [.failed, .failed, .failed])
                #expect(job.attempt == 3 && job.lastError?.contains("diagnostic failure") == true)
                for (index, expected) in [(1, 0.2), (2, 0.4)] {
                    let gap = job.attempts[index].startedAt.timeIntervalSince(job.attempts[index - 1].finishedAt!)
                    // Never before the backoff; the upper bound leaves room for a loaded machine (the whole suite runs at once).
                    #expect(gap >= expected - 0.01 && gap < expected + 3.0, "gap before attempt \(index + 1): \(gap) s")
                }
                let other = try await o.job(ids[1])
                #expect(job.errorFingerprint != nil && job.errorFingerprint == other.errorFingerprint, "same failure, same group")

                let logs = o.h.logs.lines.filter { $0.contains("\"job_id\":\"\(ids[0].uuidString.lowercased())\"") }
                #expect(logs.contains { $0.contains("job failed; dead-lettered") })
                #expect(
                    logs.allSatisfy {
                        $0.contains("\"pipeline\":\"fail\"") && $0.contains("\"attempt\":") && $0.contains("\"org_id\":\"\(org.idString)\"")
                            && $0.contains("\"request_id\":\"\(reply.requestId!)\"")
                    }
                )

                // Retry from dead: same id, three more attempts, history kept.
                let retried = try await o.jobs.ledger.retry(jobId: ids[0], catalog: o.jobs.catalog, on: o.h.db)
                await o.jobs.publish([retried])
                try await waitUntil("retried job dead again", timeout: .seconds(20)) {
                    let j = try await o.job(ids[0])
                    return j.state == .dead && j.attempts.count == 6
                }
                #expect(try await o.job(ids[0]).attempts.map(\.attempt) == [1, 2, 3, 4, 5, 6])
                await #expect(throws: JobActionError.wrongState(current: .dead, allowed: [.scheduled, .queued, .retrying, .running])) {
                    _ = try await o.jobs.ledger.cancel(jobId: ids[0], on: o.h.db)
                }

                let other2 = try await o.h.makeOrg()
                try await o.enqueue("fail", count: 1, orgIds: [other2.id], args: ["retryable": false])
                try await waitUntil("non-retryable job dead", timeout: .seconds(10)) { try await o.states(org: other2.id)["dead"] == 1 }
                let id = try #require(try await o.scalar("SELECT id FROM jobs WHERE org_id = \(other2.id)", as: UUID.self))
                #expect(try await o.job(id).attempts.count == 1, "dead at once")
            }
            let metrics = try await o.h.call(.get, "/metrics").text
            #expect(metrics.contains("fieldwork_jobs_dead_total{pipeline=\"fail\"}"))
            #expect(metrics.contains("fieldwork_jobs_enqueued_total{pipeline=\"fail\"}"))
        }
    }

    /// Cancelling a running job stops it within a heartbeat and records the attempt as cancelled.
    @Test func cancelStopsARunningJob() async throws {
        try await Orchestra.run { o in
            let org = try await o.h.makeOrg()
            try await o.withWorker { _ in
                try await o.enqueue("sleep", count: 1, orgIds: [org.id], args: ["ms": 60_000])
                try await waitUntil("sleep job running") { try await o.states(org: org.id)["running"] == 1 }
                let id = try #require(try await o.scalar("SELECT id FROM jobs WHERE org_id = \(org.id)", as: UUID.self))
                let asked = try await o.jobs.ledger.cancel(jobId: id, on: o.h.db)
                #expect(asked.state == .running, "a running job is asked to stop")
                let clock = ContinuousClock.now
                try await waitUntil("job cancelled", timeout: .seconds(5)) { try await o.job(id).state == .cancelled }
                #expect(ContinuousClock.now - clock < .seconds(2), "stopped within a heartbeat (lease 1 s / 3)")
                #expect(try await o.job(id).attempts.map(\.outcome) == [.cancelled])
            }
        }
    }

    /// Org A's 10,000-job backlog does not hold back org B's 10 jobs.
    @Test func dispatchIsFairAcrossOrgs() async throws {
        try await Orchestra.run { o in
            let a = try await o.h.makeOrg()
            let b = try await o.h.makeOrg()
            try await o.withWorker { _ in
                try await o.enqueue("sleep", count: 10_000, orgIds: [a.id], args: ["ms": 5])
                try await o.enqueue("sleep", count: 10, orgIds: [b.id], args: ["ms": 5])
                try await waitUntil("org B's jobs done", timeout: .seconds(60)) { try await o.states(org: b.id)["succeeded"] == 10 }
                let aDone = try await o.states(org: a.id)["succeeded", default: 0]
                #expect(aDone < 2_000, "org A had \(aDone) of 10,000 done when B finished")
                // A's backlog is left queued: the worker drains only what it runs, and the scratch database goes.
                // (A bulk UPDATE of the queued rows here could deadlock with the worker's claims, which lock rows in another order.)
            }
        }
    }

    /// Redis flushed in the middle of 5,000 jobs: the reconciler re-publishes from the ledger and every job succeeds.
    @Test func flushallLosesNoJob() async throws {
        let port = 56_900 + Int.random(in: 0..<90)
        let redis = try InfrastructureTests.startRedis(port: port)
        defer {
            redis.signal(SIGKILL)
            _ = waitpid(redis.pid, nil, 0)
        }
        try await Orchestra.run(redisURL: "redis://127.0.0.1:\(port)/0") { o in
            let org = try await o.h.makeOrg()
            try await o.withWorker { _ in
                try await o.enqueue("noop", count: 5_000, orgIds: [org.id])
                try await waitUntil("some jobs done", timeout: .seconds(30), every: .milliseconds(5)) {
                    try await o.states(org: org.id)["succeeded", default: 0] >= 300
                }
                let before = try await o.states(org: org.id)["succeeded", default: 0]
                try await o.jobs.queue.redis.command("FLUSHALL")
                #expect(before < 5_000, "flushed mid-stream (\(before) done)")
                try await waitUntil("all 5,000 succeeded", timeout: .seconds(90)) { try await o.states(org: org.id)["succeeded"] == 5_000 }
            }
            #expect(try await o.states(org: org.id) == ["succeeded": 5_000])
        }
    }

    /// Redis stopped for 10 s and started again: the worker recovers without a restart, and jobs
    /// enqueued during the outage (committed, publish failed) run too.
    @Test func workerRecoversFromARedisOutage() async throws {
        let port = 56_990 + Int.random(in: 0..<9)
        let redis = Locked(try InfrastructureTests.startRedis(port: port))
        defer {
            redis.value.signal(SIGKILL)
            _ = waitpid(redis.value.pid, nil, 0)
        }
        try await Orchestra.run(redisURL: "redis://127.0.0.1:\(port)/0") { o in
            let org = try await o.h.makeOrg()
            try await o.withWorker { _ in
                // Signed in before the outage: sign-in itself needs Redis (the rate limiter fails closed).
                let staff = try await o.h.staffToken()
                try await o.enqueue("noop", count: 100, orgIds: [org.id], token: staff)
                try await waitUntil("first 100 done") { try await o.states(org: org.id)["succeeded"] == 100 }
                try await InfrastructureTests.stop(redis.value)
                try await o.enqueue("noop", count: 100, orgIds: [org.id], token: staff)
                try await Task.sleep(for: .seconds(10))
                #expect(try await o.states(org: org.id)["succeeded"] == 100)
                redis.value = try InfrastructureTests.startRedis(port: port)
                try await waitUntil("all 200 done after the restart", timeout: .seconds(30)) { try await o.states(org: org.id)["succeeded"] == 200 }
            }
        }
    }
}

@Suite struct WorkerProcessTests {
    /// `kill -9` a worker mid-job: another worker process finishes the job after the lease
    /// expires; the killed attempt is `lost`, and the job's effect happens once.
    @Test func killedWorkersJobIsRescuedAndRunsItsEffectOnce() async throws {
        try await Orchestra.run { o in
            let org = try await o.h.makeOrg()
            let first = try await o.startWorkerProcess()
            defer {
                first.signal(SIGKILL)
                _ = waitpid(first.pid, nil, 0)
            }
            try await o.enqueue("sleep", count: 1, orgIds: [org.id], args: ["ms": 3_000, "record": true])
            try await waitUntil("job running in the first worker") { try await o.states(org: org.id)["running"] == 1 }
            let second = try await o.startWorkerProcess()
            defer {
                second.signal(SIGTERM)
                _ = waitpid(second.pid, nil, 0)
            }
            let id = try #require(try await o.scalar("SELECT id FROM jobs WHERE org_id = \(org.id)", as: UUID.self))
            #expect(try await o.scalar("SELECT lease_owner FROM jobs WHERE id = \(id)", as: String.self)?.contains(":\(first.pid):") == true)
            first.signal(SIGKILL)
            let killedAt = Date()
            try await waitUntil("job succeeded in the second worker", timeout: .seconds(20)) { try await o.job(id).state == .succeeded }
            let job = try await o.job(id)
            #expect(job.attempts.map(\.outcome) == [.lost, .succeeded])
            #expect(job.attempts[0].workerId.contains(":\(first.pid):") && job.attempts[1].workerId.contains(":\(second.pid):"))
            let rescue = job.attempts[1].startedAt.timeIntervalSince(killedAt)
            #expect(rescue < 2.5, "rescued \(rescue) s after the kill (lease 1 s)")
            #expect(try await o.scalar("SELECT count(*)::int8 FROM diagnostic_effects WHERE job_id = \(id)", as: Int.self) == 1, "effect once")
        }
    }

    /// Per-org and global caps hold across two worker processes (recorded run intervals).
    @Test func capsHoldAcrossTwoWorkerProcesses() async throws {
        var pipelines = Orchestra.defaultPipelines
        pipelines["sleep"] = """
            name: sleep
            lease: 2s
            per_org_concurrency: 2
            global_concurrency: 3
            """
        try await Orchestra.run(pipelines: pipelines) { o in
            let orgs = [try await o.h.makeOrg(), try await o.h.makeOrg(), try await o.h.makeOrg()]
            // Each process may run 2 at once, so only the global cap (3 < 2 + 2) holds them back.
            let workers = [
                try await o.startWorkerProcess(environment: ["WORKER_CONCURRENCY": "2"]),
                try await o.startWorkerProcess(environment: ["WORKER_CONCURRENCY": "2"]),
            ]
            defer {
                for w in workers {
                    w.signal(SIGKILL)
                    _ = waitpid(w.pid, nil, 0)
                }
            }
            try await o.enqueue("sleep", count: 8, orgIds: orgs.map(\.id), args: ["ms": 150, "record": true])
            try await waitUntil("24 jobs done", timeout: .seconds(60)) { try await o.states()["succeeded"] == 24 }
            var intervals: [(org: UUID, start: Date, end: Date, worker: String)] = []
            let rows = try await o.h.db.query("SELECT org_id, started_at, finished_at, worker_id FROM diagnostic_effects", logger: o.logger)
            for try await (org, start, end, worker) in rows.decode((UUID, Date, Date, String).self) { intervals.append((org, start, end, worker)) }
            #expect(intervals.count == 24)
            func maxOverlap(_ list: [(org: UUID, start: Date, end: Date, worker: String)]) -> Int {
                var events: [(Double, Int)] = []
                for item in list {
                    events.append((item.start.timeIntervalSince1970, 1))
                    events.append((item.end.timeIntervalSince1970, -1))
                }
                // Ends sort before starts at the same instant.
                events.sort { (x: (Double, Int), y: (Double, Int)) -> Bool in x.0 == y.0 ? x.1 < y.1 : x.0 < y.0 }
                var current = 0
                var peak = 0
                for event in events {
                    current += event.1
                    peak = max(peak, current)
                }
                return peak
            }
            let global = maxOverlap(intervals)
            #expect(global <= 3, "global cap 3, saw \(global)")
            #expect(global == 3, "the global cap was reached, not just respected (saw \(global))")
            for org in orgs {
                let peak = maxOverlap(intervals.filter { $0.org == org.id })
                #expect(peak <= 2, "per-org cap 2, org saw \(peak)")
            }
            #expect(Set(intervals.map(\.worker)).count == 2, "both worker processes ran jobs")
        }
    }

    /// SIGTERM: a job that finishes within the grace period completes; one that does not has its
    /// lease handed back at once (queued, not waiting for expiry), and the process exits 0.
    @Test func sigtermDrainsThenHandsLeasesBack() async throws {
        try await Orchestra.run { o in
            let org = try await o.h.makeOrg()
            // Debug level for its "job started" lines: the ledger says `running` when the claim commits,
            // before the worker has started the executions, and a SIGTERM in that gap rightly hands
            // both back unstarted. The test is about jobs that have started.
            let worker = try await o.startWorkerProcess(environment: ["SHUTDOWN_GRACE": "4", "LOG_LEVEL": "debug"])
            defer {
                worker.signal(SIGKILL)
                _ = waitpid(worker.pid, nil, 0)
            }
            try await o.enqueue("sleep", count: 1, orgIds: [org.id], args: ["ms": 2500])
            try await o.enqueue("sleep", count: 1, orgIds: [org.id], args: ["ms": 600_000])
            try await waitUntil("both running") { try await o.states(org: org.id)["running"] == 2 }
            try await waitUntil("both started in the worker") {
                worker.output.components(separatedBy: "\"msg\":\"job started\"").count - 1 == 2
            }
            worker.signal(SIGTERM)
            let status = try await worker.wait(timeout: .seconds(10))
            #expect(status == 0, "exit status \(String(describing: status)): \(worker.output.suffix(2000))")
            let states = try await o.states(org: org.id)
            #expect(states == ["succeeded": 1, "queued": 1], "\(states): \(worker.output.suffix(3000))")
            let id = try #require(try await o.scalar("SELECT id FROM jobs WHERE org_id = \(org.id) AND state = 'queued'", as: UUID.self))
            let job = try await o.job(id)
            #expect(job.attempts.map(\.outcome) == [.lost] && job.attempts[0].error == "lease returned at worker shutdown")
            #expect(try await o.jobs.queue.depth(pipeline: "sleep") == 1, "published again for the next worker")
            // The returned attempt does not count against max_attempts.
            #expect(try await o.scalar("SELECT attempt - returned_attempts FROM jobs WHERE id = \(id)", as: Int32.self) == 0)
            #expect(try await o.scalar("SELECT count(*)::int8 FROM workers", as: Int.self) == 0, "the worker row is gone")
        }
    }
}

@Suite struct SchedulerTests {
    static let everySecond: [String: String] = {
        var p = Orchestra.defaultPipelines
        p["noop"] = """
            name: noop
            lease: 2s
            schedule:
              cron: "* * * * * *"
              timezone: UTC
            """
        return p
    }()

    /// Two schedulers: one leader, exactly one enqueue per period; the other takes over when the leader stops.
    @Test func twoSchedulersEnqueueOncePerPeriod() async throws {
        try await Orchestra.run(pipelines: Self.everySecond) { o in
            let a = try Scheduler(jobs: o.jobs, databaseURL: o.config.databaseURL, tick: .milliseconds(100), logger: o.logger)
            let b = try Scheduler(jobs: o.jobs, databaseURL: o.config.databaseURL, tick: .milliseconds(100), logger: o.logger)
            let taskA = Task { await a.run() }
            let taskB = Task { await b.run() }
            try await waitUntil("a leader") { a.isLeader || b.isLeader }
            // At least two periods fired by the leader (a loaded machine may take longer than their two seconds).
            try await waitUntil("the leader fires twice", timeout: .seconds(20), every: .milliseconds(100)) {
                #expect(!(a.isLeader && b.isLeader), "never two leaders")
                return (a.isLeader ? a : b).firedCount >= 2
            }
            let (leader, follower, leaderTask, followerTask) = a.isLeader ? (a, b, taskA, taskB) : (b, a, taskB, taskA)
            #expect(follower.firedCount == 0)
            #expect(leader.firedCount >= 2)
            leaderTask.cancel()
            await leaderTask.value
            try await waitUntil("the other scheduler leads", timeout: .seconds(20)) { follower.isLeader }
            try await waitUntil("it fires", timeout: .seconds(5)) { follower.firedCount >= 2 }
            followerTask.cancel()
            await followerTask.value

            let runs = try await o.scalar("SELECT count(*)::int8 FROM schedule_runs", as: Int.self) ?? 0
            let jobs = try await o.scalar("SELECT count(*)::int8 FROM jobs WHERE unique_key LIKE 'schedule:noop:%'", as: Int.self) ?? 0
            #expect(runs >= 4 && jobs == runs, "one job per period: \(runs) periods, \(jobs) jobs")
            #expect(runs == leader.firedCount + follower.firedCount)
            let doubled = try await o.scalar(
                "SELECT count(*)::int8 FROM (SELECT period FROM schedule_runs GROUP BY period HAVING count(*) > 1) d",
                as: Int.self
            )
            #expect(doubled == 0)
        }
    }

    /// A per-org schedule fires at 02:00 in each org's own time zone, once per period.
    @Test func perOrgScheduleFollowsEachOrgsTimeZone() async throws {
        var pipelines = Orchestra.defaultPipelines
        pipelines["noop"] = """
            name: noop
            schedule:
              cron: "0 2 * * *"
              per_org: true
            """
        try await Orchestra.run(pipelines: pipelines) { o in
            let orgs = OrganizationRepository(logger: o.logger)
            let chicago = try await orgs.create(
                name: "Chicago",
                slug: "chi-\(UUID().uuidString.prefix(6).lowercased())",
                timezone: "America/Chicago",
                on: o.h.db
            )!
            let tokyo = try await orgs.create(
                name: "Tokyo",
                slug: "tyo-\(UUID().uuidString.prefix(6).lowercased())",
                timezone: "Asia/Tokyo",
                on: o.h.db
            )!
            let scheduler = try Scheduler(jobs: o.jobs, databaseURL: o.config.databaseURL, logger: o.logger)
            try await scheduler.fireDue(now: CronTests.date("2026-11-22T08:30:00Z"))  // 02:30 in Chicago, 17:30 in Tokyo
            try await scheduler.fireDue(now: CronTests.date("2026-11-22T08:31:00Z"))
            try await scheduler.fireDue(now: CronTests.date("2026-11-22T17:30:00Z"))  // 02:30 (23rd) in Tokyo
            var fired: [String: String] = [:]
            let rows = try await o.h.db.query("SELECT org_key, period FROM schedule_runs ORDER BY period", logger: o.logger)
            for try await (org, period) in rows.decode((String, Date).self) { fired[org] = period.formatted(.iso8601) }
            #expect(fired == [chicago.id.uuidString.lowercased(): "2026-11-22T08:00:00Z", tokyo.id.uuidString.lowercased(): "2026-11-22T17:00:00Z"])
            #expect(try await o.scalar("SELECT count(*)::int8 FROM jobs WHERE pipeline = 'noop'", as: Int.self) == 2)
            #expect(try await o.scalar("SELECT count(*)::int8 FROM jobs WHERE org_id = \(tokyo.id)", as: Int.self) == 1)
        }
    }
}

@Suite struct DiagnosticsRouteTests {
    @Test func staffEnqueuesDiagnosticJobs() async throws {
        try await Orchestra.run { o in
            let org = try await o.h.makeOrg()
            let staff = try await o.h.staffToken()
            let path = "/api/v1/internal/diagnostics/jobs"
            #expect(try await o.h.call(.post, path, json: ["pipeline": "noop", "count": 1]).status == .unauthorized)
            let admin = try await o.h.token(org.email(.admin))
            #expect(try await o.h.call(.post, path, token: admin, json: ["pipeline": "noop", "count": 1]).status == .forbidden)
            for bad: [String: Any] in [
                ["pipeline": "noop", "count": 0], ["pipeline": "noop", "count": 100_001], ["pipeline": "rm-rf", "count": 1],
                ["pipeline": "noop"], ["pipeline": "noop", "count": 1, "orgIds": ["not-a-uuid"]], ["pipeline": "noop", "count": "1"],
                ["pipeline": "noop", "count": 60_000, "orgIds": [org.idString, UUID().uuidString]],
            ] {
                let reply = try await o.h.call(.post, path, token: staff, json: bad)
                #expect(reply.status == .badRequest || reply.status == .notFound, "\(bad): \(reply.status) \(reply.text)")
                #expect(reply.errorCode != nil)
            }
            let unknown = try await o.h.call(.post, path, token: staff, json: ["pipeline": "noop", "count": 1, "orgIds": [UUID().uuidString]])
            #expect(unknown.status == .notFound)
            let reply = try await o.h.call(
                .post,
                path,
                token: staff,
                json: ["pipeline": "sleep", "count": 3, "orgIds": [org.idString], "args": ["ms": 1]]
            )
            #expect(reply.status == .accepted && reply.json["enqueued"] as? Int == 3)
            #expect(
                try await o.scalar(
                    "SELECT count(*)::int8 FROM jobs WHERE org_id = \(org.id) AND request_id = \(reply.requestId!) AND args->>'ms' = '1'",
                    as: Int.self
                ) == 3
            )
            let platform = try await o.h.call(.post, path, token: staff, json: ["pipeline": "noop", "count": 2])
            #expect(platform.json["enqueued"] as? Int == 2)
            #expect(try await o.scalar("SELECT count(*)::int8 FROM jobs WHERE org_id IS NULL", as: Int.self) == 2)
            #expect(try await o.jobs.queue.depth(pipeline: "sleep") == 3)
            #expect(
                try await o.scalar(
                    "SELECT count(*)::int8 FROM audit_logs WHERE action = 'diagnostics.enqueued' AND request_id = \(reply.requestId!)",
                    as: Int.self
                ) == 1
            )

            // The contract's maximum, split over two orgs: every job in the ledger and on the queue.
            let other = try await o.h.makeOrg()
            let most = try await o.h.call(
                .post,
                path,
                token: staff,
                json: ["pipeline": "noop", "count": 50_000, "orgIds": [org.idString, other.idString]]
            )
            #expect(most.status == .accepted && most.json["enqueued"] as? Int == 100_000, "\(most.text)")
            #expect(
                try await o.scalar(
                    "SELECT count(DISTINCT id)::int8 FROM jobs WHERE request_id = \(most.requestId!) AND org_id = \(org.id) AND state = 'queued'",
                    as: Int.self
                ) == 50_000
            )
            #expect(
                try await o.scalar(
                    "SELECT count(DISTINCT id)::int8 FROM jobs WHERE request_id = \(most.requestId!) AND org_id = \(other.id) AND state = 'queued'",
                    as: Int.self
                ) == 50_000
            )
            #expect(try await o.jobs.queue.depth(pipeline: "noop") == 100_002)
        }
    }
}
