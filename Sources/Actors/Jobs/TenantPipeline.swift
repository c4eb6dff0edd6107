import Foundation

/// One org's share of one pipeline inside a worker process: runs that org's jobs concurrently up
/// to the pipeline's per-org cap (the transport enforces the same cap across processes), and
/// stops them on request. Made on demand by the `Supervisor`, retired when idle. It starts
/// nothing itself: each job is launched into the supervisor's task group.
actor TenantPipeline {
    /// A job handed to the supervisor's execution group; `control` may already hold a stop.
    struct Launch: Sendable {
        let job: ClaimedJob
        let control: JobControl
        let tenant: TenantPipeline
    }

    let config: PipelineConfig
    let org: String
    private let launch: @Sendable (Launch) -> Void
    private var running: [UUID: JobControl] = [:]
    private var waiting: [ClaimedJob] = []
    private(set) var idleSince: ContinuousClock.Instant? = .now

    init(config: PipelineConfig, org: String, launch: @escaping @Sendable (Launch) -> Void) {
        self.config = config
        self.org = org
        self.launch = launch
    }

    func submit(_ job: ClaimedJob) {
        idleSince = nil
        if running.count < config.perOrgConcurrency {
            start(job)
        } else {
            waiting.append(job)
        }
    }

    private func start(_ job: ClaimedJob) {
        let control = JobControl()
        running[job.leaseToken] = control
        launch(Launch(job: job, control: control, tenant: self))
    }

    /// The attempt holding `token` has ended and its outcome is recorded: the next waiting job
    /// may start. (`token`, not the job id: this worker may claim a job again while a stale
    /// attempt of it still winds down.)
    func finished(_ token: UUID) {
        running[token] = nil
        if !waiting.isEmpty, running.count < config.perOrgConcurrency {
            start(waiting.removeFirst())
        } else if isIdle {
            idleSince = .now
        }
    }

    /// Tells the attempt holding `token` to stop. A running one has its pipeline code cancelled;
    /// one still waiting for a local slot never runs it: only its outcome is recorded, as the
    /// reason says (cancelled, handed back, or nothing when the lease is lost).
    func stop(_ token: UUID, reason: StopReason) {
        if let control = running[token] {
            control.stop(reason)
        } else if let index = waiting.firstIndex(where: { $0.leaseToken == token }) {
            let job = waiting.remove(at: index)
            let control = JobControl()
            control.stop(reason)
            launch(Launch(job: job, control: control, tenant: self))
        }
    }

    var isIdle: Bool { running.isEmpty && waiting.isEmpty }
}
