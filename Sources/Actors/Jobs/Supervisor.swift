import Foundation
import Logging
import NIOConcurrencyHelpers
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
    /// Pipelines this process serves; nil serves every pipeline with a handler.
    public var pipelines: Set<String>?

    public init(
        concurrency: Int = 32, shutdownGrace: Duration = .seconds(25), maintenanceInterval: Duration = .seconds(1),
        reconcileInterval: Duration = .seconds(10), reconcileGrace: Duration = .seconds(5), pipelines: Set<String>? = nil
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
    }
}

/// Why a running job is told to stop.
public enum StopReason: Sendable, Equatable {
    case cancelRequested, leaseLost, shutdown, timeout
}

/// Shared between a running job's task and whoever stops it: the first reason wins.
final class JobControl: Sendable {
    private let box = NIOLockedValueBox<StopReason?>(nil)
    var reason: StopReason? { box.withLockedValue { $0 } }
    /// Records `reason` unless one is already set; true if this call set it.
    @discardableResult
    func stop(_ reason: StopReason) -> Bool {
        box.withLockedValue { current in
            guard current == nil else { return false }
            current = reason
            return true
        }
    }
}

/// One per worker process: pulls work from the transport for every served pipeline, hands each
/// job to its org's `TenantPipeline` actor, heartbeats the leases it holds, runs the maintenance
/// loops (promotion, lease sweeper, reconciler), and on shutdown drains within the grace period
/// before handing the remaining leases back.
public actor Supervisor {
    public let settings: WorkerSettings
    let jobs: JobSystem
    let handlers: HandlerRegistry
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
    /// Pull loops waiting for a free slot, by pipeline.
    var slotWaiters: [String: CheckedContinuation<Void, Never>] = [:]
    let completions: CompletionBatcher
    private let shutdownSignal: (stream: AsyncStream<Void>, continuation: AsyncStream<Void>.Continuation)

    public init(settings: WorkerSettings, jobs: JobSystem, handlers: HandlerRegistry, logger: Logger) throws {
        self.settings = settings
        self.jobs = jobs
        self.handlers = handlers
        self.logger = logger
        var served: [PipelineConfig] = []
        for name in jobs.catalog.names where settings.pipelines?.contains(name) ?? true {
            guard handlers[name] != nil else {
                throw PipelineConfigError(
                    file: jobs.catalog[name]!.file, key: "name", expected: "a pipeline this build has a handler for (no handler named \"\(name)\")")
            }
            served.append(jobs.catalog[name]!)
        }
        self.served = served
        self.completions = CompletionBatcher(jobs: jobs)
        self.shutdownSignal = AsyncStream<Void>.makeStream()
    }

    /// Asks the supervisor to stop pulling and drain (what SIGTERM does).
    public nonisolated func beginShutdown() {
        shutdownSignal.continuation.finish()
    }

    /// Runs until `beginShutdown` (or task cancellation), then drains and returns.
    public func run() async {
        logger.info(
            "worker started",
            metadata: ["worker_id": .string(settings.id), "pipelines": .string(served.map(\.name).joined(separator: ","))])
        await withTaskGroup(of: Void.self) { group in
            for config in served {
                group.addTask { await self.pullLoop(config) }
            }
            group.addTask { await self.heartbeatLoop() }
            group.addTask { await self.maintenanceLoop() }
            for await _ in shutdownSignal.stream {}
            await drain()
            group.cancelAll()
        }
        try? await jobs.ledger.workerStopped(id: settings.id, on: jobs.db)
        logger.info("worker stopped", metadata: ["worker_id": .string(settings.id)])
    }

    /// Stops pulling; waits up to the grace period for running jobs; hands the rest back.
    func drain() async {
        stopping = true
        for waiter in slotWaiters.values { waiter.resume() }
        slotWaiters.removeAll()
        logger.info("worker draining", metadata: ["running": .stringConvertible(inflight.count)])
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: settings.shutdownGrace)
        while (!inflight.isEmpty || claiming > 0) && clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if !inflight.isEmpty {
            logger.info("grace period over: handing leases back", metadata: ["running": .stringConvertible(inflight.count)])
            for (token, entry) in inflight {
                await entry.tenant.stop(token, reason: .shutdown)
            }
            let hardDeadline = clock.now.advanced(by: .seconds(10))
            while !inflight.isEmpty && clock.now < hardDeadline {
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    // MARK: Pulling

    func freeSlots(_ config: PipelineConfig) -> Int {
        guard !stopping else { return 0 }
        return max(0, min(config.globalConcurrency, settings.concurrency) - perPipeline[config.name, default: 0])
    }

    func dispatch(_ job: ClaimedJob, org: String, config: PipelineConfig) async {
        let key = TenantKey(pipeline: config.name, org: org)
        let tenant: TenantPipeline
        if let existing = tenants[key] {
            tenant = existing
        } else {
            tenant = TenantPipeline(
                config: config, org: org, handler: handlers[config.name]!, jobs: jobs, workerId: settings.id, logger: logger,
                completions: completions, onFinish: { [weak self] id in await self?.finished(id) })
            tenants[key] = tenant
        }
        inflight[job.leaseToken] = Inflight(job: job, org: org, config: config, tenant: tenant)
        perPipeline[config.name, default: 0] += 1
        await tenant.submit(job)
    }

    func beginClaim() { claiming += 1 }
    func endClaim() { claiming -= 1 }

    func finished(_ token: UUID) {
        guard let entry = inflight.removeValue(forKey: token) else { return }
        let name = entry.config.name
        perPipeline[name, default: 1] -= 1
        // Wake the pull loop once a quarter of the slots are free (or none is busy), so it
        // claims in batches rather than one job per round trip.
        let limit = min(entry.config.globalConcurrency, settings.concurrency)
        if freeSlots(entry.config) >= max(1, limit / 4) || perPipeline[name, default: 0] == 0 {
            slotWaiters.removeValue(forKey: name)?.resume()
        }
    }

    /// Returns once `config`'s pipeline has a free local slot (or the worker is stopping).
    func waitForSlot(_ config: PipelineConfig) async {
        guard freeSlots(config) == 0, !stopping else { return }
        await withCheckedContinuation { continuation in
            slotWaiters[config.name]?.resume()
            slotWaiters[config.name] = continuation
        }
    }

    nonisolated func pullLoop(_ config: PipelineConfig) async {
        var idle = Duration.milliseconds(5)
        var failures = 0
        while !Task.isCancelled {
            let free = await freeSlots(config)
            if free == 0 {
                if await stopping { return }
                await waitForSlot(config)
                continue
            }
            await beginClaim()
            var popped: [JobQueue.Claim] = []
            do {
                defer { Task { await self.endClaim() } }
                let claims = try await jobs.queue.claim(config, max: free)
                popped = claims
                if failures > 0 {
                    logger.info("queue reachable again", metadata: ["pipeline": .string(config.name)])
                    failures = 0
                }
                if claims.isEmpty {
                    try? await Task.sleep(for: idle)
                    idle = min(idle * 2, .milliseconds(50))
                    continue
                }
                idle = .milliseconds(5)
                let claimed = try await jobs.ledger.claim(
                    claims.map { ($0.jobId, $0.token) }, worker: settings.id, lease: config.lease, on: jobs.db)
                let ids = Set(claimed.map(\.id))
                let unused = claims.filter { !ids.contains($0.jobId) }
                if !unused.isEmpty {
                    // Ids Redis held twice or for jobs already finished: free their slots.
                    try? await jobs.queue.touchSlots(pipeline: config.name, slots: unused.map { ($0.org, $0.token) }, lease: nil)
                }
                let orgs = Dictionary(claims.map { ($0.jobId, $0.org) }, uniquingKeysWith: { a, _ in a })
                if await stopping {
                    // Shutdown began during the claim: hand these back at once rather than run them.
                    var returned: [EnqueuedJob] = []
                    for job in claimed {
                        if let back = try? await jobs.ledger.finish(job, .returned, on: jobs.db) { returned.append(back) }
                    }
                    try? await jobs.queue.touchSlots(pipeline: config.name, slots: claims.map { ($0.org, $0.token) }, lease: nil)
                    await jobs.publish(returned)
                    return
                }
                for job in claimed {
                    JobMetrics.started(config.name).increment()
                    await dispatch(job, org: orgs[job.id] ?? JobQueue.orgKey(job.orgId), config: config)
                }
            } catch {
                if !popped.isEmpty {
                    // The ledger claim failed: free the slots now (the jobs are still queued; the reconciler republishes them).
                    try? await jobs.queue.touchSlots(pipeline: config.name, slots: popped.map { ($0.org, $0.token) }, lease: nil)
                }
                failures += 1
                if failures == 1 || failures % 50 == 0 {
                    logger.warning(
                        "cannot pull work; retrying with backoff",
                        metadata: ["pipeline": .string(config.name), "error": .string("\(error)"), "failures": .stringConvertible(failures)])
                }
                let backoff = Duration.milliseconds(min(2000, 50 << min(failures, 6)))
                try? await Task.sleep(for: backoff)
            }
        }
    }

    // MARK: Heartbeats

    func snapshot() -> [Inflight] { Array(inflight.values) }

    nonisolated func heartbeatLoop() async {
        let shortest = served.map(\.lease).min() ?? .seconds(30)
        let interval = max(.milliseconds(100), shortest / 3)
        while !Task.isCancelled {
            await heartbeat()
            try? await Task.sleep(for: interval)
        }
    }

    /// Extends every lease this worker holds; stops jobs that lost theirs or that staff cancelled.
    func heartbeat() async {
        let running = snapshot()
        do {
            if !running.isEmpty {
                let alive = try await jobs.ledger.heartbeat(
                    running.map { (id: $0.job.id, token: $0.job.leaseToken, lease: $0.config.lease) }, on: jobs.db)
                for entry in running {
                    // `alive` is keyed by job id, and only the attempt whose token matched is in it.
                    switch alive[entry.job.id] {
                    case nil: await entry.tenant.stop(entry.job.leaseToken, reason: .leaseLost)
                    case true?: await entry.tenant.stop(entry.job.leaseToken, reason: .cancelRequested)
                    case false?: break
                    }
                }
            }
            try await jobs.ledger.workerHeartbeat(
                id: settings.id, host: settings.host, pid: settings.pid, pipelines: served.map(\.name),
                lease: served.map(\.lease).min() ?? .seconds(30), running: running.count, on: jobs.db)
        } catch {
            logger.warning("heartbeat failed", metadata: ["error": .string("\(error)")])
        }
        for (pipeline, entries) in Dictionary(grouping: running, by: \.config.name) {
            try? await jobs.queue.touchSlots(pipeline: pipeline, slots: entries.map { ($0.org, $0.job.leaseToken) }, lease: entries[0].config.lease)
        }
    }

    // MARK: Maintenance

    nonisolated func maintenanceLoop() async {
        let clock = ContinuousClock()
        var nextReconcile = clock.now
        var nextGauges = clock.now
        while !Task.isCancelled {
            await maintain(reconcile: clock.now >= nextReconcile, gauges: clock.now >= nextGauges)
            if clock.now >= nextReconcile { nextReconcile = clock.now.advanced(by: settings.reconcileInterval) }
            if clock.now >= nextGauges { nextGauges = clock.now.advanced(by: .seconds(5)) }
            try? await Task.sleep(for: settings.maintenanceInterval)
        }
    }

    func maintain(reconcile due: Bool, gauges: Bool) async {
        let ledger = jobs.ledger, db = jobs.db
        do {
            while true {
                let promoted = try await ledger.promoteDue(on: db)
                await jobs.publish(promoted)
                if promoted.count < 5000 { break }
            }
            let rescued = try await ledger.sweepExpiredLeases(on: db)
            for job in rescued {
                JobMetrics.leaseRescues(job.pipeline).increment()
                if job.state == .dead { JobMetrics.dead(job.pipeline).increment() }
            }
            if !rescued.isEmpty {
                logger.warning(
                    "rescued jobs whose lease expired",
                    metadata: ["requeued": .stringConvertible(rescued.filter { $0.state == .queued }.count),
                               "dead": .stringConvertible(rescued.filter { $0.state == .dead }.count)])
                await jobs.publish(rescued)
            }
            var reconcile = due
            if let fresh = try? await jobs.queue.markEpoch(), fresh { reconcile = true }
            if reconcile { try await self.reconcile() }
            if gauges {
                let depths = try await ledger.queueDepths(on: db)
                let now = Date()
                for config in jobs.catalog.pipelines.values {
                    let entry = depths.first { $0.pipeline == config.name }
                    JobMetrics.queueDepth(config.name).record(entry?.depth ?? 0)
                    JobMetrics.oldestAge(config.name).record(max(0, now.timeIntervalSince(entry?.oldest ?? now)))
                }
            }
        } catch {
            logger.warning("maintenance pass failed", metadata: ["error": .string("\(error)")])
        }
        let clock = ContinuousClock.now
        for (key, tenant) in tenants where await tenant.idleSince.map({ clock - $0 > .seconds(30) }) ?? false {
            // The await above let other work in: retire only if this is still the tenant of its key and nothing
            // was handed to it meanwhile.
            if tenants[key] === tenant, await tenant.isIdle, !inflight.values.contains(where: { $0.tenant === tenant }) {
                tenants[key] = nil
            }
        }
    }

    /// Publishes every queued job Redis does not hold (publish failed after commit, Redis
    /// restarted empty or was flushed). Publishing is idempotent (`ZADD NX`).
    func reconcile() async throws {
        var cursor: UUID?
        var republished = 0
        while true {
            let page = try await jobs.ledger.queuedPage(after: cursor, olderThan: settings.reconcileGrace, limit: 2000, on: jobs.db)
            guard let last = page.last else { break }
            republished += try await jobs.queue.publish(page)
            cursor = last.id
            if page.count < 2000 { break }
        }
        if republished > 0 {
            JobMetrics.republished.increment(by: republished)
            logger.warning("reconciler re-published jobs missing from the queue", metadata: ["jobs": .stringConvertible(republished)])
        }
    }
}
