import Actors
import Foundation
import Store

/// The field rollup again during the day (hourly, from `pipelines/field-rollup-intraday.yaml`): the same
/// run as the nightly one, so the field summary reads raw only the last hour's interactions instead of
/// everything since 02:00 (50,000 raw rows cost the summary about 300 ms; docs/benchmarks.md). A pipeline
/// of its own because a pipeline has one schedule, and the nightly one stays unique per org and day.
public struct FieldRollupIntradayPipeline: OrgPipeline {
    /// The pipeline's name.
    public static let name = "field-rollup-intraday"

    public typealias Arguments = FieldRollupPipeline.Arguments

    let rollup: FieldRollupPipeline

    /// A pipeline that leaves the last `settle` of arrivals to the next run.
    public init(settle: Duration = .seconds(60)) {
        rollup = FieldRollupPipeline(settle: settle)
    }

    /// What the nightly run does (the two take turns on the org's rollup lock).
    public func run(_ arguments: Arguments, scope: OrgScope, context: JobContext) async throws {
        try await rollup.run(arguments, scope: scope, context: context)
    }
}
