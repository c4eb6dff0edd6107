import Synchronization

/// Why a running job is told to stop.
public enum StopReason: Sendable, Equatable {
    case cancelRequested, leaseLost, shutdown, timeout
}

/// Shared between a job's execution and whoever stops it: the first reason wins, and the
/// execution's watcher wakes up to stop the pipeline's code.
final class JobControl: Sendable {
    private let recorded = Mutex<StopReason?>(nil)
    private let shutdown = Mutex(false)
    private let signal = AsyncStream<StopReason>.makeStream(bufferingPolicy: .bufferingNewest(1))

    /// The reason recorded, if any.
    var reason: StopReason? { recorded.withLock { $0 } }

    /// True once the worker shuts down, even when another reason stopped the job first: an outcome
    /// still waiting for the database is then left to lease expiry.
    var isShuttingDown: Bool { shutdown.withLock { $0 } }

    /// Records `reason` unless one is already set; true if this call set it.
    @discardableResult
    func stop(_ reason: StopReason) -> Bool {
        if reason == .shutdown { shutdown.withLock { $0 = true } }
        let first = recorded.withLock { current in
            guard current == nil else { return false }
            current = reason
            return true
        }
        if first {
            signal.continuation.yield(reason)
            signal.continuation.finish()
        }
        return first
    }

    /// Returns the reason once a stop is asked for; nil if the calling task is cancelled first.
    func stopRequested() async -> StopReason? {
        var iterator = signal.stream.makeAsyncIterator()
        return await iterator.next()
    }
}
