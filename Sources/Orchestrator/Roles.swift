import Actors
import APIEdge
import Foundation
import Logging
import Pipelines
import ServiceLifecycle
import Store

/// The background roles a process can run: the composition root for workers and the scheduler.
enum Role {
    case worker, scheduler

    /// The role's service over `clients`.
    func service(_ clients: AppClients, config: AppConfig, logger: Logger) throws -> any Service {
        switch self {
        case .worker:
            let pipelines = PipelineRegistry.standard(clients.pipelineDependencies)
            let supervisor = try Supervisor(settings: config.workerSettings, jobs: clients.jobs, pipelines: pipelines, logger: logger)
            return WorkerService(supervisor: supervisor)
        case .scheduler:
            let scheduler = try Scheduler(jobs: clients.jobs, databaseURL: config.databaseURL, tick: config.schedulerTick, logger: logger)
            return SchedulerService(scheduler: scheduler)
        }
    }
}

/// Runs one background role until SIGTERM or SIGINT (the database client stops last).
func runRole(_ role: Role) async throws {
    let (config, logger) = loadConfig()
    ShutdownDeadline.arm(grace: config.shutdownGrace, logger: logger)
    let clients = try AppClients(config: config, logger: logger, workerOnly: role == .worker)
    let group = ServiceGroup(
        configuration: .init(
            services: [.init(service: clients.db), .init(service: try role.service(clients, config: config, logger: logger))],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
    )
    try await group.run()
}
