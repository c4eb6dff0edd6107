import Foundation
import Logging
import PostgresNIO
import Store

/// A worker process as its heartbeats describe it.
public struct WorkerRecord: Sendable {
    public let id: String
    public let host: String
    public let pid: Int
    public let startedAt: Date
    public let lastHeartbeatAt: Date
    public let running: Int
}

/// The `workers` table: one row per live worker process, kept by its heartbeats.
extension JobLedger {
    /// Records (or refreshes) this worker's row.
    public func workerHeartbeat(
        id: String,
        host: String,
        pid: Int,
        pipelines: [String],
        lease: Duration,
        running: Int,
        on runner: some QueryRunner
    ) async throws {
        try await runner.run(
            """
            INSERT INTO workers (id, host, pid, pipelines, lease_ms, running)
            VALUES (\(id), \(host), \(pid), \(pipelines), \(Int(lease.milliseconds)), \(running))
            ON CONFLICT (id) DO UPDATE SET last_heartbeat_at = now(), running = EXCLUDED.running
            """,
            logger: logger
        ).consume()
    }

    /// A worker that stopped cleanly removes its row.
    public func workerStopped(id: String, on runner: some QueryRunner) async throws {
        try await runner.run("DELETE FROM workers WHERE id = \(id)", logger: logger).consume()
    }

    /// Workers that heartbeated within two of their lease periods.
    public func liveWorkers(on runner: some QueryRunner) async throws -> [WorkerRecord] {
        let rows = try await runner.run(
            """
            SELECT id, host, pid, started_at, last_heartbeat_at, running FROM workers
            WHERE last_heartbeat_at > now() - 2 * lease_ms * interval '1 millisecond'
            ORDER BY started_at, id
            """,
            logger: logger
        )
        var workers: [WorkerRecord] = []
        for try await (id, host, pid, started, beat, running) in rows.decode((String, String, Int, Date, Date, Int).self) {
            workers.append(WorkerRecord(id: id, host: host, pid: pid, startedAt: started, lastHeartbeatAt: beat, running: running))
        }
        return workers
    }

    /// Forgets workers silent for a day (the list already hides them after two lease periods);
    /// every worker's maintenance loop calls it with the reconciler.
    public func pruneWorkers(on runner: some QueryRunner) async throws {
        try await runner.run("DELETE FROM workers WHERE last_heartbeat_at < now() - interval '1 day'", logger: logger).consume()
    }
}
