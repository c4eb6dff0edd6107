import Synchronization

/// A call that did not answer within its limit (a database or Redis request stuck in its client).
public struct DeadlineExceeded: Error, CustomStringConvertible {
    /// What was waited for.
    public let what: String
    /// How long it was waited for.
    public let limit: Duration
    public var description: String { "\(what) did not answer within \(limit)" }
}

/// Bounds a call that may never return. The call runs in a task of its own, so the caller is
/// released at the limit (or when the caller is cancelled) even if the call ignores cancellation:
/// a request stuck in a client's pool or on a dead connection cannot hold a loop or a shutdown.
public enum Deadline {
    /// `body`'s result, or `DeadlineExceeded` after `limit` (`CancellationError` if the caller is
    /// cancelled first); either way the abandoned call's task is cancelled.
    public static func run<T: Sendable>(
        _ what: String,
        limit: Duration,
        _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await Abandon.race(body) { giveUp in
            let timer = Task {
                try await Task.sleep(for: limit)
                giveUp(DeadlineExceeded(what: what, limit: limit))
            }
            return { timer.cancel() }
        }
    }
}

/// Runs a call that may never return in a task of its own, so that the caller can stop waiting
/// for it: when `watch` gives up (or the caller is cancelled) the caller gets that error at once,
/// `abandoned` runs, and the abandoned call's task is cancelled, whether or not it ever ends.
enum Abandon {
    /// `watch` is handed a function to give up with an error; it returns what stops the watching
    /// once the race is decided (a timer's cancel, say).
    static func race<T: Sendable>(
        _ body: @escaping @Sendable () async throws -> T,
        abandoned: @escaping @Sendable () -> Void = {},
        watch: (@escaping @Sendable (any Error) -> Void) -> @Sendable () -> Void
    ) async throws -> T {
        let race = Race<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                race.arm(continuation)
                let work = Task {
                    do { race.finish(.success(try await body())) } catch { race.finish(.failure(error)) }
                }
                let stopWatching = watch { if race.finish(.failure($0)) { abandoned() } }
                race.onFinish { work.cancel(); stopWatching() }
            }
        } onCancel: {
            if race.finish(.failure(CancellationError())) { abandoned() }
        }
    }
}

/// The first of several outcomes resumes the continuation; the others are dropped.
private final class Race<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var early: Result<T, any Error>?
        var done = false
        var cleanup: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())

    func arm(_ continuation: CheckedContinuation<T, any Error>) {
        let early = state.withLock { state -> Result<T, any Error>? in
            if let early = state.early { return early }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    /// Runs `cleanup` once the race is decided (at once if it already is).
    func onFinish(_ cleanup: @escaping @Sendable () -> Void) {
        let now = state.withLock { state -> Bool in
            if state.done { return true }
            state.cleanup = cleanup
            return false
        }
        if now { cleanup() }
    }

    /// True when this outcome decided the race.
    @discardableResult
    func finish(_ result: Result<T, any Error>) -> Bool {
        let (decided, continuation, cleanup) = state.withLock { state -> (Bool, CheckedContinuation<T, any Error>?, (@Sendable () -> Void)?) in
            guard !state.done else { return (false, nil, nil) }
            state.done = true
            if state.continuation == nil { state.early = result }
            defer {
                state.continuation = nil
                state.cleanup = nil
            }
            return (true, state.continuation, state.cleanup)
        }
        continuation?.resume(with: result)
        cleanup?()
        return decided
    }
}
