import Foundation
import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import Store

/// Fires the `schedule` of every pipeline that has one. One leader at a time across processes:
/// the leader holds a Postgres advisory lock on a dedicated session (it is released the moment
/// that session ends, whatever kills the process). Each firing inserts `(schedule, period, org)`
/// into `schedule_runs` and enqueues the job in the same transaction, so two schedulers, a
/// failover or a restart never run a period twice. Per-org schedules fire in each org's time zone.
public final class Scheduler: Sendable {
    public static let lockKey: Int64 = 0x6677_7363_6865_6475  // "fwschedu"

    public let id: String
    let jobs: JobSystem
    let connection: PostgresConnection.Configuration
    let tick: Duration
    /// On start, a period missed within this window fires once (the latest one).
    let catchUp: Duration
    let logger: Logger
    private let state = NIOLockedValueBox<(leader: Bool, lastChecked: [String: Date], fired: Int)>((false, [:], 0))

    public init(jobs: JobSystem, databaseURL: String, tick: Duration = .seconds(1), catchUp: Duration = .seconds(3600), logger: Logger) throws {
        self.id = "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier):\(UUID().uuidString.prefix(6).lowercased())"
        self.jobs = jobs
        self.connection = try DatabaseSettings.connectionConfiguration(url: databaseURL)
        self.tick = tick
        self.catchUp = catchUp
        self.logger = logger
    }

    public var isLeader: Bool { state.withLockedValue { $0.leader } }
    /// Jobs this instance enqueued (tests use it to see which instance fired).
    public var firedCount: Int { state.withLockedValue { $0.fired } }

    var schedules: [PipelineConfig] { jobs.catalog.pipelines.values.filter { $0.schedule != nil }.sorted { $0.name < $1.name } }

    /// Runs until the task is cancelled (wrap in `cancelWhenGracefulShutdown`).
    public func run() async {
        logger.info("scheduler started", metadata: ["scheduler_id": .string(id), "schedules": .string(schedules.map(\.name).joined(separator: ","))])
        var session: PostgresConnection?
        var failures = 0
        while !Task.isCancelled {
            do {
                if session == nil || session!.isClosed {
                    setLeader(false)
                    let opened = try await PostgresConnection.connect(configuration: connection, id: 1, logger: logger)
                    session = opened
                    try await opened.run("SELECT set_config('application_name', \("fieldwork-scheduler \(id)"), false)", logger: logger).consume()
                }
                if !isLeader, let session {
                    let rows = try await session.run("SELECT pg_try_advisory_lock(\(Self.lockKey))", logger: logger)
                    var won = false
                    for try await value in rows.decode(Bool.self) { won = value }
                    if won {
                        setLeader(true)
                        logger.info("became the scheduler leader", metadata: ["scheduler_id": .string(id)])
                    }
                } else if let session {
                    // The lock lives as long as this session: prove it is still up.
                    try await session.run("SELECT 1", logger: logger).consume()
                }
                if isLeader { try await fireDue(now: Date()) }
                if failures > 0 { logger.info("scheduler recovered after \(failures) failures") }
                failures = 0
            } catch {
                failures += 1
                if isLeader { logger.warning("scheduler lost its session; leadership released", metadata: ["error": .string(ErrorDescription.of(error))]) }
                setLeader(false)
                try? await session?.close()
                session = nil
                if failures == 1 || failures % 30 == 0 {
                    logger.warning("scheduler cannot reach the database", metadata: ["error": .string(ErrorDescription.of(error))])
                }
            }
            try? await Task.sleep(for: tick)
        }
        if let session {
            if isLeader { _ = try? await session.run("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger).consume() }
            try? await session.close()
        }
        setLeader(false)
        logger.info("scheduler stopped", metadata: ["scheduler_id": .string(id)])
    }

    /// Losing leadership forgets the last looks, so a later term fires only the latest missed period.
    private func setLeader(_ value: Bool) {
        state.withLockedValue {
            $0.leader = value
            if !value { $0.lastChecked = [:] }
        }
    }

    /// Enqueues every period of every schedule that came due since the last look.
    func fireDue(now: Date) async throws {
        var orgs: [(UUID, TimeZone)]?
        for config in schedules {
            guard let schedule = config.schedule else { continue }
            // One schedule's or one org's failure (say, an org deleted meanwhile) must not stop the others
            // or cost the leadership; the period is tried again on the next tick.
            if schedule.perOrg {
                if orgs == nil { orgs = try await organizations() }
                for (org, zone) in orgs! {
                    do { try await fire(config, schedule, org: org, zone: zone, now: now) } catch { logFailure(config, org: org, error) }
                }
            } else {
                do { try await fire(config, schedule, org: nil, zone: schedule.timeZone, now: now) } catch { logFailure(config, org: nil, error) }
            }
        }
    }

    func logFailure(_ config: PipelineConfig, org: UUID?, _ error: any Error) {
        logger.warning(
            "schedule firing failed; retried next tick",
            metadata: ["schedule": .string(config.name), "org_id": .string(org?.uuidString.lowercased() ?? ""), "error": .string(ErrorDescription.of(error))]
        )
    }

    func organizations() async throws -> [(UUID, TimeZone)] {
        var result: [(UUID, TimeZone)] = []
        for try await (id, zone) in try await jobs.db.run("SELECT id, timezone FROM organizations", logger: logger).decode((UUID, String).self) {
            result.append((id, TimeZone(identifier: zone) ?? TimeZone(identifier: "UTC")!))
        }
        return result
    }

    func fire(_ config: PipelineConfig, _ schedule: ScheduleConfig, org: UUID?, zone: TimeZone, now: Date) async throws {
        let key = "\(config.name)|\(org?.uuidString ?? "")"
        let last = state.withLockedValue { $0.lastChecked[key] }
        var from = last ?? now.addingTimeInterval(-Double(catchUp.milliseconds) / 1000)
        var periods: [Date] = []
        while periods.count < 100, let next = schedule.cron.next(after: from, in: zone), next <= now {
            periods.append(next)
            from = next
        }
        // A first look fires only the latest missed period, not every one in the window.
        if last == nil, let latest = periods.last { periods = [latest] }
        for period in periods {
            try await enqueue(config, period: period, org: org)
        }
        state.withLockedValue { $0.lastChecked[key] = now }
    }

    /// Records the firing and enqueues its job in one transaction; nothing if it already fired.
    func enqueue(_ config: PipelineConfig, period: Date, org: UUID?) async throws {
        let periodText = period.formatted(.iso8601)
        let orgKey = org?.uuidString.lowercased() ?? ""
        let spec = JobSpec(
            pipeline: config.name,
            orgId: org,
            argsJSON: try JobArgumentsCoding.encode(ScheduledRun(schedule: config.name, period: periodText)),
            uniqueKey: "schedule:\(config.name):\(periodText)\(org == nil ? "" : ":\(orgKey)")"
        )
        let jobs = self.jobs
        let id = self.id
        let logger = self.logger
        let enqueued: [EnqueuedJob] = try await jobs.db.inTransaction(logger: logger) { connection in
            let rows = try await connection.run(
                """
                INSERT INTO schedule_runs (schedule, period, org_key, fired_by) VALUES (\(config.name), \(period), \(orgKey), \(id))
                ON CONFLICT DO NOTHING RETURNING 1
                """,
                logger: logger
            )
            var inserted = false
            for try await _ in rows { inserted = true }
            guard inserted else { return [] }
            let jobs = try await jobs.enqueue([spec], on: connection)
            try await connection.run(
                "UPDATE schedule_runs SET job_id = \(jobs[0].id) WHERE schedule = \(config.name) AND period = \(period) AND org_key = \(orgKey)",
                logger: logger
            ).consume()
            return jobs
        }
        guard !enqueued.isEmpty else { return }
        state.withLockedValue { $0.fired += 1 }
        logger.info(
            "schedule fired",
            metadata: [
                "schedule": .string(config.name), "period": .string(periodText), "org_id": .string(orgKey),
                "job_id": .string(enqueued[0].id.uuidString.lowercased()),
            ]
        )
        await jobs.publish(enqueued)
    }

    /// The scheduler holding the leader lock now, from `pg_locks` (nil when none does).
    public static func currentLeader(on runner: some QueryRunner, logger: Logger) async throws -> String? {
        let rows = try await runner.run(
            """
            SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND ((l.classid::int8 << 32) | l.objid::int8) = \(lockKey)
            """,
            logger: logger
        )
        for try await name in rows.decode(String.self) {
            return name.hasPrefix("fieldwork-scheduler ") ? String(name.dropFirst("fieldwork-scheduler ".count)) : name
        }
        return nil
    }

    /// The latest fired period of each schedule.
    public static func lastRuns(on runner: some QueryRunner, logger: Logger) async throws -> [String: Date] {
        var result: [String: Date] = [:]
        let rows = try await runner.run("SELECT schedule, max(period) FROM schedule_runs GROUP BY schedule", logger: logger)
        for try await (name, period) in rows.decode((String, Date).self) { result[name] = period }
        return result
    }

    /// Enqueues a schedule's job now, outside its cron (one per org for a per-org schedule), on
    /// `connection`; the caller publishes after its commit.
    public static func trigger(
        _ config: PipelineConfig,
        jobs: JobSystem,
        requestId: String?,
        on connection: PostgresConnection
    ) async throws -> [EnqueuedJob] {
        guard let schedule = config.schedule else { return [] }
        let now = Date().formatted(.iso8601)
        var orgs: [UUID?] = [nil]
        if schedule.perOrg {
            orgs = []
            for try await id in try await connection.run("SELECT id FROM organizations ORDER BY id", logger: jobs.logger).decode(UUID.self) {
                orgs.append(id)
            }
        }
        let args = try JobArgumentsCoding.encode(ScheduledRun(schedule: config.name, period: now, trigger: "manual"))
        let specs = orgs.map { org in JobSpec(pipeline: config.name, orgId: org, argsJSON: args, requestId: requestId) }
        return try await jobs.enqueue(specs, on: connection)
    }

    /// The next firing of a platform schedule (or of a per-org one in `zone`).
    public static func nextRun(_ schedule: ScheduleConfig, after date: Date, zone: TimeZone? = nil) -> Date? {
        schedule.cron.next(after: date, in: zone ?? schedule.timeZone)
    }
}
