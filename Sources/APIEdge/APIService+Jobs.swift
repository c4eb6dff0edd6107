import Actors
import Foundation
import OpenAPIRuntime
import PostgresNIO
@_spi(TenantAuth) import Store

/// The operator surface (`/internal/*` job routes) and the tenant job routes (`/jobs`).
extension APIService {
    // MARK: Tenant

    func listJobs(_ input: Operations.ListJobs.Input) async throws -> Operations.ListJobs.Output {
        let caller = try await requireMember([.admin])
        let page = try Validate.page(limit: input.query.limit, cursor: input.query.cursor)
        let filter = JobFilter(
            state: input.query.state.flatMap { JobState(rawValue: $0.rawValue) },
            pipeline: try Validate.text(input.query.pipeline, 1...63, "pipeline")
        )
        let result = try await jobs.ledger.list(filter, in: caller.scope, limit: page.limit, after: page.cursor, on: db)
        return .ok(.init(body: .json(.init(items: result.items.map { .init($0) }, nextCursor: result.nextCursor))))
    }

    func getJob(_ input: Operations.GetJob.Input) async throws -> Operations.GetJob.Output {
        let caller = try await requireMember([.admin])
        let id = try Validate.pathId(input.path.jobId, "job")
        guard let job = try await jobs.ledger.job(id: id, in: caller.scope, on: db) else {
            throw APIError.notFound("no job with id \(input.path.jobId)")
        }
        return .ok(.init(body: .json(.init(job))))
    }

    // MARK: Staff: jobs

    func listAllJobs(_ input: Operations.ListAllJobs.Input) async throws -> Operations.ListAllJobs.Output {
        _ = try requireStaff()
        let page = try Validate.page(limit: input.query.limit, cursor: input.query.cursor)
        let filter = JobFilter(
            state: input.query.state.flatMap { JobState(rawValue: $0.rawValue) },
            pipeline: try Validate.text(input.query.pipeline, 1...63, "pipeline"),
            errorFingerprint: try Validate.text(input.query.errorFingerprint, 1...64, "errorFingerprint"),
            argsContaining: try Validate.argsContaining(input.query.args)
        )
        let org = try input.query.orgId.map { try Validate.uuid($0, "orgId") }
        let result = try await jobs.ledger.listAll(filter, org: org, limit: page.limit, after: page.cursor, on: db)
        return .ok(.init(body: .json(.init(items: result.items.map { .init($0, withArgs: true) }, nextCursor: result.nextCursor))))
    }

    func getAnyJob(_ input: Operations.GetAnyJob.Input) async throws -> Operations.GetAnyJob.Output {
        _ = try requireStaff()
        return .ok(.init(body: .json(.init(try await job(input.path.jobId), withArgs: true))))
    }

    func job(_ text: String) async throws -> JobRecord {
        let id = try Validate.pathId(text, "job")
        guard let job = try await jobs.ledger.job(id: id, on: db) else { throw APIError.notFound("no job with id \(text)") }
        return job
    }

    func retryJob(_ input: Operations.RetryJob.Input) async throws -> Operations.RetryJob.Output {
        let record = try await jobAction(input.path.jobId, action: "job.retried") { id, connection in
            try await jobs.ledger.retry(jobId: id, catalog: jobs.catalog, on: connection)
        }
        return .ok(.init(body: .json(.init(record, withArgs: true))))
    }

    func discardJob(_ input: Operations.DiscardJob.Input) async throws -> Operations.DiscardJob.Output {
        let record = try await jobAction(input.path.jobId, action: "job.discarded") { id, connection in
            try await jobs.ledger.discard(jobId: id, on: connection)
        }
        return .ok(.init(body: .json(.init(record, withArgs: true))))
    }

    func cancelJob(_ input: Operations.CancelJob.Input) async throws -> Operations.CancelJob.Output {
        let record = try await jobAction(input.path.jobId, action: "job.cancelled") { id, connection in
            try await jobs.ledger.cancel(jobId: id, on: connection)
        }
        return .ok(.init(body: .json(.init(record, withArgs: true))))
    }

    /// Runs a staff action on one job with its audit entry in one transaction, publishes the job
    /// if it became queued, and returns the job as it is now.
    func jobAction(
        _ text: String,
        action: String,
        _ body: @escaping @Sendable (UUID, PostgresConnection) async throws -> EnqueuedJob
    ) async throws -> JobRecord {
        try await auditedJobAction(text, action: action) { id, connection in (try await body(id, connection), [:]) }
    }

    /// `jobAction` whose body also names audit changes of its own (merged into the entry's).
    func auditedJobAction(
        _ text: String,
        action: String,
        _ body: @escaping @Sendable (UUID, PostgresConnection) async throws -> (EnqueuedJob, [String: AuditValue])
    ) async throws -> JobRecord {
        let staff = try requireStaff()
        let id = try Validate.pathId(text, "job")
        let requestId = request.requestId
        let after: EnqueuedJob
        do {
            after = try await transaction { connection in
                let (after, extra) = try await body(id, connection)
                let changes = extra.merging(["pipeline": .string(after.pipeline), "state": .string(after.state.rawValue)]) { $1 }
                try await recordStaffAudit(
                    by: staff, action, on: "job", id: id.uuidString.lowercased(), org: after.orgId, changes: changes,
                    requestId: requestId, in: connection
                )
                return after
            }
        } catch let error as JobActionError {
            switch error {
            case .notFound: throw APIError.notFound("no job with id \(text)")
            case .wrongState(let current, let allowed):
                throw APIError.conflict(
                    "the job is \(current.rawValue); this action applies to \(allowed.map(\.rawValue).joined(separator: ", ")) jobs"
                )
            case .uniqueKeyTaken(let message): throw APIError.conflict(message)
            }
        }
        await jobs.publish([after])
        return try await job(text)
    }

    func bulkRetryJobs(_ input: Operations.BulkRetryJobs.Input) async throws -> Operations.BulkRetryJobs.Output {
        let staff = try requireStaff()
        guard case .json(let body) = input.body else { throw APIError.unsupportedMediaType("expected application/json") }
        let filter = BulkRetryFilter(
            pipeline: try Validate.text(body.filter.pipeline, 1...63, "filter.pipeline"),
            orgId: try body.filter.orgId.map { try Validate.uuid($0, "filter.orgId") },
            errorFingerprint: try Validate.text(body.filter.errorFingerprint, 1...64, "filter.errorFingerprint"),
            deadSince: body.filter.deadSince
        )
        if body.dryRun {
            let result = try await jobs.ledger.bulkRetry(filter, dryRun: true, rate: config.bulkRetryRate, catalog: jobs.catalog, on: db)
            return .ok(.init(body: .json(.init(matched: result.matched, retried: 0))))
        }
        let requestId = request.requestId
        let rate = config.bulkRetryRate
        let result = try await retryConflicts {
            try await transaction { connection in
                let result = try await jobs.ledger.bulkRetry(filter, dryRun: false, rate: rate, catalog: jobs.catalog, on: connection)
                var changes: [String: AuditValue] = [
                    "matched": .int(result.matched), "retried": .int(result.retried), "ratePerSecond": .int(rate),
                ]
                if let pipeline = filter.pipeline { changes["pipeline"] = .string(pipeline) }
                if let org = filter.orgId { changes["orgId"] = .string(org.uuidString.lowercased()) }
                if let fingerprint = filter.errorFingerprint { changes["errorFingerprint"] = .string(fingerprint) }
                if let since = filter.deadSince { changes["deadSince"] = .string(since.formatted(.iso8601)) }
                try await recordStaffAudit(by: staff, "jobs.bulk_retried", on: "job", id: nil, changes: changes, requestId: requestId, in: connection)
                return result
            }
        }
        return .ok(.init(body: .json(.init(matched: result.matched, retried: result.retried))))
    }

    /// A unique-key clash with a job enqueued meanwhile is a 409 (retry the request), not a 500.
    func retryConflicts<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch  where error.isUniqueViolation {
            throw APIError.conflict("an unfinished job took one of the matched jobs' unique keys meanwhile; try again")
        }
    }

    func listDeadLetters(_ input: Operations.ListDeadLetters.Input) async throws -> Operations.ListDeadLetters.Output {
        _ = try requireStaff()
        let limit = input.query.limit ?? 200
        guard (1...1000).contains(limit) else { throw APIError.validation("limit: must be 1..1000", details: [("limit", "must be 1..1000")]) }
        let groups = try await jobs.ledger.deadLetterGroups(limit: limit, on: db)
        return .ok(
            .init(
                body: .json(
                    .init(
                        groups: groups.map {
                            .init(
                                pipeline: $0.pipeline,
                                orgId: $0.orgId?.uuidString.lowercased(),
                                errorFingerprint: $0.errorFingerprint,
                                count: $0.count,
                                firstAt: $0.firstAt,
                                lastAt: $0.lastAt,
                                sampleError: $0.sampleError
                            )
                        }
                    )
                )
            )
        )
    }

    // MARK: Staff: pipelines, workers, schedules

    func listPipelines(_ input: Operations.ListPipelines.Input) async throws -> Operations.ListPipelines.Output {
        _ = try requireStaff()
        let stats = try await jobs.ledger.pipelineStats(on: db)
        let stalled = Dictionary(grouping: try await jobs.ledger.stalledQueues(on: db), by: \.pipeline)
        let paused = try await jobs.ledger.pausedPipelines(on: db)
        let now = Date()
        let names = Set(jobs.catalog.names).union(stats.keys).sorted()
        let items = names.map { name -> Components.Schemas.PipelineStatus in
            let stat = stats[name] ?? PipelineStats()
            let config = jobs.catalog[name]
            let counts = Components.Schemas.PipelineStatus.CountsPayload(
                scheduled: stat.counts[.scheduled] ?? 0,
                queued: stat.counts[.queued] ?? 0,
                running: stat.counts[.running] ?? 0,
                retrying: stat.counts[.retrying] ?? 0,
                succeeded: stat.counts[.succeeded] ?? 0,
                dead: stat.counts[.dead] ?? 0,
                discarded: stat.counts[.discarded] ?? 0,
                cancelled: stat.counts[.cancelled] ?? 0
            )
            return .init(
                name: name,
                configured: config != nil,
                config: .init(
                    maxAttempts: config?.maxAttempts,
                    backoff: config.map {
                        .init(
                            baseMs: Int($0.backoff.base.milliseconds),
                            capMs: Int($0.backoff.cap.milliseconds),
                            jitter: .init(rawValue: $0.backoff.jitter.rawValue)!
                        )
                    },
                    timeoutMs: config.map { Int($0.timeout.milliseconds) },
                    leaseMs: config.map { Int($0.lease.milliseconds) },
                    perOrgConcurrency: config?.perOrgConcurrency,
                    globalConcurrency: config?.globalConcurrency,
                    priority: config?.priority,
                    schedule: config?.schedule.map { .init(cron: $0.cronText, timezone: $0.timeZone.identifier, perOrg: $0.perOrg) }
                ),
                counts: counts,
                lastHour: .init(succeeded: stat.succeededLastHour, failed: stat.failedLastHour, p50RunMs: stat.p50RunMs, p95RunMs: stat.p95RunMs),
                oldestQueuedAgeSeconds: stat.oldestQueuedAt.map { max(0, now.timeIntervalSince($0)) },
                stalled: (stalled[name] ?? []).map {
                    .init(
                        orgId: $0.orgId?.uuidString.lowercased(),
                        queued: $0.queued,
                        running: $0.running,
                        oldestQueuedAgeSeconds: max(0, now.timeIntervalSince($0.oldestQueuedAt))
                    )
                },
                stalledAfterSeconds: Double(JobLedger.stalledAfter.components.seconds),
                paused: paused[name] != nil
            )
        }
        return .ok(.init(body: .json(.init(pipelines: items))))
    }

    func listWorkers(_ input: Operations.ListWorkers.Input) async throws -> Operations.ListWorkers.Output {
        _ = try requireStaff()
        let workers = try await jobs.ledger.liveWorkers(on: db)
        return .ok(
            .init(
                body: .json(
                    .init(
                        workers: workers.map {
                            .init(
                                id: $0.id,
                                host: $0.host,
                                pid: $0.pid,
                                startedAt: $0.startedAt,
                                lastHeartbeatAt: $0.lastHeartbeatAt,
                                running: $0.running
                            )
                        }
                    )
                )
            )
        )
    }

    func listSchedules(_ input: Operations.ListSchedules.Input) async throws -> Operations.ListSchedules.Output {
        _ = try requireStaff()
        let leader = try await Scheduler.currentLeader(on: db, logger: logger)
        let lastRuns = try await Scheduler.lastRuns(on: db, logger: logger)
        let now = Date()
        let schedules = jobs.catalog.names.compactMap { name -> Components.Schemas.Schedule? in
            guard let schedule = jobs.catalog[name]?.schedule else { return nil }
            return .init(
                name: name,
                pipeline: name,
                cron: schedule.cronText,
                timezone: schedule.timeZone.identifier,
                perOrg: schedule.perOrg,
                lastRunAt: lastRuns[name],
                nextRunAt: Scheduler.nextRun(schedule, after: now),
                leader: leader
            )
        }
        return .ok(.init(body: .json(.init(schedules: schedules))))
    }

    func triggerSchedule(_ input: Operations.TriggerSchedule.Input) async throws -> Operations.TriggerSchedule.Output {
        let staff = try requireStaff()
        let name = input.path.name
        guard name.unicodeScalars.count <= 63, let config = jobs.catalog[name], config.schedule != nil else {
            throw APIError.notFound("no schedule named \(name)")
        }
        let requestId = request.requestId
        let enqueued: [EnqueuedJob] = try await transaction { connection in
            let enqueued = try await Scheduler.trigger(config, jobs: jobs, requestId: requestId, on: connection)
            try await recordStaffAudit(
                by: staff, "schedule.triggered", on: "schedule", id: name, changes: ["jobs": .int(enqueued.count)],
                requestId: requestId, in: connection
            )
            return enqueued
        }
        await jobs.publish(enqueued)
        return .accepted(.init(body: .json(.init(jobIds: enqueued.map { $0.id.uuidString.lowercased() }))))
    }

    // MARK: Staff: organization health

    func getOrganizationHealth(_ input: Operations.GetOrganizationHealth.Input) async throws -> Operations.GetOrganizationHealth.Output {
        _ = try requireStaff()
        let id = try Validate.pathId(input.path.orgId, "organization")
        guard let org = try await orgs.find(id: id, on: db) else { throw APIError.notFound("no organization with id \(input.path.orgId)") }
        let health = try await orgs.health(of: id, on: db)
        let scope = OrgScope(orgId: id)
        let jobCounts = try await jobs.ledger.jobCounts(in: scope, on: db)
        let importPage = try await jobs.ledger.list(JobFilter(pipeline: "voter-import"), in: scope, limit: 1, after: nil, on: db)
        let now = Date()
        return .ok(
            .init(
                body: .json(
                    .init(
                        org: .init(org),
                        counts: .init(voters: health.voters, lists: health.lists, interactions: health.interactions, members: health.members),
                        imports: .init(last: importPage.items.first.map { .init($0) }, failedLast7d: health.failedImportsLast7d),
                        jobs: .init(
                            queued: jobCounts.counts[.queued] ?? 0,
                            running: jobCounts.counts[.running] ?? 0,
                            retrying: jobCounts.counts[.retrying] ?? 0,
                            dead: jobCounts.counts[.dead] ?? 0,
                            oldestQueuedAgeSeconds: jobCounts.oldestQueuedAt.map { max(0, now.timeIntervalSince($0)) }
                        ),
                        lastInteractionAt: health.lastInteractionAt
                    )
                )
            )
        )
    }
}
