import Actors
import Foundation
import Pipelines
import PostgresNIO
@_spi(TenantAuth) import Store

/// Filling lists from criteria: `POST /lists/{listId}/populate`, and the job `POST /lists` enqueues for criteria.
extension APIService {
    func populateList(_ input: Operations.PopulateList.Input) async throws -> Operations.PopulateList.Output {
        let caller = try await requireMember(Self.staffRoles)
        let id = try Validate.pathId(input.path.listId, "list")
        guard case .json(let body) = input.body else { throw APIError.unsupportedMediaType("expected application/json") }
        let criteria = try VoterCriteriaValidation.criteria(body.criteria, "criteria")
        let mode = PopulationMode(rawValue: body.mode.rawValue) ?? .append
        let job = try await transaction { connection in
            guard try await voterLists.lock(id, in: caller.scope, on: connection) else {
                throw APIError.notFound("no list with id \(input.path.listId)")
            }
            return try await enqueuePopulation(of: id, criteria: criteria, mode: mode, by: caller, on: connection)
        }
        await jobs.publish([job])
        return .accepted(.init(body: .json(.init(jobId: job.id.uuidString.lowercased()))))
    }

    /// Enqueues the list's population on the caller's transaction (lock the list first) and records it on the list;
    /// an unfinished population of the same list (its unique key) is a 409.
    func enqueuePopulation(
        of list: UUID,
        criteria: VoterCriteria,
        mode: PopulationMode,
        by caller: MemberCaller,
        on connection: PostgresConnection
    ) async throws -> EnqueuedJob {
        let spec = try JobSpec(
            ListPopulationPipeline.self,
            .init(listId: list, criteria: criteria, mode: mode),
            scope: caller.scope,
            uniqueKey: "list:\(list.uuidString.lowercased())",
            requestId: request.requestId
        )
        guard let job = try await jobs.enqueue([spec], on: connection).first else { throw APIError.internal }
        guard job.inserted else {
            throw APIError.conflict("a population of this list is already queued or running (job \(job.id.uuidString.lowercased()))")
        }
        try await voterLists.setPopulation(list, jobId: job.id, criteria: criteria, in: caller.scope, on: connection)
        try await recordAudit(
            by: caller,
            "list.population_enqueued",
            on: "list",
            id: list.uuidString.lowercased(),
            changes: ["jobId": .string(job.id.uuidString.lowercased()), "mode": .string(mode.rawValue)],
            in: connection
        )
        return job
    }
}
