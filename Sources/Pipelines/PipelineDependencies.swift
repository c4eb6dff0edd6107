import Actors
import Foundation
import PostgresNIO

/// What pipelines may use, handed to them when the registry is built: no pipeline reaches for a
/// global client, store or clock.
public struct PipelineDependencies: Sendable {
    /// The ledger's Postgres (pipelines write their effects here, usually through `JobContext.fenced`).
    public let db: PostgresClient
    /// Where imports, exports and other blobs live.
    public let objectStore: any ObjectStore
    /// The configured pipelines (timeouts, caps) for pipelines that plan their work by them.
    public let catalog: PipelineCatalog
    /// What pipelines wait on (tests may pass a clock of their own).
    public let clock: any Clock<Duration>

    /// The dependencies of one process (a clock of the test's own may replace the continuous one).
    public init(db: PostgresClient, objectStore: any ObjectStore, catalog: PipelineCatalog, clock: any Clock<Duration> = ContinuousClock()) {
        self.db = db
        self.objectStore = objectStore
        self.catalog = catalog
        self.clock = clock
    }
}

extension PipelineRegistry {
    /// Every pipeline this build has: the one place, besides each pipeline's own file, that names them.
    public static func standard(_ dependencies: PipelineDependencies) -> PipelineRegistry {
        PipelineRegistry([
            NoopPipeline(),
            SleepPipeline(clock: dependencies.clock),
            FailPipeline(),
            ListPopulationPipeline(),
            ExportPipeline(db: dependencies.db, store: dependencies.objectStore),
            ExportExpiryPipeline(db: dependencies.db, store: dependencies.objectStore),
            VoterImportPipeline(db: dependencies.db, store: dependencies.objectStore),
            FieldRollupPipeline(),
            FieldRollupIntradayPipeline(),
        ])
    }
}
