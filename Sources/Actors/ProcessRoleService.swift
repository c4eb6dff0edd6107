import Logging
import ServiceLifecycle

/// A long-running process role (`work`, `schedule`) that so far only announces itself and waits
/// for graceful shutdown. The orchestrator fills these with the supervisor and the scheduler.
public struct ProcessRoleService: Service {
    public let role: String
    let logger: Logger

    public init(role: String, logger: Logger) {
        self.role = role
        self.logger = logger
    }

    public func run() async throws {
        logger.info("\(role) started", metadata: ["role": .string(role)])
        try? await gracefulShutdown()
        logger.info("\(role) stopped", metadata: ["role": .string(role)])
    }
}
