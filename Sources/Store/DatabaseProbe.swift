import Logging
import PostgresNIO
import Synchronization

/// Knows, within a few seconds, whether Postgres answers: a dedicated connection runs `SELECT 1`
/// every `interval`, each try bounded by `timeout`; two failed tries in a row mean down (one slow
/// answer under load does not), one good try means up again. PostgresNIO's pool queues requests while it
/// retries connecting, until its circuit breaker opens about a minute later; requests consult the
/// probe instead, so an outage costs callers a fast 503, not a minute's wait.
public final class DatabaseProbe: Sendable {
    private struct State {
        var down = false
        var failures = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
    }

    private let configuration: PostgresConnection.Configuration
    private let interval: Duration
    private let timeout: Duration
    private let logger: Logger
    private let state = Mutex(State())

    public init(configuration: PostgresConnection.Configuration, interval: Duration = .seconds(1), timeout: Duration = .seconds(2), logger: Logger) {
        var configuration = configuration
        configuration.options.connectTimeout = .milliseconds(Int64(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000))
        self.configuration = configuration
        self.interval = interval
        self.timeout = timeout
        self.logger = logger
    }

    /// True from the second failed try in a row until the next good one.
    public var isDown: Bool { state.withLock { $0.down } }

    /// Returns once the database is seen down (at once if it is); waits forever otherwise, until cancelled.
    public func waitUntilDown() async {
        let id = state.withLock { state -> Int? in
            guard !state.down else { return nil }
            state.nextWaiter += 1
            return state.nextWaiter
        }
        guard let id else { return }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if state.down || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    /// Probes until cancelled.
    public func run() async {
        var connection: PostgresConnection?
        var id = 0
        while !Task.isCancelled {
            do {
                if connection == nil {
                    id += 1
                    connection = try await PostgresConnection.connect(configuration: configuration, id: id, logger: logger)
                }
                try await Deadline.run("database probe", limit: timeout) { [connection, logger] in
                    _ = try await connection!.query("SELECT 1", logger: logger).collect()
                }
                record(up: true, error: nil)
            } catch {
                if Task.isCancelled { break }
                logger.debug("database probe failed", metadata: ["error": .string(String(reflecting: error))])
                // A full server (too many connections) is up: the pool's queue, not a 503, is the answer to that.
                if (error as? PSQLError)?.serverInfo?[.sqlState] != "53300" { record(up: false, error: error) }
                if let broken = connection {
                    connection = nil
                    try? await Deadline.run("closing the probe connection", limit: timeout) { try await broken.close() }
                }
            }
            try? await Task.sleep(for: interval)
        }
        try? await connection?.close()
    }

    private func record(up: Bool, error: (any Error)?) {
        let (changed, failures, waiters) = state.withLock { state -> (Bool, Int, [CheckedContinuation<Void, Never>]) in
            let failures = state.failures
            state.failures = up ? 0 : state.failures + 1
            let down = !up && state.failures >= 2
            let changed = down != state.down
            state.down = down
            let waiters = down ? Array(state.waiters.values) : []
            if down { state.waiters.removeAll() }
            return (changed, failures, waiters)
        }
        waiters.forEach { $0.resume() }
        guard changed else { return }
        if up {
            logger.info("database reachable again", metadata: ["failed_probes": .stringConvertible(failures)])
        } else {
            logger.error("database unreachable", metadata: ["error": .string(String(describing: error.map { String(reflecting: $0) } ?? "-"))])
        }
    }
}
