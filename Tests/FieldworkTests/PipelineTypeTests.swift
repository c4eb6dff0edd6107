import Foundation
import Logging
import Pipelines
import PostgresNIO
@_spi(TenantAuth) import Store
import Testing

@testable import Actors

/// Typed pipelines: org pipelines get their org's scope and cannot be enqueued without one;
/// operators' arguments are checked against the pipeline's type; schedules must suit their pipeline.
@Suite struct PipelineTypeTests {
    @Test func orgPipelinesRunWithTheirOrgsScopeAndNeedOne() async throws {
        var pipelines = Orchestra.defaultPipelines
        pipelines["org-probe"] = "name: org-probe\nlease: 2s"
        try await Orchestra.run(pipelines: pipelines) { o in
            let a = try await o.h.makeOrg()
            let b = try await o.h.makeOrg()
            #expect(throws: JobSpecError.needsOrg("org-probe")) { try JobSpec(OrgProbePipeline.self, .init(note: "none"), scope: nil) }
            await #expect(throws: JobSpecError.needsOrg("org-probe")) {
                try await o.h.db.inTransaction(logger: o.logger) { connection in
                    try await o.jobs.enqueueCopies(
                        try JobPayload(OrgProbePipeline.self, .init(note: "none")),
                        scopes: [nil],
                        count: 1,
                        requestId: nil,
                        on: connection
                    )
                }
            }
            let seen = Locked<[UUID: UUID]>([:])
            try await o.withWorker(pipelines: try o.pipelines.adding([OrgProbePipeline(seen: seen)])) { _ in
                let jobs = try await o.jobs.enqueueAndPublish([
                    JobSpec(OrgProbePipeline.self, .init(note: "a"), scope: OrgScope(orgId: a.id)),
                    JobSpec(OrgProbePipeline.self, .init(note: "b"), scope: OrgScope(orgId: b.id)),
                ])
                // Only the unchecked path by name can make a platform job of an org pipeline: it cannot run.
                let stray = try await o.jobs.enqueueAndPublish([JobSpec(pipeline: "org-probe", orgId: nil, argsJSON: #"{"note": "stray"}"#)])[0]
                let garbled = try await o.jobs.enqueueAndPublish([JobSpec(pipeline: "org-probe", orgId: a.id, argsJSON: #"{"note": 7}"#)])[0]
                try await waitUntil("all ended") { try await o.states() == ["succeeded": 2, "dead": 2] }
                #expect(seen.value == [jobs[0].id: a.id, jobs[1].id: b.id])
                let strayJob = try await o.job(stray.id)
                #expect(strayJob.attempts.count == 1 && strayJob.lastError?.contains("runs for one org") == true, "\(strayJob.lastError ?? "")")
                let garbledJob = try await o.job(garbled.id)
                #expect(garbledJob.attempts.count == 1 && garbledJob.lastError?.contains("do not decode") == true, "\(garbledJob.lastError ?? "")")
            }
        }
    }

    /// The diagnostics route decodes `args` as the pipeline's arguments: a mismatch is a 400 and
    /// what is stored is the typed value.
    @Test func diagnosticArgumentsAreCheckedAgainstTheirPipeline() async throws {
        try await Orchestra.run { o in
            let staff = try await o.h.staffToken()
            let path = "/api/v1/internal/diagnostics/jobs"
            let mismatches: [(String, [String: Any])] = [("sleep", ["ms": "soon"]), ("fail", ["retryable": "no"]), ("sleep", ["record": 3])]
            for (pipeline, args) in mismatches {
                let reply = try await o.h.call(.post, path, token: staff, json: ["pipeline": pipeline, "count": 1, "args": args])
                #expect(reply.status == .badRequest && reply.errorCode != nil, "\(pipeline) \(args): \(reply.status) \(reply.text)")
            }
            #expect(try await o.scalar("SELECT count(*)::int8 FROM jobs", as: Int.self) == 0)
            let reply = try await o.h.call(
                .post,
                path,
                token: staff,
                json: ["pipeline": "sleep", "count": 1, "args": ["ms": 5, "extra": "dropped"]]
            )
            #expect(reply.status == .accepted, "\(reply.text)")
            #expect(try await o.scalar("SELECT args::text FROM jobs", as: String.self) == #"{"ms": 5}"#)
        }
    }

    /// A worker refuses a schedule its pipeline cannot take: a platform schedule of an org
    /// pipeline, or a pipeline whose arguments a scheduled run does not fill.
    @Test func aScheduleItsPipelineCannotTakeIsRefused() throws {
        let logger = Logger(label: "test")
        // Never run: a worker's settings are checked before it connects to anything.
        let db = PostgresClient(
            configuration: try DatabaseSettings.configuration(url: "postgres://nobody@127.0.0.1:1/none"),
            backgroundLogger: logger
        )
        let queue = JobQueue(redis: RedisClient(host: "127.0.0.1", port: 1), prefix: "x:")
        let pipelines = PipelineRegistry([OrgProbePipeline(seen: Locked([:])), ProbePipeline(calls: Locked([]))])
        func refusal(_ yaml: String) throws -> PipelineConfigError? {
            let config = try PipelineCatalog.parse(yaml, file: "x.yaml")
            let jobs = JobSystem(db: db, queue: queue, catalog: PipelineCatalog([config]), logger: logger)
            do {
                _ = try Supervisor(settings: WorkerSettings(), jobs: jobs, pipelines: pipelines, logger: logger)
                return nil
            } catch let error as PipelineConfigError {
                return error
            }
        }
        #expect(try refusal("name: org-probe\nschedule:\n  cron: \"0 2 * * *\"")?.key == "schedule.per_org")
        let perOrg = "name: org-probe\nschedule:\n  cron: \"0 2 * * *\"\n  per_org: true"
        #expect(try refusal(perOrg)?.key == "schedule", "its note is not in a scheduled run")
        #expect(try refusal("name: probe\nschedule:\n  cron: \"0 2 * * *\"")?.key == "schedule")
        #expect(try refusal("name: probe") == nil)
        #expect(try refusal("name: unknown")?.key == "name")
    }
}
