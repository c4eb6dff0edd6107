import Logging
import ServiceLifecycle

/// `fieldwork work`: one `Supervisor` until SIGTERM, then a graceful drain.
public struct WorkerService: Service {
    public let supervisor: Supervisor

    public init(supervisor: Supervisor) {
        self.supervisor = supervisor
    }

    public func run() async throws {
        let supervisor = supervisor
        await withGracefulShutdownHandler {
            await supervisor.run()
        } onGracefulShutdown: {
            supervisor.beginShutdown()
        }
    }
}

/// `fieldwork schedule`: the scheduler until SIGTERM.
public struct SchedulerService: Service {
    public let scheduler: Scheduler

    public init(scheduler: Scheduler) {
        self.scheduler = scheduler
    }

    public func run() async throws {
        let scheduler = scheduler
        try? await cancelWhenGracefulShutdown {
            await scheduler.run()
        }
    }
}
