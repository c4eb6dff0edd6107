import Foundation
import Logging
import PostgresNIO

/// The interactions of one organization, and the checks bulk recording makes against the store.
public struct InteractionRepository: Sendable {
    public let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// Survey responses come as two arrays in question order: ids, and each answer's JSON.
    static let columns = """
        i.id, i.client_interaction_uuid, i.voter_id, i.assignment_id, i.list_id, i.canvasser_id, i.channel, i.result, i.occurred_at,
        i.received_at, i.notes, i.latitude, i.longitude,
        ARRAY(SELECT r.question_id FROM survey_responses r WHERE r.org_id = i.org_id AND r.interaction_id = i.id ORDER BY r.question_id),
        ARRAY(SELECT r.answer::text FROM survey_responses r WHERE r.org_id = i.org_id AND r.interaction_id = i.id ORDER BY r.question_id)
        """

    static func read(_ c: inout Columns) throws -> Interaction {
        var interaction = Interaction(
            id: try c.next(),
            clientInteractionUuid: try c.next(),
            voterId: try c.next(),
            assignmentId: try c.next(),
            listId: try c.next(),
            canvasserId: try c.next(),
            channel: try c.raw(InteractionChannel.self),
            result: try c.raw(InteractionResult.self),
            occurredAt: try c.next(),
            receivedAt: try c.next(),
            notes: try c.next(),
            latitude: try c.next(),
            longitude: try c.next(),
            surveyResponses: []
        )
        let questions = try c.next([UUID].self)
        let answers = try c.next([String].self)
        let decoder = JSONDecoder()
        interaction.surveyResponses = try zip(questions, answers).map { question, answer in
            SurveyResponse(questionId: question, answer: try decoder.decode(SurveyAnswer.self, from: Data(answer.utf8)))
        }
        return interaction
    }

    /// Newest first by when they happened.
    public func interactions(
        in scope: OrgScope,
        filter: InteractionFilter,
        limit: Int,
        after cursor: PageCursor?,
        on db: some QueryRunner
    ) async throws -> Page<Interaction> {
        let rows = try await db.run(
            """
            SELECT \(unescaped: Self.columns), (extract(epoch FROM i.occurred_at) * 1000000)::int8
            FROM interactions i
            WHERE i.org_id = \(scope.orgId)
              AND (\(filter.voterId)::uuid IS NULL OR i.voter_id = \(filter.voterId))
              AND (\(filter.canvasserId)::uuid IS NULL OR i.canvasser_id = \(filter.canvasserId))
              AND (\(filter.assignmentId)::uuid IS NULL OR i.assignment_id = \(filter.assignmentId))
              AND (\(filter.from)::timestamptz IS NULL OR i.occurred_at >= \(filter.from))
              AND (\(filter.to)::timestamptz IS NULL OR i.occurred_at < \(filter.to))
              AND \(page: cursor, time: "i.occurred_at", id: "i.id")
            ORDER BY i.occurred_at DESC, i.id DESC LIMIT \(limit + 1)
            """,
            logger: logger
        )
        return try await Page.newestFirst(rows, limit: limit) { c in
            let interaction = try Self.read(&c)
            return (interaction, PageCursor(micros: try c.next(), id: interaction.id))
        }
    }

    /// Which of `voterIds` the caller may record for: any voter of the org, or (for a canvasser)
    /// only voters on their active assignments (key probes into each assignment's list).
    public func visibleVoters(_ voterIds: [UUID], canvasser: UUID?, in scope: OrgScope, on db: some QueryRunner) async throws -> Set<UUID> {
        guard !voterIds.isEmpty else { return [] }
        let rows: QueryRows
        if let canvasser {
            rows = try await db.run(
                """
                SELECT DISTINCT lm.voter_id FROM assignments a
                JOIN list_members lm ON lm.list_id = a.list_id AND lm.org_id = a.org_id AND lm.voter_id = ANY(\(voterIds))
                WHERE a.org_id = \(scope.orgId) AND a.canvasser_id = \(canvasser) AND a.status = 'active'
                """,
                logger: logger
            )
        } else {
            rows = try await db.run("SELECT id FROM voters WHERE org_id = \(scope.orgId) AND id = ANY(\(voterIds))", logger: logger)
        }
        var visible: Set<UUID> = []
        for try await id in rows.decode(UUID.self) { visible.insert(id) }
        return visible
    }

    /// The named assignments with which of `voterIds` are on their lists.
    public func assignmentRefs(
        _ ids: [UUID],
        voters voterIds: [UUID],
        in scope: OrgScope,
        on db: some QueryRunner
    ) async throws -> [UUID: AssignmentRef] {
        guard !ids.isEmpty else { return [:] }
        var refs: [UUID: (UUID, UUID, Bool)] = [:]
        for try await (id, list, canvasser, status) in try await db.run(
            "SELECT id, list_id, canvasser_id, status FROM assignments WHERE org_id = \(scope.orgId) AND id = ANY(\(ids))",
            logger: logger
        ).decode((UUID, UUID, UUID, String).self) {
            refs[id] = (list, canvasser, status == AssignmentStatus.active.rawValue)
        }
        var onList: [UUID: Set<UUID>] = [:]
        let lists = Array(Set(refs.values.map(\.0)))
        if !lists.isEmpty {
            for try await (list, voter) in try await db.run(
                """
                SELECT list_id, voter_id FROM list_members
                WHERE org_id = \(scope.orgId) AND list_id = ANY(\(lists)) AND voter_id = ANY(\(voterIds))
                """,
                logger: logger
            ).decode((UUID, UUID).self) {
                onList[list, default: []].insert(voter)
            }
        }
        return refs.mapValues { AssignmentRef(listId: $0.0, canvasserId: $0.1, active: $0.2, voters: onList[$0.0] ?? []) }
    }

    /// Interaction ids of client uuids this org already holds.
    public func existing(_ uuids: [UUID], in scope: OrgScope, on db: some QueryRunner) async throws -> [UUID: UUID] {
        guard !uuids.isEmpty else { return [:] }
        var found: [UUID: UUID] = [:]
        let rows = try await db.run(
            "SELECT client_interaction_uuid, id FROM interactions WHERE org_id = \(scope.orgId) AND client_interaction_uuid = ANY(\(uuids))",
            logger: logger
        )
        for try await (uuid, id) in rows.decode((UUID, UUID).self) { found[uuid] = id }
        return found
    }
}
