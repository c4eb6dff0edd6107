import Foundation
import Logging
import PostgresNIO
import Store

/// Pausing a pipeline (`pipeline_pauses`): the ledger side, and each worker's watch of it.
extension JobLedger {
    /// The paused pipelines.
    public func pausedPipelines(on runner: some QueryRunner) async throws -> [String: (by: String, at: Date)] {
        var paused: [String: (by: String, at: Date)] = [:]
        let rows = try await runner.run("SELECT pipeline, paused_by, paused_at FROM pipeline_pauses", logger: logger)
        for try await (pipeline, by, at) in rows.decode((String, String, Date).self) { paused[pipeline] = (by, at) }
        return paused
    }

    /// Pauses `pipeline`; false when it already was.
    public func pause(pipeline: String, by actor: String, on runner: some QueryRunner) async throws -> Bool {
        let rows = try await runner.run(
            "INSERT INTO pipeline_pauses (pipeline, paused_by) VALUES (\(pipeline), \(actor)) ON CONFLICT DO NOTHING RETURNING 1",
            logger: logger
        )
        for try await _ in rows { return true }
        return false
    }

    /// Resumes `pipeline`; false when it was not paused.
    public func resume(pipeline: String, on runner: some QueryRunner) async throws -> Bool {
        let rows = try await runner.run("DELETE FROM pipeline_pauses WHERE pipeline = \(pipeline) RETURNING 1", logger: logger)
        for try await _ in rows { return true }
        return false
    }
}

extension Supervisor {
    /// How often each worker reads the paused pipelines: a pause holds everywhere within this.
    static let pauseWatchInterval: Duration = .milliseconds(500)

    func setPaused(_ names: Set<String>) {
        if names != paused {
            logger.info("paused pipelines changed", metadata: ["paused": .string(names.sorted().joined(separator: ","))])
        }
        paused = names
    }

    /// Reads `pipeline_pauses` every half second. When the read fails the last known set stands.
    nonisolated func pauseWatchLoop() async {
        let (ledger, db) = (jobs.ledger, jobs.db)
        while !Task.isCancelled {
            if let names = try? await Deadline.run("pause watch", limit: .seconds(2), { try await ledger.pausedPipelines(on: db) }) {
                await setPaused(Set(names.keys))
            }
            try? await Task.sleep(for: Self.pauseWatchInterval)
        }
    }
}
