import Foundation
import Logging
import Metrics
import PostgresNIO
import Store

/// What the rest of the code uses to enqueue work: the ledger (truth) and the transport.
///
/// Enqueue inside the caller's transaction with `enqueue(_:on:)`, then `publish` the result after
/// the commit; or use `enqueueAndPublish`, which does both. A publish that fails (Redis away) is
/// only logged: the reconciler publishes every queued job Redis does not hold.
public struct JobSystem: Sendable {
    public let db: PostgresClient
    public let queue: JobQueue
    public let catalog: PipelineCatalog
    public let ledger: JobLedger
    public let logger: Logger

    public init(db: PostgresClient, queue: JobQueue, catalog: PipelineCatalog, logger: Logger) {
        self.db = db
        self.queue = queue
        self.catalog = catalog
        self.ledger = JobLedger(logger: logger)
        self.logger = logger
    }

    /// Writes jobs to the ledger on `runner` (commit them with the caller's transaction).
    public func enqueue(_ specs: [JobSpec], on runner: some QueryRunner) async throws -> [EnqueuedJob] {
        let jobs = try await ledger.enqueue(specs, catalog: catalog, on: runner)
        for (pipeline, group) in Dictionary(grouping: jobs.filter(\.inserted), by: \.pipeline) {
            JobMetrics.enqueued(pipeline).increment(by: group.count)
        }
        return jobs
    }

    /// `count` identical jobs of `payload` per org of `scopes` (nil: a platform job) in one
    /// statement on `runner` (see `JobLedger.enqueueCopies`).
    public func enqueueCopies(
        _ payload: JobPayload,
        scopes: [OrgScope?],
        count: Int,
        requestId: String?,
        on runner: some QueryRunner
    ) async throws -> [EnqueuedJob] {
        guard let config = catalog[payload.pipeline] else { throw JobSpecError.unknownPipeline(payload.pipeline) }
        let jobs = try await ledger.enqueueCopies(payload, pipeline: config, scopes: scopes, count: count, requestId: requestId, on: runner)
        JobMetrics.enqueued(payload.pipeline).increment(by: jobs.count)
        return jobs
    }

    /// Publishes committed jobs to Redis. Never throws: a failure leaves them to the reconciler.
    public func publish(_ jobs: [EnqueuedJob]) async {
        guard jobs.contains(where: { $0.state == .queued }) else { return }
        do {
            try await queue.publish(jobs)
        } catch {
            logger.warning(
                "publish after commit failed; the reconciler will publish these jobs",
                metadata: ["jobs": .stringConvertible(jobs.count), "error": .string(ErrorDescription.of(error))]
            )
        }
    }

    /// Enqueues in a transaction of its own, then publishes.
    public func enqueueAndPublish(_ specs: [JobSpec]) async throws -> [EnqueuedJob] {
        let jobs = try await db.inTransaction(logger: logger) { connection in
            try await enqueue(specs, on: connection)
        }
        await publish(jobs)
        return jobs
    }
}

/// Metric names of the orchestrator (documented in docs/orchestrator.md).
public enum JobMetrics {
    public static func enqueued(_ pipeline: String) -> Counter {
        Counter(label: "fieldwork_jobs_enqueued_total", dimensions: [("pipeline", pipeline)])
    }
    public static func started(_ pipeline: String) -> Counter { Counter(label: "fieldwork_jobs_started_total", dimensions: [("pipeline", pipeline)]) }
    public static func succeeded(_ pipeline: String) -> Counter {
        Counter(label: "fieldwork_jobs_succeeded_total", dimensions: [("pipeline", pipeline)])
    }
    public static func failed(_ pipeline: String) -> Counter { Counter(label: "fieldwork_jobs_failed_total", dimensions: [("pipeline", pipeline)]) }
    public static func dead(_ pipeline: String) -> Counter { Counter(label: "fieldwork_jobs_dead_total", dimensions: [("pipeline", pipeline)]) }
    public static func cancelled(_ pipeline: String) -> Counter {
        Counter(label: "fieldwork_jobs_cancelled_total", dimensions: [("pipeline", pipeline)])
    }
    public static func runTime(_ pipeline: String) -> Metrics.Timer {
        Metrics.Timer(label: "fieldwork_job_run_seconds", dimensions: [("pipeline", pipeline)], preferredDisplayUnit: .seconds)
    }
    public static func leaseRescues(_ pipeline: String) -> Counter {
        Counter(label: "fieldwork_job_lease_rescues_total", dimensions: [("pipeline", pipeline)])
    }
    public static let republished = Counter(label: "fieldwork_reconciler_republished_total")
    public static let staleCompletions = Counter(label: "fieldwork_job_stale_completions_total")
    public static func queueDepth(_ pipeline: String) -> Gauge { Gauge(label: "fieldwork_queue_depth", dimensions: [("pipeline", pipeline)]) }
    public static func oldestAge(_ pipeline: String) -> Gauge {
        Gauge(label: "fieldwork_queue_oldest_age_seconds", dimensions: [("pipeline", pipeline)])
    }
    /// Orgs whose queue of `pipeline` is stalled (see `JobLedger.stalledQueues`).
    public static func stalledOrgs(_ pipeline: String) -> Gauge {
        Gauge(label: "fieldwork_queue_stalled_orgs", dimensions: [("pipeline", pipeline)])
    }
}
