import APIEdge
import Dispatch
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The promise that SIGTERM ends the process within the grace period plus a few seconds, whatever
/// Postgres or Redis are doing. The services drain in order (see `apiServices` and `runRole`); a step that
/// hangs (a ledger write stuck in the database client, a pipeline ignoring cancellation) is not
/// waited for past the deadline: what was not handed back is logged, and its leases expire so the
/// sweeper of another worker requeues those jobs.
enum ShutdownDeadline {
    /// Time past the grace period for handing leases back and closing the clients.
    static let handBack: Duration = .seconds(4)

    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    /// Watches SIGTERM and SIGINT beside the service group's own handling: the first one marks the
    /// process as draining (the API answers 503) and starts the clock; at `grace + handBack` the
    /// process exits. Call once, before the services run.
    static func arm(grace: Duration, logger: Logger) {
        let limit = grace + handBack
        for number in [SIGTERM, SIGINT] {
            // The service group ignores the signal too, so that only dispatch sources see it.
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                guard !ShutdownState.process.isDraining else { return }
                ShutdownState.process.beginDraining()
                logger.info("stop signal received: draining", metadata: ["deadline_s": .stringConvertible(limit.components.seconds)])
                DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(limit.components.seconds * 1000))) {
                    logger.warning("shutdown deadline passed: exiting without waiting for the steps still running; their leases expire")
                    exit(0)
                }
            }
            source.resume()
            sources.append(source)
        }
    }
}
