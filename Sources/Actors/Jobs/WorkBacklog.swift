import Synchronization

/// Items handed from many tasks to one consumer loop, which takes everything gathered since its
/// last turn in one batch: while one batch is written the next one gathers, so a busy worker
/// writes hundreds of items per statement and an idle one still writes each at once.
final class WorkBacklog<Item: Sendable>: Sendable {
    private struct State {
        var items: [Item] = []
        var waiter: CheckedContinuation<Void, Never>?
        var closed = false
    }

    private let state = Mutex(State())

    /// Adds items for the consumer; false (nothing added) once the backlog is closed.
    @discardableResult
    func add(_ items: [Item]) -> Bool {
        let (added, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
            guard !state.closed else { return (false, nil) }
            guard !items.isEmpty else { return (true, nil) }
            state.items += items
            defer { state.waiter = nil }
            return (true, state.waiter)
        }
        waiter?.resume()
        return added
    }

    /// No more items: the consumer takes what is left, then its loop ends.
    func close() {
        let waiter = state.withLock { state in
            state.closed = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Up to `max` items, waiting for at least one; nil once closed and empty, or when the
    /// calling task is cancelled (call `close` and `remaining` to hand back what is left).
    func next(max: Int) async -> [Item]? {
        while true {
            let taken: [Item]?? = state.withLock { state in
                if !state.items.isEmpty {
                    let batch = Array(state.items.prefix(max))
                    state.items.removeFirst(batch.count)
                    return .some(batch)
                }
                return state.closed ? .some(nil) : nil
            }
            if let taken { return taken }
            if Task.isCancelled { return nil }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let ready = state.withLock { state in
                        if !state.items.isEmpty || state.closed || Task.isCancelled { return true }
                        state.waiter = continuation
                        return false
                    }
                    if ready { continuation.resume() }
                }
            } onCancel: {
                let waiter = state.withLock { state in
                    defer { state.waiter = nil }
                    return state.waiter
                }
                waiter?.resume()
            }
        }
    }

    /// Closes the backlog and returns what was never taken.
    func remaining() -> [Item] {
        state.withLock { state in
            state.closed = true
            defer { state.items = [] }
            return state.items
        }
    }
}
