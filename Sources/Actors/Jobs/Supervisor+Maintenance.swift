import Foundation
import Logging

/// Heartbeats (leases, cancel requests, Redis slots) and the maintenance loop (promotion, lease
/// sweeper, reconciler, gauges, pruning of long-silent workers, retirement of idle tenants).
extension Supervisor {
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
        } catch {
            logger.warning("heartbeat failed", metadata: ["error": .string("\(error)")])
        }
        for (pipeline, entries) in Dictionary(grouping: running, by: \.config.name) {
            try? await jobs.queue.touchSlots(pipeline: pipeline, slots: entries.map { ($0.org, $0.job.leaseToken) }, lease: entries[0].config.lease)
        }
    }

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
        let ledger = jobs.ledger
        let db = jobs.db
        do {
            while true {
                let promoted = try await ledger.promoteDue(on: db)
                await jobs.publish(promoted)
                if promoted.count < 5000 { break }
            }
            try await rescueExpiredLeases()
            var reconcile = due
            if let fresh = try? await jobs.queue.markEpoch(), fresh { reconcile = true }
            if reconcile {
                try await self.reconcile()
                try await ledger.pruneWorkers(on: db)
            }
            if gauges { try await recordGauges() }
        } catch {
            logger.warning("maintenance pass failed", metadata: ["error": .string("\(error)")])
        }
        await retireIdleTenants()
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
