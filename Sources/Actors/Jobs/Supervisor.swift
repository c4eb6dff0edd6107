import Foundation
import Logging
import PostgresNIO
import Store
import Telemetry

/// How one worker process runs.
public struct WorkerSettings: Sendable {
    /// Unique per process: `host:pid:random`.
    public var id: String
    public var host: String
    public var pid: Int
    /// Most jobs of one pipeline this process runs at once (the pipeline's global cap also applies).
    public var concurrency: Int
    /// How long running jobs may take to finish after SIGTERM before their leases are handed back.
    public var shutdownGrace: Duration
    /// Promotion of due jobs and the lease sweeper run this often.
    public var maintenanceInterval: Duration
    /// The reconciler runs this often (and at once when Redis comes back empty).
    public var reconcileInterval: Duration
    /// A queued job is only re-published once it has been queued this long.
    public var reconcileGrace: Duration
    /// Pipelines this process serves; nil serves every configured pipeline.
    public var pipelines: Set<String>?
    /// Longest wait for one ledger write of the runtime (claim, heartbeat, outcome): a write stuck
    /// in the database client is abandoned after this, so no loop and no shutdown waits on it.
    public var ledgerTimeout: Duration

    public init(
        concurrency: Int = 32,
        shutdownGrace: Duration = .seconds(25),
        maintenanceInterval: Duration = .seconds(1),
        reconcileInterval: Duration = .seconds(10),
        reconcileGrace: Duration = .seconds(5),
        pipelines: Set<String>? = nil,
        ledgerTimeout: Duration = .seconds(10)
    ) {
        let host = ProcessInfo.processInfo.hostName
        let pid = Int(ProcessInfo.processInfo.processIdentifier)
        self.id = "\(host):\(pid):\(UUID().uuidString.prefix(6).lowercased())"
        self.host = host
        self.pid = pid
        self.concurrency = concurrency
        self.shutdownGrace = shutdownGrace
        self.maintenanceInterval = maintenanceInterval
        self.reconcileInterval = reconcileInterval
        self.reconcileGrace = reconcileGrace
        self.pipelines = pipelines
        self.ledgerTimeout = ledgerTimeout
    }
}

/// One per worker process: pulls work from the transport for every served pipeline, hands each
/// job to its org's `TenantPipeline` actor, heartbeats the leases it holds, runs the maintenance
/// loops (promotion, lease sweeper, reconciler), and on shutdown drains within the grace period
/// before handing the remaining leases back. Every task it runs (pull loops, executions,
/// completion and slot batches) is a child of `run`'s task groups.
public actor Supervisor {
    public let settings: WorkerSettings
    let jobs: JobSystem
    let pipelines: PipelineRegistry
    let logger: Logger
    let served: [PipelineConfig]

    struct TenantKey: Hashable { let pipeline: String, org: String }
    struct Inflight { let job: ClaimedJob, org: String, config: PipelineConfig, tenant: TenantPipeline }

    var tenants: [TenantKey: TenantPipeline] = [:]
    /// Running attempts by lease token (not job id: this worker may claim a job again while a
    /// stale attempt of it, whose lease was swept, still winds down).
    var inflight: [UUID: Inflight] = [:]
    /// Pull loops between popping ids from Redis and handing the claimed jobs out.
    var claiming = 0
    var perPipeline: [String: Int] = [:]
    var stopping = false
    /// Pipelines an operator paused (`pipeline_pauses`, read by `pauseWatchLoop`): nothing new is claimed.
    var paused: Set<String> = []
    /// Where the reconciler resumes when its last pass was cut short (nil: from the start).
    var reconcileCursor: UUID?
    /// Pull loops waiting for a free slot, by pipeline.
    var slotWaiters: [String: CheckedContinuation<Void, Never>] = [:]
    let completions: CompletionBatcher
    let slots: SlotReleaser
    private let launches = AsyncStream<TenantPipeline.Launch>.makeStream()
    private let shutdownSignal = AsyncStream<Void>.makeStream()

    /// Refuses a served pipeline file without a pipeline of that name in `pipelines`, and a
    /// schedule its pipeline cannot take.
    public init(settings: WorkerSettings, jobs: JobSystem, pipelines: PipelineRegistry, logger: Logger) throws {
        self.settings = settings
        self.jobs = jobs
        self.pipelines = pipelines
        self.logger = logger
        var served: [PipelineConfig] = []
        for name in jobs.catalog.names where settings.pipelines?.contains(name) ?? true {
            let config = jobs.catalog[name]!
            guard let entry = pipelines[name] else {
                throw PipelineConfigError(file: config.file, key: "name", expected: "a pipeline this build has (none is named \"\(name)\")")
            }
            try Self.checkSchedule(of: config, runs: entry)
            served.append(config)
        }
        self.served = served
        self.completions = CompletionBatcher(jobs: jobs, timeout: settings.ledgerTimeout)
        self.slots = SlotReleaser(queue: jobs.queue)
    }

    static func checkSchedule(of config: PipelineConfig, runs entry: PipelineEntry) throws {
        guard let schedule = config.schedule else { return }
        if entry.needsOrg && !schedule.perOrg {
            throw PipelineConfigError(file: config.file, key: "schedule.per_org", expected: "true: \(config.name) runs for one org at a time")
        }
        // Cron firings carry no trigger; staff's manual ones do.
        let samples = try [nil, "manual"].map {
            try JobArgumentsCoding.encode(ScheduledRun(schedule: config.name, period: "2026-01-01T00:00:00Z", trigger: $0))
        }
        guard samples.allSatisfy({ entry.accepts(argumentsJSON: $0) }) else {
            throw PipelineConfigError(
                file: config.file,
                key: "schedule",
                expected: "a pipeline whose arguments accept a scheduled run ({schedule, period})"
            )
        }
    }

    /// Asks the supervisor to stop pulling and drain (what SIGTERM does).
    public nonisolated func beginShutdown() {
        shutdownSignal.continuation.finish()
    }

    /// Runs until `beginShutdown` (or task cancellation), then drains and returns once every
    /// execution has ended.
    public func run() async {
        logger.info(
            "worker started",
            metadata: ["worker_id": .string(settings.id), "pipelines": .string(served.map(\.name).joined(separator: ","))]
        )
        await withDiscardingTaskGroup { group in
            group.addTask { await self.completions.run() }
            group.addTask { await self.slots.run() }
            group.addTask {
                await self.runExecutions()
                self.completions.close()
                self.slots.close()
            }
            await withDiscardingTaskGroup { loops in
                for config in served {
                    loops.addTask { await self.pullLoop(config) }
                }
                loops.addTask { await self.heartbeatLoop() }
                loops.addTask { await self.maintenanceLoop() }
                loops.addTask { await self.pauseWatchLoop() }
                for await _ in shutdownSignal.stream {}
                await drain()
                loops.cancelAll()
            }
            launches.continuation.finish()
        }
        let (ledger, db, id) = (jobs.ledger, jobs.db, settings.id)
        do {
            try await Deadline.run("worker row removal", limit: .seconds(2)) { try await ledger.workerStopped(id: id, on: db) }
        } catch {
            logger.warning("cannot remove this worker's row; it is pruned later", metadata: ["error": .string(ErrorDescription.of(error))])
        }
        logger.info("worker stopped", metadata: ["worker_id": .string(settings.id)])
    }

    /// Stops pulling; waits up to the grace period for running jobs; hands the rest back.
    func drain() async {
        stopping = true
        for waiter in slotWaiters.values { waiter.resume() }
        slotWaiters.removeAll()
        logger.info("worker draining", metadata: ["running": .stringConvertible(inflight.count)])
        await waitForIdle(upTo: settings.shutdownGrace)
        if !inflight.isEmpty {
            logger.info("grace period over: handing leases back", metadata: ["running": .stringConvertible(inflight.count)])
            for (token, entry) in inflight {
                await entry.tenant.stop(token, reason: .shutdown)
            }
            // Each hand-back is one ledger write bounded by `ledgerTimeout`; what is still running
            // after this is left to lease expiry (the process's shutdown deadline ends it).
            await waitForIdle(upTo: min(settings.ledgerTimeout, .seconds(3)) + .seconds(1))
            if !inflight.isEmpty {
                logger.warning(
                    "jobs not handed back: their leases expire and the sweeper requeues them",
                    metadata: ["jobs": .string(inflight.values.map { $0.job.id.uuidString.lowercased() }.joined(separator: ","))]
                )
            }
        }
    }

    private func waitForIdle(upTo limit: Duration) async {
        let deadline = ContinuousClock.now.advanced(by: limit)
        while (!inflight.isEmpty || claiming > 0) && ContinuousClock.now < deadline && !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    // MARK: Executions

    /// Runs every launched job as a child task until the launches end (after the drain).
    nonisolated func runExecutions() async {
        await withDiscardingTaskGroup { group in
            for await launch in launches.stream {
                group.addTask { await self.execute(launch) }
            }
        }
    }

    nonisolated func execute(_ launch: TenantPipeline.Launch) async {
        let config = launch.tenant.config
        let execution = JobExecution(
            job: launch.job,
            config: config,
            pipeline: pipelines[config.name]!,
            jobs: jobs,
            workerId: settings.id,
            logger: logger,
            control: launch.control,
            completions: completions,
            ledgerTimeout: settings.ledgerTimeout
        )
        await execution.run()
        await launch.tenant.finished(launch.job.leaseToken)
        await finished(launch.job.leaseToken)
    }

    func dispatch(_ job: ClaimedJob, org: String, config: PipelineConfig) async {
        let key = TenantKey(pipeline: config.name, org: org)
        let tenant: TenantPipeline
        if let existing = tenants[key] {
            tenant = existing
        } else {
            let channel = launches.continuation
            tenant = TenantPipeline(config: config, org: org, launch: { channel.yield($0) })
            tenants[key] = tenant
        }
        inflight[job.leaseToken] = Inflight(job: job, org: org, config: config, tenant: tenant)
        perPipeline[config.name, default: 0] += 1
        await tenant.submit(job)
    }

    /// An attempt ended and its outcome is recorded: its local and Redis slots are freed.
    func finished(_ token: UUID) {
        guard let entry = inflight.removeValue(forKey: token) else { return }
        let name = entry.config.name
        slots.release([.init(pipeline: name, org: entry.org, token: token)])
        perPipeline[name, default: 1] -= 1
        // Wake the pull loop once a quarter of the slots are free (or none is busy), so it
        // claims in batches rather than one job per round trip.
        let limit = min(entry.config.globalConcurrency, settings.concurrency)
        if freeSlots(entry.config) >= max(1, limit / 4) || perPipeline[name, default: 0] == 0 {
            slotWaiters.removeValue(forKey: name)?.resume()
        }
    }
}
