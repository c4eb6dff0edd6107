import NIOCore
import PostgresNIO
import Synchronization

/// A statement's connection closed before it answered (Postgres stopped, restarted or cut the
/// session): the database is unavailable for now (`DatabaseOutage.matches` says so).
public struct ConnectionClosed: Error, CustomStringConvertible {
    public var description: String { "the database connection closed before the statement was answered" }
}

/// The statements waiting on each open connection, given up together when it closes. One
/// close callback per connection (not one per statement: a connection lives for millions).
final class ConnectionCloseWatch: Sendable {
    static let shared = ConnectionCloseWatch()
    /// Time a closed connection gets to fail its statements itself (with Postgres's own error).
    static let grace: TimeAmount = .milliseconds(200)

    typealias GiveUp = @Sendable (any Error) -> Void
    private struct State {
        var next = 0
        var waiters: [ObjectIdentifier: [Int: GiveUp]] = [:]
    }

    private let state = Mutex(State())

    /// Calls `giveUp` with `ConnectionClosed` if `connection` closes while watched; returns what ends the watch.
    func watch(_ connection: PostgresConnection, giveUp: @escaping GiveUp) -> @Sendable () -> Void {
        let key = ObjectIdentifier(connection)
        let (id, first) = state.withLock { state -> (Int, Bool) in
            state.next &+= 1
            let first = state.waiters[key] == nil
            state.waiters[key, default: [:]][state.next] = giveUp
            return (state.next, first)
        }
        if first {
            let closed = connection.closeFuture
            closed.whenComplete { [self] _ in
                let waiting = state.withLock { $0.waiters.removeValue(forKey: key) } ?? [:]
                closed.eventLoop.scheduleTask(in: Self.grace) {
                    for giveUp in waiting.values { giveUp(ConnectionClosed()) }
                }
            }
        }
        return { [self] in _ = state.withLock { $0.waiters[key]?.removeValue(forKey: id) } }
    }
}
