import Actors
import Foundation
import Store

/// Rolls up one org's field work into daily tables (nightly at 02:00 in the org's zone, from
/// `pipelines/field-rollup.yaml`; staff trigger it through the schedule). Idempotent: it recomputes
/// whole days, only those that changed since the previous run, in one fenced transaction.
public struct FieldRollupPipeline: OrgPipeline {
    /// The pipeline's name.
    public static let name = "field-rollup"

    /// A scheduled run's fields (all optional, so staff triggers and direct enqueues decode too).
    public struct Arguments: Codable, Sendable {
        public var schedule: String?
        public var period: String?
        public var trigger: String?

        public init(schedule: String? = nil, period: String? = nil, trigger: String? = nil) {
            self.schedule = schedule
            self.period = period
            self.trigger = trigger
        }
    }

    /// What a run reports as its progress.
    struct Report: Encodable {
        let days: [String]
        let rolledThrough: String
    }

    /// Interactions received this recently are left to the next run (see `FieldRollups.rollUp`).
    let settle: Duration

    /// A pipeline that leaves the last `settle` of arrivals to the next run.
    public init(settle: Duration = .seconds(60)) {
        self.settle = settle
    }

    /// Recomputes the org's changed days and records which in the job's progress.
    public func run(_ arguments: Arguments, scope: OrgScope, context: JobContext) async throws {
        let settle = settle
        let logger = context.logger
        let outcome = try await context.fenced { connection in
            try await FieldRollups(logger: logger).rollUp(scope, settle: settle, on: connection)
        }
        logger.info(
            "field rollup done",
            metadata: ["days": .stringConvertible(outcome.days.count), "rolled_through": .string(outcome.rolledThrough)]
        )
        try await context.progress(Report(days: outcome.days, rolledThrough: outcome.rolledThrough))
    }
}
