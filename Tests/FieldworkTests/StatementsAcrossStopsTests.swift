import Foundation
import Logging
import PostgresNIO
import Store
import Synchronization
import Testing

/// Postgres stopped (`-m fast`) under statements in flight. PostgresNIO 1.33 loses a statement
/// written to a connection that has just closed and its caller waits forever, holding its pool
/// lease; before `QueryRunner.run`, a few stops left most of these workers stuck for good.
@Suite struct StatementsAcrossStopsTests {
    @Test(.timeLimit(.minutes(3))) func noStatementWaitsForeverWhenPostgresStopsUnderIt() async throws {
        let postgres = try await PrivatePostgres.start()
        let logger = Logger(label: "statements-across-stops")
        let client = PostgresClient(configuration: try DatabaseSettings.configuration(url: postgres.url), backgroundLogger: logger)
        let progress = WorkerProgress()
        let workers = 16
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await client.run() }
                _ = try await client.run("CREATE TABLE effects (n int)", logger: logger).collect()
                // Tasks of their own: a worker stuck for good must fail the test, not hold the group open.
                for worker in 0..<workers {
                    Task {
                        while !progress.stopping {
                            do {
                                _ = try await client.run("SELECT 1", logger: logger).collect()
                                try await client.inTransaction(logger: logger) { connection in
                                    try await connection.run("INSERT INTO effects SELECT 1 FROM pg_sleep(0.005)", logger: logger).consume()
                                }
                            } catch {
                                try? await Task.sleep(for: .milliseconds(50))
                            }
                            progress.step(worker)
                        }
                        progress.step(worker)
                    }
                }
                for round in 1...3 {
                    try await Task.sleep(for: .milliseconds(Int.random(in: 300...1000)))
                    try await postgres.stop()
                    try await Task.sleep(for: .seconds(2))
                    try await postgres.startAgain()
                    let restarted = ContinuousClock.now
                    try await waitUntil("every worker finishes a statement after restart \(round)", timeout: .seconds(20), every: .milliseconds(200)) {
                        progress.idleSince(restarted).isEmpty
                    }
                    #expect(progress.idleSince(restarted).isEmpty, "round \(round): workers with no step since the restart")
                }
                progress.stop()
                let stopped = ContinuousClock.now
                try await waitUntil("every worker ends", timeout: .seconds(10), every: .milliseconds(100)) { progress.idleSince(stopped).isEmpty }
                group.cancelAll()
            }
        } catch {
            await postgres.destroy()
            throw error
        }
        await postgres.destroy()
    }
}

/// When each worker last finished a step (a statement answered or failed).
private final class WorkerProgress: Sendable {
    private let steps = Mutex([Int: ContinuousClock.Instant]())
    private let stopFlag = Atomic(false)

    var stopping: Bool { stopFlag.load(ordering: .relaxed) }
    func stop() { stopFlag.store(true, ordering: .relaxed) }
    func step(_ worker: Int) { steps.withLock { $0[worker] = .now } }

    /// Workers with no step since `moment`.
    func idleSince(_ moment: ContinuousClock.Instant) -> [Int] {
        steps.withLock { $0.filter { $0.value < moment }.map(\.key).sorted() }
    }
}
