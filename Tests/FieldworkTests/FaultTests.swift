import Foundation
import Logging
import Pipelines
import PostgresNIO
import Store
import Testing

@testable import Actors

/// The runtime under database faults (issue 10): a ledger claim that never answers or that fails
/// does not wedge the queue, and SIGTERM ends `work` and `all` within the grace period whatever
/// Postgres does (`all` answering 503 meanwhile). Serialized: each test runs a worker and a
/// proxy (or a child process) under load, and the suite's timing-sensitive neighbours feel it.
@Suite(.serialized) struct FaultTests {
    /// A worker over its own database client through `proxy`, run outside structured concurrency
    /// so that a test of a worker that hangs can still fail (and not hang itself).
    struct ProxiedWorker {
        let supervisor: Supervisor
        let tasks: [Task<Void, Never>]

        init(_ o: Orchestra, proxy: FreezingProxy, adjust: (inout WorkerSettings) -> Void = { _ in }) throws {
            var configuration = try DatabaseSettings.configuration(url: proxy.url)
            // Requests abandoned on frozen connections keep theirs for good.
            configuration.options.maximumConnections = 80
            let db = PostgresClient(configuration: configuration, backgroundLogger: o.logger)
            let jobs = JobSystem(db: db, queue: o.jobs.queue, catalog: o.jobs.catalog, logger: o.logger)
            var settings = o.config.workerSettings
            settings.ledgerTimeout = .seconds(1)
            adjust(&settings)
            let dependencies = PipelineDependencies(db: db, objectStore: try makeObjectStore(url: o.config.storageURL), catalog: jobs.catalog)
            let supervisor = try Supervisor(settings: settings, jobs: jobs, pipelines: .standard(dependencies), logger: o.logger)
            self.supervisor = supervisor
            tasks = [Task { await db.run() }, Task { await supervisor.run() }]
        }

        /// Drains the worker; fails the test if it does not stop within `limit`.
        func stop(within limit: Duration = .seconds(20)) async {
            supervisor.beginShutdown()
            let run = tasks[1]
            do {
                try await Deadline.run("the worker's drain", limit: limit) { await run.value }
            } catch {
                Issue.record("the worker did not stop: \(error)")
            }
            tasks[0].cancel()
        }
    }

    /// The wedge of issue 10: a claim popped from Redis whose ledger write never answers (its
    /// connection went dead with the database) held the pull loop for good, so nothing ran the
    /// claim script again and the org's slots, past their lease, were never cleared. Now the write
    /// is abandoned after the ledger timeout, the ids go back to the queue, and the queue drains
    /// once the database answers again.
    @Test func aLedgerClaimThatNeverAnswersDoesNotWedgeTheQueue() async throws {
        try await Orchestra.run { o in
            let proxy = try await FreezingProxy(databaseURL: o.config.databaseURL)
            defer { proxy.stop() }
            let org = try await o.h.makeOrg()
            let worker = try ProxiedWorker(o, proxy: proxy)
            try await o.enqueue("noop", count: 3_000, orgIds: [org.id])
            try await waitUntil("jobs flowing", every: .milliseconds(5)) { try await o.states(org: org.id)["succeeded", default: 0] >= 20 }
            proxy.freeze()
            // Past the noop lease (2 s): the slots of the claims in flight expire meanwhile.
            try await Task.sleep(for: .seconds(3))
            #expect(try await o.states(org: org.id)["succeeded", default: 0] < 3_000, "frozen mid-stream")
            proxy.thaw()
            try await waitUntil("the queue drained", timeout: .seconds(60), every: .milliseconds(200)) {
                try await o.states(org: org.id)["succeeded"] == 3_000
            }
            let active = "\(o.config.redisKeyPrefix)jobs:{noop}:active"
            try await waitUntil("no slot left", timeout: .seconds(5)) {
                let orgSlots = try await o.jobs.queue.redis.command("ZCARD", "\(active):\(org.idString)").int
                let allSlots = try await o.jobs.queue.redis.command("ZCARD", active).int
                return orgSlots == 0 && allSlots == 0
            }
            let lines = o.h.logs.lines
            // The pull loop fails only if one of its claims was in flight when the connection froze (with every slot
            // taken by jobs whose completions are frozen too, it may not claim at all); when it failed, it recovers.
            if lines.contains(where: { $0.contains("cannot pull work") }) {
                try await waitUntil("the pull loop logs its recovery", timeout: .seconds(10)) {
                    o.h.logs.lines.contains { $0.contains("pull recovered after") }
                }
            }
            // The heartbeat fails only if one with leases to extend fell inside the freeze; when it did, it recovers.
            if lines.contains(where: { $0.contains("\"heartbeat failed\"") }) {
                try await waitUntil("the heartbeat loop logs its recovery", timeout: .seconds(10)) {
                    o.h.logs.lines.contains { $0.contains("heartbeat recovered after") }
                }
            }
            await worker.stop()
        }
    }

    /// A claim whose ledger write fails puts its ids back in the queue and frees its slots at
    /// once: with the reconciler out of the way, the jobs still run as soon as the ledger takes claims.
    @Test func aFailedLedgerClaimPutsItsJobsBackAtOnce() async throws {
        try await Orchestra.run { o in
            for statement: PostgresQuery in [
                "CREATE TABLE refuse_claims (refuse boolean)",
                """
                CREATE FUNCTION refuse_claim() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF EXISTS (SELECT 1 FROM refuse_claims) THEN RAISE EXCEPTION 'claims refused by the test'; END IF;
                    RETURN NEW;
                END $$
                """,
                """
                CREATE TRIGGER refuse_claim BEFORE UPDATE ON jobs FOR EACH ROW
                WHEN (OLD.state = 'queued' AND NEW.state = 'running') EXECUTE FUNCTION refuse_claim()
                """,
                "INSERT INTO refuse_claims VALUES (true)",
            ] {
                try await o.h.db.query(statement, logger: o.logger).consume()
            }
            let org = try await o.h.makeOrg()
            try await o.withWorker({ $0.reconcileInterval = .seconds(3600) }) { _ in
                // The first maintenance pass (a new epoch) reconciles once: let it pass.
                try await Task.sleep(for: .milliseconds(500))
                try await o.enqueue("noop", count: 50, orgIds: [org.id])
                try await waitUntil("claims refused") { o.h.logs.lines.contains { $0.contains("cannot pull work") } }
                try await Task.sleep(for: .seconds(1))
                #expect(try await o.states(org: org.id) == ["queued": 50])
                try await o.h.db.query("DELETE FROM refuse_claims", logger: o.logger).consume()
                try await waitUntil("all 50 ran", timeout: .seconds(5)) { try await o.states(org: org.id) == ["succeeded": 50] }
                #expect(o.h.logs.lines.contains { $0.contains("pull recovered after") })
            }
            #expect(!o.h.logs.lines.contains { $0.contains("reconciler re-published") }, "the reconciler had nothing to do")
        }
    }

    /// An attempt that finished while the database was frozen keeps its outcome and writes it the
    /// moment the database answers: the job succeeds on its first attempt, well inside its 30 s
    /// lease, instead of waiting for the lease to expire and running again.
    @Test func anOutcomeThatCannotBeWrittenLandsWhenTheDatabaseAnswers() async throws {
        try await Orchestra.run { o in
            let proxy = try await FreezingProxy(databaseURL: o.config.databaseURL)
            defer { proxy.stop() }
            let org = try await o.h.makeOrg()
            let worker = try ProxiedWorker(o, proxy: proxy)
            try await o.enqueue("sleep", count: 4, orgIds: [org.id], args: ["ms": 1_500])
            try await waitUntil("jobs running") { try await o.states(org: org.id)["running", default: 0] == 4 }
            proxy.freeze()
            // The jobs end at 1.5 s; their outcome writes give up after the 1 s ledger timeout and wait.
            try await waitUntil("outcome writes failed", timeout: .seconds(10)) {
                o.h.logs.lines.contains { $0.contains("cannot record the job's outcome yet") }
            }
            try await Task.sleep(for: .seconds(2))
            proxy.thaw()
            try await waitUntil("all succeeded", timeout: .seconds(10), every: .milliseconds(100)) {
                try await o.states(org: org.id) == ["succeeded": 4]
            }
            let attempts = try await o.h.db.query(
                "SELECT count(*)::int8 FROM job_attempts a JOIN jobs j ON j.id = a.job_id WHERE j.org_id = \(org.id)",
                logger: o.logger
            ).collect().first?.decode(Int.self)
            #expect(attempts == 4, "one attempt per job: nothing ran twice")
            #expect(o.h.logs.lines.contains { $0.contains("job outcome written after") })
            await worker.stop()
        }
    }

    /// `fieldwork work` with a sleeping job, its database frozen: SIGTERM ends it within the
    /// grace period (5 s) plus a few seconds, though no ledger write answers.
    @Test func workStopsOnSIGTERMWhileTheDatabaseHangs() async throws {
        try await Orchestra.run { o in
            let proxy = try await FreezingProxy(databaseURL: o.config.databaseURL)
            defer { proxy.stop() }
            let org = try await o.h.makeOrg()
            let child = try await o.startWorkerProcess(environment: ["DATABASE_URL": proxy.url])
            try await Self.stopsWithin(child, proxy: proxy, o: o, org: org, probe: nil)
        }
    }

    /// `fieldwork all` the same way; its HTTP listener stays up until the process ends, answering
    /// 503 `UNAVAILABLE` (the server is the last service to stop).
    @Test func allStopsOnSIGTERMWhileTheDatabaseHangsAndAnswers503Meanwhile() async throws {
        guard let bin = ProcessInfo.processInfo.environment["FIELDWORK_BIN"] else {
            throw TestFailure("FIELDWORK_BIN is not set: ops/test sets it to the built binary")
        }
        try await Orchestra.run { o in
            let proxy = try await FreezingProxy(databaseURL: o.config.databaseURL)
            defer { proxy.stop() }
            let org = try await o.h.makeOrg()
            let port = 20_000 + Int.random(in: 0..<10_000)
            var environment = o.childEnvironment
            environment["DATABASE_URL"] = proxy.url
            environment["HOST"] = "127.0.0.1"
            environment["PORT"] = String(port)
            let child = try Child([bin, "all"], environment: environment)
            let base = "http://127.0.0.1:\(port)"
            try await waitUntil("the API up", timeout: .seconds(30)) { (try? await Self.get("\(base)/health"))?.status == 200 }
            try await Self.stopsWithin(child, proxy: proxy, o: o, org: org, probe: "\(base)/api/v1/internal/pipelines")
        }
    }

    /// Runs a long job on `child`, freezes the database, sends SIGTERM and expects the process to
    /// end within grace + 4 s + 2 s of slack; with `probe`, expects 503 `UNAVAILABLE` from it meanwhile
    /// and no refused connection while the process still runs.
    static func stopsWithin(_ child: Child, proxy: FreezingProxy, o: Orchestra, org: TestOrg, probe: String?) async throws {
        try await o.enqueue("sleep", count: 1, orgIds: [org.id], args: ["ms": 120_000])
        try await waitUntil("the job running", timeout: .seconds(20)) { try await o.states(org: org.id) == ["running": 1] }
        proxy.freeze()
        let sent = ContinuousClock.now
        child.signal(SIGTERM)
        if let probe {
            try await Task.sleep(for: .seconds(1))
            let reply = try await get(probe)
            #expect(reply.status == 503 && reply.body.contains("UNAVAILABLE") && reply.body.contains("shutting down"), "while draining: \(reply)")
            var unanswered = 0
            while child.isRunning && ContinuousClock.now < sent + .seconds(5 + 4 + 2) {
                if ((try? await get(probe))?.status ?? 0) == 0 && child.isRunning { unanswered += 1 }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(unanswered == 0, "requests refused or unanswered while the process still ran: \(unanswered)")
        }
        let status = try await child.wait(timeout: .seconds(5 + 4 + 2))
        let took = ContinuousClock.now - sent
        if status == nil {
            child.signal(SIGKILL)
            _ = try await child.wait()
        }
        #expect(status == 0, "exit status \(String(describing: status)) after \(took); output tail: \(child.output.suffix(3000))")
        #expect(child.output.contains("stop signal received: draining"))
    }

    /// GET `url` with curl: the status and the body.
    static func get(_ url: String) async throws -> (status: Int, body: String) {
        let output = try await Child.run(["curl", "-s", "-m", "3", "-w", "\n%{http_code}", url])
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    /// A wedge is visible: an org with queued jobs, none running, the oldest waiting past the
    /// threshold, is listed under its pipeline's `stalled` and counted in `/metrics`, with the
    /// oldest queued age; an org whose jobs were queued moments ago is not.
    @Test func aStalledQueueShowsInThePipelinesListAndTheMetrics() async throws {
        // A pipeline of this test only: the gauges are process-wide and other tests run beside it.
        let name = "stuck-\(UUID().uuidString.prefix(6).lowercased())"
        var pipelines = Orchestra.defaultPipelines
        pipelines[name] = "name: \(name)\nlease: 2s"
        try await Orchestra.run(pipelines: pipelines) { o in
            let stuck = try await o.h.makeOrg()
            let young = try await o.h.makeOrg()
            for (org, count, age) in [(stuck, 3, 120), (young, 2, 5)] {
                try await o.h.db.query(
                    """
                    INSERT INTO jobs (id, org_id, pipeline, args, state, priority, max_attempts, run_at)
                    SELECT gen_random_uuid(), \(org.id), \(name), '{}'::jsonb, 'queued', 0, 3, now() - \(age) * interval '1 second'
                    FROM generate_series(1, \(count))
                    """,
                    logger: o.logger
                ).consume()
            }
            let staff = try await o.h.staffToken()
            let reply = try await o.h.call(.get, "/api/v1/internal/pipelines", token: staff)
            #expect(reply.status == .ok)
            let entry = (reply.json["pipelines"] as? [[String: Any]])?.first { $0["name"] as? String == name }
            let stalled = entry?["stalled"] as? [[String: Any]] ?? []
            #expect(stalled.count == 1, "only the org waiting two minutes: \(stalled)")
            #expect(stalled.first?["orgId"] as? String == stuck.idString)
            #expect(stalled.first?["queued"] as? Int == 3 && stalled.first?["running"] as? Int == 0)
            #expect((stalled.first?["oldestQueuedAgeSeconds"] as? Double ?? 0) >= 119)
            // A worker that serves another pipeline still keeps every pipeline's gauges.
            try await o.withWorker({ $0.pipelines = ["sleep"] }) { _ in
                try await waitUntil("the gauges recorded", timeout: .seconds(10)) {
                    let metrics = try await o.h.call(.get, "/metrics").text
                    return metrics.contains("fieldwork_queue_stalled_orgs{pipeline=\"\(name)\"} 1")
                }
                let metrics = try await o.h.call(.get, "/metrics").text
                let line = metrics.split(separator: "\n").first { $0.hasPrefix("fieldwork_queue_oldest_age_seconds{pipeline=\"\(name)\"} ") }
                let age = line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
                #expect(age >= 119, "oldest queued age exported: \(String(describing: line))")
            }
        }
    }
}
