import Foundation
import OpenAPIRuntime
import PostgresNIO
@_spi(TenantAuth) import Store

extension APIService {
    typealias ItemResult = Components.Schemas.BulkInteractionResult.ResultsPayloadPayload

    /// `POST /interactions/bulk`: each item is created, duplicate or rejected on its own. A
    /// client uuid this org already holds is a duplicate whatever else the item says (a phone
    /// retrying after its assignment was revoked still gets its original id); the rest are
    /// checked, then inserted with `ON CONFLICT DO NOTHING` on `(org_id, client_interaction_uuid)`,
    /// so concurrent submissions of one uuid make one row.
    func submitInteractions(_ input: Operations.SubmitInteractions.Input) async throws -> Operations.SubmitInteractions.Output {
        let caller = try await requireMember()
        guard case .json(let body) = input.body else { throw APIError.unsupportedMediaType("expected application/json") }
        let items = body.interactions
        guard (1...500).contains(items.count) else {
            throw APIError.validation("interactions: 1 to 500 items per request", details: [("interactions", "1 to 500 items")])
        }
        var results = [ItemResult?](repeating: nil, count: items.count)
        func reject(_ index: Int, _ code: String, _ message: String) {
            results[index] = ItemResult(clientInteractionUuid: items[index].clientInteractionUuid, status: .rejected, error: .init(code: code, message: message))
        }
        let uuids = items.map { UUID(uuidString: $0.clientInteractionUuid) }
        let known = try await campaign.existingInteractions(uuids.compactMap { $0 }, in: caller.scope, on: db)

        struct Candidate { let index: Int; let uuid: UUID; let voter: UUID; let assignment: UUID?; let answers: [(UUID, Components.Schemas.SurveyAnswer.AnswerPayload)] }
        var candidates: [Candidate] = []
        let now = Date()
        for (index, item) in items.enumerated() {
            guard let uuid = uuids[index] else { reject(index, "VALIDATION_ERROR", "clientInteractionUuid: not a UUID"); continue }
            if let id = known[uuid] {
                results[index] = ItemResult(clientInteractionUuid: item.clientInteractionUuid, status: .duplicate, interactionId: id.uuidString.lowercased())
                continue
            }
            guard let voter = UUID(uuidString: item.voterId) else { reject(index, "VALIDATION_ERROR", "voterId: not a UUID"); continue }
            var assignment: UUID?
            if let text = item.assignmentId {
                guard let id = UUID(uuidString: text) else { reject(index, "VALIDATION_ERROR", "assignmentId: not a UUID"); continue }
                assignment = id
            }
            if let notes = item.notes, notes.unicodeScalars.count > 4000 || notes.unicodeScalars.contains("\u{0}") {
                reject(index, "VALIDATION_ERROR", "notes: at most 4000 characters, no NUL"); continue
            }
            if let lat = item.latitude, !(-90...90).contains(lat) { reject(index, "VALIDATION_ERROR", "latitude: -90..90"); continue }
            if let lon = item.longitude, !(-180...180).contains(lon) { reject(index, "VALIDATION_ERROR", "longitude: -180..180"); continue }
            if item.occurredAt > now.addingTimeInterval(86_400) {
                reject(index, "VALIDATION_ERROR", "occurredAt: more than a day in the future"); continue
            }
            var answers: [(UUID, Components.Schemas.SurveyAnswer.AnswerPayload)] = []
            var bad: String?
            for (n, answer) in (item.surveyResponses ?? []).enumerated() {
                guard let question = UUID(uuidString: answer.questionId) else { bad = "surveyResponses[\(n)].questionId: not a UUID"; break }
                guard !answers.contains(where: { $0.0 == question }) else { bad = "surveyResponses[\(n)]: question answered twice"; break }
                answers.append((question, answer.answer))
            }
            if let bad { reject(index, "VALIDATION_ERROR", bad); continue }
            candidates.append(Candidate(index: index, uuid: uuid, voter: voter, assignment: assignment, answers: answers))
        }

        let voters = Array(Set(candidates.map(\.voter)))
        let visible = try await campaign.visibleVoters(voters, canvasser: caller.role == .canvasser ? caller.userId : nil, in: caller.scope, on: db)
        let refs = try await campaign.assignmentRefs(Array(Set(candidates.compactMap(\.assignment))), voters: voters, in: caller.scope, on: db)
        let rules = try await campaign.questionRules(Array(Set(candidates.flatMap { $0.answers.map(\.0) })), in: caller.scope, on: db)

        var accepted: [(Int, CampaignRepository.NewInteraction)] = []
        for candidate in candidates {
            let item = items[candidate.index]
            guard visible.contains(candidate.voter) else {
                reject(
                    candidate.index, "VOTER_NOT_VISIBLE",
                    caller.role == .canvasser ? "the voter is not on any of your active assignments" : "no voter with id \(item.voterId) in this organization")
                continue
            }
            var list: UUID?
            if let assignment = candidate.assignment {
                guard let ref = refs[assignment], caller.role != .canvasser || (ref.canvasserId == caller.userId && ref.active) else {
                    reject(candidate.index, "ASSIGNMENT_NOT_FOUND", "no assignment of yours with id \(item.assignmentId ?? "")"); continue
                }
                guard ref.voters.contains(candidate.voter) else {
                    reject(candidate.index, "VOTER_NOT_ON_ASSIGNMENT", "the voter is not on that assignment's list"); continue
                }
                list = ref.listId
            }
            var answers: [(UUID, String)] = []
            var problem: (String, String)?
            for (question, answer) in candidate.answers {
                guard let rule = rules[question] else { problem = ("QUESTION_NOT_FOUND", "no survey question with id \(question.uuidString.lowercased())"); break }
                guard rule.active else { problem = ("QUESTION_INACTIVE", "survey question \(question.uuidString.lowercased()) is not active"); break }
                switch Self.check(answer, rule) {
                case .success(let json): answers.append((question, json))
                case .failure(let error): problem = ("INVALID_ANSWER", "question \(question.uuidString.lowercased()): \(error.message)")
                }
                if problem != nil { break }
            }
            if let problem { reject(candidate.index, problem.0, problem.1); continue }
            accepted.append(
                (candidate.index,
                 CampaignRepository.NewInteraction(
                    clientUuid: candidate.uuid, voterId: candidate.voter, assignmentId: candidate.assignment, listId: list, channel: item.channel.rawValue,
                    result: item.result.rawValue, occurredAt: item.occurredAt, notes: item.notes, latitude: item.latitude, longitude: item.longitude,
                    answers: answers)))
        }

        let requestId = request.requestId
        let inserted = try await transaction { connection in
            let inserted = try await campaign.insertInteractions(accepted.map(\.1), canvasser: caller.userId, in: caller.scope, on: connection)
            var created = Set<UUID>()
            for (_, item) in accepted where inserted[item.clientUuid]?.created == true { created.insert(item.clientUuid) }
            let counts = (created: created.count, other: items.count - created.count)
            try await recordAudit(by: caller, "interactions.submitted", on: "interaction", id: nil, changes: ["items": .int(items.count), "created": .int(counts.created)], in: connection)
            let payload: [String: String] = [
                "canvasserId": caller.actorId, "created": String(counts.created), "items": String(items.count), "requestId": requestId,
            ]
            try await campaign.event(
                type: "interactions.recorded", payload: String(decoding: try JSONEncoder().encode(payload), as: UTF8.self), in: caller.scope,
                on: connection)
            return inserted
        }
        var createdOnce = Set<UUID>()
        for (index, item) in accepted {
            guard let outcome = inserted[item.clientUuid] else {
                reject(index, "CONFLICT", "the interaction could not be recorded; submit it again"); continue
            }
            let first = outcome.created && createdOnce.insert(item.clientUuid).inserted
            results[index] = ItemResult(
                clientInteractionUuid: items[index].clientInteractionUuid, status: first ? .created : .duplicate,
                interactionId: outcome.id.uuidString.lowercased())
        }
        let final = results.map { $0! }
        return .ok(
            .init(
                body: .json(
                    .init(
                        created: final.filter { $0.status == .created }.count, duplicates: final.filter { $0.status == .duplicate }.count,
                        rejected: final.filter { $0.status == .rejected }.count, results: final))))
    }

    /// Checks an answer against its question; the stored JSON on success.
    static func check(_ answer: Components.Schemas.SurveyAnswer.AnswerPayload, _ rule: CampaignRepository.QuestionRule) -> Result<String, AnswerError> {
        func json(_ value: some Encodable) -> String { String(decoding: (try? JSONEncoder().encode(value)) ?? Data("null".utf8), as: UTF8.self) }
        switch (rule.type, answer) {
        case ("single_choice", .case1(let choice)):
            return rule.choices.contains(choice) ? .success(json(choice)) : .failure(.init("\"\(choice)\" is not one of its choices"))
        case ("multi_choice", .case2(let picked)):
            guard !picked.isEmpty, Set(picked).count == picked.count else { return .failure(.init("pick one or more distinct choices")) }
            guard let wrong = picked.first(where: { !rule.choices.contains($0) }) else { return .success(json(picked)) }
            return .failure(.init("\"\(wrong)\" is not one of its choices"))
        case ("scale", .case3(let value)):
            guard value == value.rounded(), (0...10).contains(value) else { return .failure(.init("a scale answer is a whole number 0..10")) }
            return .success(json(Int(value)))
        case ("text", .case1(let text)):
            guard !text.unicodeScalars.contains("\u{0}"), text.unicodeScalars.count <= 2000 else { return .failure(.init("text answers hold up to 2000 characters")) }
            return .success(json(text))
        default:
            return .failure(.init("a \(rule.type) question takes \(rule.type == "multi_choice" ? "a list of choices" : rule.type == "scale" ? "a number" : "a string")"))
        }
    }

    struct AnswerError: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }
}
