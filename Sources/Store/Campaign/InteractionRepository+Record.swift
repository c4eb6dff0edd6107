import Foundation
import PostgresNIO

extension InteractionRepository {
    /// Inserts interactions idempotently by `(org_id, client_interaction_uuid)`: returns, per
    /// client uuid, the interaction id and whether this call created it. Concurrent requests with
    /// the same uuids resolve in the unique constraint, never by a read-then-write. A voter,
    /// assignment, list or question deleted by a transaction that committed after the caller's
    /// checks is a `conflict` (submitting again rejects just that item).
    public func record(
        _ items: [NewInteraction],
        canvasser: UUID,
        in scope: OrgScope,
        on connection: PostgresConnection
    ) async throws
        -> [UUID: RecordedInteraction]
    {
        guard !items.isEmpty else { return [:] }
        do {
            let result = try await insert(items, canvasser: canvasser, in: scope, on: connection)
            try await insertAnswers(items, recorded: result, in: scope, on: connection)
            return result
        } catch let error where error.foreignKeyConstraint != nil {
            let what =
                switch error.foreignKeyConstraint ?? "" {
                case "interactions_org_id_voter_id_fkey": "a voter"
                case "interactions_org_id_assignment_id_fkey": "an assignment"
                case "interactions_org_id_list_id_fkey": "an assignment's list"
                case "survey_responses_org_id_question_id_fkey": "a survey question"
                default: "a row it refers to"
                }
            throw CampaignError.conflict("\(what) of this batch was deleted while it was recorded; submit the batch again")
        }
    }

    private func insert(
        _ items: [NewInteraction],
        canvasser: UUID,
        in scope: OrgScope,
        on connection: PostgresConnection
    ) async throws
        -> [UUID: RecordedInteraction]
    {
        var result: [UUID: RecordedInteraction] = [:]
        let rows = try await connection.run(
            """
            INSERT INTO interactions (org_id, client_interaction_uuid, voter_id, assignment_id, list_id, canvasser_id, channel, result,
                                      occurred_at, notes, latitude, longitude)
            SELECT \(scope.orgId), t.uuid, t.voter, NULLIF(t.assignment, '')::uuid, NULLIF(t.list, '')::uuid, \(canvasser), t.channel, t.result,
                   to_timestamp(t.occurred), NULLIF(t.notes, ''), CASE WHEN t.has_geo THEN t.lat END, CASE WHEN t.has_geo THEN t.lon END
            FROM unnest(\(items.map(\.clientUuid))::uuid[], \(items.map(\.voterId))::uuid[],
                        \(items.map { $0.assignmentId?.uuidString ?? "" })::text[], \(items.map { $0.listId?.uuidString ?? "" })::text[],
                        \(items.map(\.channel.rawValue))::text[], \(items.map(\.result.rawValue))::text[],
                        \(items.map { $0.occurredAt.timeIntervalSince1970 })::float8[], \(items.map { $0.notes ?? "" })::text[],
                        \(items.map { $0.latitude != nil && $0.longitude != nil })::bool[],
                        \(items.map { $0.latitude ?? 0 })::float8[], \(items.map { $0.longitude ?? 0 })::float8[])
                 WITH ORDINALITY AS t(uuid, voter, assignment, list, channel, result, occurred, notes, has_geo, lat, lon, ord)
            ORDER BY t.ord
            ON CONFLICT (org_id, client_interaction_uuid) DO NOTHING
            RETURNING client_interaction_uuid, id
            """,
            logger: logger
        )
        for try await (uuid, id) in rows.decode((UUID, UUID).self) { result[uuid] = RecordedInteraction(id: id, created: true) }
        let missing = Array(Set(items.map(\.clientUuid)).subtracting(result.keys))
        if !missing.isEmpty {
            let existing = try await connection.run(
                "SELECT client_interaction_uuid, id FROM interactions WHERE org_id = \(scope.orgId) AND client_interaction_uuid = ANY(\(missing))",
                logger: logger
            )
            for try await (uuid, id) in existing.decode((UUID, UUID).self) { result[uuid] = RecordedInteraction(id: id, created: false) }
        }
        return result
    }

    /// The answers of the interactions this call created (once per client uuid).
    private func insertAnswers(
        _ items: [NewInteraction],
        recorded: [UUID: RecordedInteraction],
        in scope: OrgScope,
        on connection: PostgresConnection
    ) async throws {
        var rows: [(UUID, UUID, String)] = []
        var seen: Set<UUID> = []
        let encoder = JSONEncoder()
        for item in items where seen.insert(item.clientUuid).inserted {
            guard let interaction = recorded[item.clientUuid], interaction.created else { continue }
            for response in item.answers {
                rows.append((interaction.id, response.questionId, String(decoding: try encoder.encode(response.answer), as: UTF8.self)))
            }
        }
        guard !rows.isEmpty else { return }
        try await connection.run(
            """
            INSERT INTO survey_responses (org_id, interaction_id, question_id, answer)
            SELECT \(scope.orgId), t.i, t.q, t.a::jsonb
            FROM unnest(\(rows.map(\.0))::uuid[], \(rows.map(\.1))::uuid[], \(rows.map(\.2))::text[]) AS t(i, q, a)
            ON CONFLICT DO NOTHING
            """,
            logger: logger
        ).consume()
    }
}
