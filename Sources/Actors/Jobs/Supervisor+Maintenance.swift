import Foundation
import Logging
import Store

/// Heartbeats (leases, cancel requests, Redis slots) and the maintenance loop (promotion, lease
/// sweeper, reconciler, gauges, pruning of long-silent workers, retirement of idle tenants).
extension Supervisor {
    func snapshot() -> [Inflight] { Array(inflight.values) }

    nonisolated func heartbeatLoop() async {
        let shortest = served.map(\.lease).min() ?? .seconds(30)
        let interval = max(.milliseconds(100), shortest / 3)
        var failures = 0
        while !Task.isCancelled {
            do {
                // A slow heartbeat still extends the leases when it lands: only a stuck one is given up on.
                try await Deadline.run("heartbeat", limit: settings.ledgerTimeout) { try await self.heartbeat() }
                if failures > 0 { logger.info("heartbeat recovered after \(failures) failures") }
                failures = 0
            } catch {
                failures += 1
                if failures == 1 || failures % 50 == 0 {
                    logger.warning("heartbeat failed", metadata: ["error": .string(ErrorDescription.of(error)), "failures": .stringConvertible(failures)])
                }
            }
            await touchSlots()
            try? await Task.sleep(for: interval)
        }
    }

    /// Extends the Redis slots of the attempts still running (read after the ledger's heartbeat,
    /// which may have taken long: a slot freed meanwhile must not be taken again).
    func touchSlots() async {
        for (pipeline, entries) in Dictionary(grouping: snapshot(), by: \.config.name) {
            try? await jobs.queue.touchSlots(pipeline: pipeline, slots: entries.map { ($0.org, $0.job.leaseToken) }, lease: entries[0].config.lease)
        }
    }

    /// Extends every lease this worker holds; stops jobs that lost theirs or that staff cancelled.
    func heartbeat() async throws {
        let running = snapshot()
        if !running.isEmpty {
            let alive = try await jobs.ledger.heartbeat(
                running.map { (id: $0.job.id, token: $0.job.leaseToken, lease: $0.config.lease) },
                on: jobs.db
            )
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
            id: settings.id,
            host: settings.host,
            pid: settings.pid,
            pipelines: served.map(\.name),
            lease: served.map(\.lease).min() ?? .seconds(30),
            running: running.count,
            on: jobs.db
        )
    }

    nonisolated func maintenanceLoop() async {
        let clock = ContinuousClock()
        var nextReconcile = clock.now
        var nextGauges = clock.now
        var failures = 0
        // A pass is several ledger statements and may page through the whole queue.
        let limit = max(settings.ledgerTimeout * 3, .seconds(30))
        while !Task.isCancelled {
            let (reconcile, gauges) = (clock.now >= nextReconcile, clock.now >= nextGauges)
            do {
                try await Deadline.run("maintenance pass", limit: limit) { try await self.maintain(reconcile: reconcile, gauges: gauges) }
                if failures > 0 { logger.info("maintenance recovered after \(failures) failures") }
                failures = 0
                // A reconcile or gauge pass that failed is tried again at the next pass.
                if reconcile { nextReconcile = clock.now.advanced(by: settings.reconcileInterval) }
                if gauges { nextGauges = clock.now.advanced(by: .seconds(5)) }
            } catch {
                failures += 1
                if failures == 1 || failures % 50 == 0 {
                    logger.warning("maintenance pass failed", metadata: ["error": .string(ErrorDescription.of(error)), "failures": .stringConvertible(failures)])
                }
            }
            await retireIdleTenants()
            try? await Task.sleep(for: settings.maintenanceInterval)
        }
    }

    /// One pass: slots past their lease, promotion, the lease sweeper, and when due the reconciler
    /// and the gauges. Each step runs even when an earlier one failed; the first error is thrown.
    func maintain(reconcile due: Bool, gauges: Bool) async throws {
        var errors: [any Error] = []
        do {
            for config in served { try await jobs.queue.sweepExpiredSlots(pipeline: config.name) }
        } catch { errors.append(error) }
        do {
            while true {
                let promoted = try await jobs.ledger.promoteDue(on: jobs.db)
                await jobs.publish(promoted)
                if promoted.count < 5000 { break }
            }
        } catch { errors.append(error) }
        do { try await rescueExpiredLeases() } catch { errors.append(error) }
        var reconcile = due
        if let fresh = try? await jobs.queue.markEpoch(), fresh { reconcile = true }
        if reconcile {
            do { try await self.reconcile() } catch { errors.append(error) }
            do { try await jobs.ledger.pruneWorkers(on: jobs.db) } catch { errors.append(error) }
        }
        if gauges {
            do { try await recordGauges() } catch { errors.append(error) }
            do { try await jobs.ledger.rollUpHistory(on: jobs.db) } catch { errors.append(error) }
        }
        if let first = errors.first { throw first }
    }

    private func rescueExpiredLeases() async throws {
        let rescued = try await jobs.ledger.sweepExpiredLeases(on: jobs.db)
        for job in rescued {
            JobMetrics.leaseRescues(job.pipeline).increment()
            if job.state == .dead { JobMetrics.dead(job.pipeline).increment() }
        }
        if !rescued.isEmpty {
            logger.warning(
                "rescued jobs whose lease expired",
                metadata: [
                    "requeued": .stringConvertible(rescued.filter { $0.state == .queued }.count),
                    "dead": .stringConvertible(rescued.filter { $0.state == .dead }.count),
                ]
            )
            await jobs.publish(rescued)
        }
    }

    private func recordGauges() async throws {
        let depths = try await jobs.ledger.queueDepths(on: jobs.db)
        let now = Date()
        for config in jobs.catalog.pipelines.values {
            let entry = depths.first { $0.pipeline == config.name }
            JobMetrics.queueDepth(config.name).record(entry?.depth ?? 0)
            JobMetrics.oldestAge(config.name).record(max(0, now.timeIntervalSince(entry?.oldest ?? now)))
        }
        let stalled = Dictionary(grouping: try await jobs.ledger.stalledQueues(limit: 10_000, on: jobs.db), by: \.pipeline)
        for config in jobs.catalog.pipelines.values {
            JobMetrics.stalledOrgs(config.name).record(stalled[config.name]?.count ?? 0)
        }
    }

    private func retireIdleTenants() async {
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
    /// restarted empty or was flushed, a claim's undo failed). Publishing is idempotent (`ZADD NX`).
    /// Pages through the whole queue by id; a pass cut short (an error, the pass's deadline)
    /// resumes after the last page it published, so a queue of any length is covered in the end.
    func reconcile() async throws {
        var republished = 0
        defer {
            if republished > 0 {
                JobMetrics.republished.increment(by: republished)
                logger.warning("reconciler re-published jobs missing from the queue", metadata: ["jobs": .stringConvertible(republished)])
            }
        }
        while true {
            let page = try await jobs.ledger.queuedPage(after: reconcileCursor, olderThan: settings.reconcileGrace, limit: 2000, on: jobs.db)
            guard let last = page.last else { break }
            republished += try await jobs.queue.publish(page)
            reconcileCursor = last.id
            if page.count < 2000 { break }
        }
        reconcileCursor = nil
    }
}
