import Foundation
import PostgresNIO
@_spi(TenantAuth) import Store

/// `/interactions`: any member records them in bulk; staff read all, a canvasser their own.
extension APIService {
    func listInteractions(_ input: Operations.ListInteractions.Input) async throws -> Operations.ListInteractions.Output {
        let caller = try await requireMember()
        let query = input.query
        let page = try Validate.page(limit: query.limit, cursor: query.cursor)
        var filter = InteractionFilter(
            voterId: try query.voterId.map { try Validate.uuid($0, "voterId") },
            canvasserId: try query.canvasserId.map { try Validate.uuid($0, "canvasserId") },
            assignmentId: try query.assignmentId.map { try Validate.uuid($0, "assignmentId") },
            from: query.from,
            to: query.to
        )
        if caller.role == .canvasser {
            if let asked = filter.canvasserId, asked != caller.userId {
                throw APIError.forbidden("a canvasser sees only their own interactions")
            }
            filter.canvasserId = caller.userId
        }
        let result = try await interactions.interactions(in: caller.scope, filter: filter, limit: page.limit, after: page.cursor, on: db)
        return .ok(.init(body: .json(.init(items: try result.items.map(Components.Schemas.Interaction.init), nextCursor: result.nextCursor))))
    }

    /// `POST /interactions/bulk`: each item is created, duplicate or rejected on its own. A client
    /// uuid this org already holds is a duplicate whatever else the item says (a phone retrying
    /// after its assignment was revoked still gets its original id); the rest are checked
    /// (`BulkInteractionCheck`, then `BulkFacts`), then inserted with `ON CONFLICT DO NOTHING` on
    /// `(org_id, client_interaction_uuid)`, so concurrent submissions of one uuid make one row.
    func submitInteractions(_ input: Operations.SubmitInteractions.Input) async throws -> Operations.SubmitInteractions.Output {
        let caller = try await requireMember()
        guard case .json(let body) = input.body else { throw APIError.unsupportedMediaType("expected application/json") }
        let items = body.interactions
        guard (1...500).contains(items.count) else {
            throw APIError.validation("interactions: 1 to 500 items per request", details: [("interactions", "1 to 500 items")])
        }
        var outcomes = BulkOutcomes(items: items)
        let uuids = items.map { UUID(uuidString: $0.clientInteractionUuid) }
        let known = try await interactions.existing(uuids.compactMap { $0 }, in: caller.scope, on: db)
        let now = Date()
        var checked: [CheckedItem] = []
        for (index, item) in items.enumerated() {
            guard let uuid = uuids[index] else {
                outcomes.reject(index, .validation("clientInteractionUuid: not a UUID"))
                continue
            }
            if let id = known[uuid] {
                outcomes.recorded(index, id: id, created: false)
                continue
            }
            switch BulkInteractionCheck.fields(item, index: index, uuid: uuid, now: now) {
            case .success(let item): checked.append(item)
            case .failure(let rejection): outcomes.reject(index, rejection)
            }
        }
        let facts = try await bulkFacts(checked, caller: caller)
        var accepted: [(index: Int, interaction: NewInteraction)] = []
        for item in checked {
            switch facts.check(item) {
            case .success(let interaction): accepted.append((item.index, interaction))
            case .failure(let rejection): outcomes.reject(item.index, rejection)
            }
        }
        let recorded = try await record(accepted.map(\.interaction), of: items.count, by: caller)
        outcomes.record(accepted, recorded)
        return .ok(.init(body: .json(outcomes.body)))
    }

    /// Reads what the checks need about the batch's voters, assignments and questions.
    private func bulkFacts(_ items: [CheckedItem], caller: MemberCaller) async throws -> BulkFacts {
        let voterIds = Array(Set(items.map(\.voter)))
        let canvasser = caller.role == .canvasser ? caller.userId : nil
        let assignmentIds = Array(Set(items.compactMap(\.assignment)))
        let questionIds = Array(Set(items.flatMap { $0.answers.map(\.question) }))
        // Three independent reads: one round trip's wait instead of three.
        let (interactions, surveyQuestions, db, scope) = (interactions, surveyQuestions, db, caller.scope)
        async let visible = interactions.visibleVoters(voterIds, canvasser: canvasser, in: scope, on: db)
        async let assignments = interactions.assignmentRefs(assignmentIds, voters: voterIds, in: scope, on: db)
        async let rules = surveyQuestions.rules(questionIds, in: scope, on: db)
        return BulkFacts(visible: try await visible, assignments: try await assignments, rules: try await rules, canvasser: canvasser)
    }

    /// Inserts the accepted items with the audit entry and the platform event, in one transaction.
    private func record(_ accepted: [NewInteraction], of count: Int, by caller: MemberCaller) async throws -> [UUID: RecordedInteraction] {
        let requestId = request.requestId
        return try await transaction { connection in
            let recorded = try await interactions.record(accepted, canvasser: caller.userId, in: caller.scope, on: connection)
            let created = Set(accepted.map(\.clientUuid).filter { recorded[$0]?.created == true }).count
            try await recordAudit(
                by: caller,
                "interactions.submitted",
                on: "interaction",
                id: nil,
                changes: ["items": .int(count), "created": .int(created)],
                in: connection
            )
            let payload = ["canvasserId": caller.actorId, "created": String(created), "items": String(count), "requestId": requestId]
            let json = String(decoding: try JSONEncoder().encode(payload), as: UTF8.self)
            try await outbox.append(type: "interactions.recorded", payload: json, in: caller.scope, on: connection)
            return recorded
        }
    }
}

/// Each item's result of one bulk submission, in request order.
struct BulkOutcomes {
    typealias ItemResult = Components.Schemas.BulkInteractionResult.ResultsPayloadPayload
    let items: [Components.Schemas.InteractionInput]
    private var results: [ItemResult?]

    init(items: [Components.Schemas.InteractionInput]) {
        self.items = items
        self.results = Array(repeating: nil, count: items.count)
    }

    mutating func reject(_ index: Int, _ rejection: ItemRejection) {
        results[index] = ItemResult(
            clientInteractionUuid: items[index].clientInteractionUuid,
            status: .rejected,
            error: .init(code: rejection.code, message: rejection.message)
        )
    }

    mutating func recorded(_ index: Int, id: UUID, created: Bool) {
        results[index] = ItemResult(
            clientInteractionUuid: items[index].clientInteractionUuid,
            status: created ? .created : .duplicate,
            interactionId: id.uuidString.lowercased()
        )
    }

    /// A uuid twice in one batch is created once, then a duplicate.
    mutating func record(_ accepted: [(index: Int, interaction: NewInteraction)], _ rows: [UUID: RecordedInteraction]) {
        var createdOnce = Set<UUID>()
        for (index, interaction) in accepted {
            guard let outcome = rows[interaction.clientUuid] else {
                reject(index, ItemRejection(code: "CONFLICT", message: "the interaction could not be recorded; submit it again"))
                continue
            }
            recorded(index, id: outcome.id, created: outcome.created && createdOnce.insert(interaction.clientUuid).inserted)
        }
    }

    var body: Components.Schemas.BulkInteractionResult {
        let final = results.compactMap { $0 }
        return .init(
            created: final.filter { $0.status == .created }.count,
            duplicates: final.filter { $0.status == .duplicate }.count,
            rejected: final.filter { $0.status == .rejected }.count,
            results: final
        )
    }
}
