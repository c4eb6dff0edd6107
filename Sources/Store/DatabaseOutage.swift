import PostgresNIO
import _ConnectionPoolModule

/// Tells errors that mean "the database cannot be reached right now" (no connection, the pool's
/// circuit breaker open, the server shutting down or refusing connections) from errors of the
/// statement itself: callers answer the first with 503 and retry later, never with 500.
public enum DatabaseOutage {
    static let unavailableStates: Set<String> = ["57P01", "57P02", "57P03", "53300", "08000", "08003", "08006", "08001", "08004"]

    public static func matches(_ error: any Error) -> Bool {
        switch error {
        case is ConnectionPoolError, is ConnectionClosed:
            return true
        case let error as PSQLError:
            guard let state = error.serverInfo?[.sqlState] else { return true }
            return unavailableStates.contains(state)
        default:
            return false
        }
    }
}
