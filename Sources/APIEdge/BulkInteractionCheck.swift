import Foundation
import Store

/// Why one item of a bulk submission is rejected (the others go on).
struct ItemRejection: Error {
    let code: String
    let message: String

    static func validation(_ message: String) -> ItemRejection { ItemRejection(code: "VALIDATION_ERROR", message: message) }
}

/// A bulk item whose own fields passed, parsed; the store's checks come next.
struct CheckedItem {
    let index: Int
    let uuid: UUID
    let voter: UUID
    let assignment: UUID?
    let channel: InteractionChannel
    let result: InteractionResult
    let occurredAt: Date
    let item: Components.Schemas.InteractionInput
    let answers: [(question: UUID, answer: Components.Schemas.SurveyAnswer.AnswerPayload)]
}

/// The per-item checks of `POST /interactions/bulk`: every per-item field is checked here, so a bad
/// one rejects its item only (the spec declares these fields as plain strings for that reason).
enum BulkInteractionCheck {
    static let results = InteractionResult.allCases.map(\.rawValue).joined(separator: ", ")

    /// The item's own fields, without the database.
    static func fields(_ item: Components.Schemas.InteractionInput, index: Int, uuid: UUID, now: Date) -> Result<CheckedItem, ItemRejection> {
        guard let voter = UUID(uuidString: item.voterId) else { return .failure(.validation("voterId: not a UUID")) }
        var assignment: UUID?
        if let text = item.assignmentId {
            guard let id = UUID(uuidString: text) else { return .failure(.validation("assignmentId: not a UUID")) }
            assignment = id
        }
        guard let channel = InteractionChannel(contract: item.channel) else { return .failure(.validation("channel: door or phone")) }
        guard let result = InteractionResult(contract: item.result) else { return .failure(.validation("result: one of \(results)")) }
        if let notes = item.notes, notes.unicodeScalars.count > 4000 || notes.unicodeScalars.contains("\u{0}") {
            return .failure(.validation("notes: at most 4000 characters, no NUL"))
        }
        if let lat = item.latitude, !(-90...90).contains(lat) { return .failure(.validation("latitude: -90..90")) }
        if let lon = item.longitude, !(-180...180).contains(lon) { return .failure(.validation("longitude: -180..180")) }
        guard let occurredAt = RFC3339.date(item.occurredAt) else {
            return .failure(.validation("occurredAt: not an RFC 3339 date-time (like 2026-11-03T14:05:00-06:00)"))
        }
        if occurredAt > now.addingTimeInterval(86_400) { return .failure(.validation("occurredAt: more than a day in the future")) }
        var answers: [(question: UUID, answer: Components.Schemas.SurveyAnswer.AnswerPayload)] = []
        for (n, answer) in (item.surveyResponses ?? []).enumerated() {
            guard let question = UUID(uuidString: answer.questionId) else {
                return .failure(.validation("surveyResponses[\(n)].questionId: not a UUID"))
            }
            guard !answers.contains(where: { $0.question == question }) else {
                return .failure(.validation("surveyResponses[\(n)]: question answered twice"))
            }
            answers.append((question, answer.answer))
        }
        return .success(
            CheckedItem(
                index: index,
                uuid: uuid,
                voter: voter,
                assignment: assignment,
                channel: channel,
                result: result,
                occurredAt: occurredAt,
                item: item,
                answers: answers
            )
        )
    }

    /// Checks an answer against its question; the answer to store on success.
    static func answer(_ answer: Components.Schemas.SurveyAnswer.AnswerPayload, _ rule: QuestionRule) -> Result<SurveyAnswer, ItemRejection> {
        func invalid(_ message: String) -> Result<SurveyAnswer, ItemRejection> { .failure(ItemRejection(code: "INVALID_ANSWER", message: message)) }
        switch (rule.type, answer) {
        case (.singleChoice, .case1(let choice)):
            return rule.choices.contains(choice) ? .success(.text(choice)) : invalid("\"\(choice)\" is not one of its choices")
        case (.multiChoice, .case2(let picked)):
            guard !picked.isEmpty, Set(picked).count == picked.count else { return invalid("pick one or more distinct choices") }
            guard let wrong = picked.first(where: { !rule.choices.contains($0) }) else { return .success(.choices(picked)) }
            return invalid("\"\(wrong)\" is not one of its choices")
        case (.scale, .case3(let value)):
            guard value == value.rounded(), (0...10).contains(value) else { return invalid("a scale answer is a whole number 0..10") }
            return .success(.number(Int(value)))
        case (.text, .case1(let text)):
            guard !text.unicodeScalars.contains("\u{0}"), text.unicodeScalars.count <= 2000 else {
                return invalid("text answers hold up to 2000 characters")
            }
            return .success(.text(text))
        default:
            let takes = rule.type == .multiChoice ? "a list of choices" : rule.type == .scale ? "a number" : "a string"
            return invalid("a \(rule.type.rawValue) question takes \(takes)")
        }
    }
}

/// What the store knows about a batch's voters, assignments and questions, read once per request.
struct BulkFacts {
    /// The voters the caller may record for.
    let visible: Set<UUID>
    let assignments: [UUID: AssignmentRef]
    let rules: [UUID: QuestionRule]
    /// Set when the caller is a canvasser: only their active assignments count.
    let canvasser: UUID?

    /// The interaction to record for an item, or why the store's rows refuse it.
    func check(_ c: CheckedItem) -> Result<NewInteraction, ItemRejection> {
        guard visible.contains(c.voter) else {
            let message =
                canvasser != nil ? "the voter is not on any of your active assignments" : "no voter with id \(c.item.voterId) in this organization"
            return .failure(ItemRejection(code: "VOTER_NOT_VISIBLE", message: message))
        }
        var list: UUID?
        if let assignment = c.assignment {
            guard let ref = assignments[assignment], canvasser == nil || (ref.canvasserId == canvasser && ref.active) else {
                return .failure(ItemRejection(code: "ASSIGNMENT_NOT_FOUND", message: "no assignment of yours with id \(c.item.assignmentId ?? "")"))
            }
            guard ref.voters.contains(c.voter) else {
                return .failure(ItemRejection(code: "VOTER_NOT_ON_ASSIGNMENT", message: "the voter is not on that assignment's list"))
            }
            list = ref.listId
        }
        var answers: [SurveyResponse] = []
        for (question, answer) in c.answers {
            let id = question.uuidString.lowercased()
            guard let rule = rules[question] else {
                return .failure(ItemRejection(code: "QUESTION_NOT_FOUND", message: "no survey question with id \(id)"))
            }
            guard rule.active else { return .failure(ItemRejection(code: "QUESTION_INACTIVE", message: "survey question \(id) is not active")) }
            switch BulkInteractionCheck.answer(answer, rule) {
            case .success(let value): answers.append(SurveyResponse(questionId: question, answer: value))
            case .failure(let rejection): return .failure(ItemRejection(code: rejection.code, message: "question \(id): \(rejection.message)"))
            }
        }
        let item = c.item
        return .success(
            NewInteraction(
                clientUuid: c.uuid,
                voterId: c.voter,
                assignmentId: c.assignment,
                listId: list,
                channel: c.channel,
                result: c.result,
                occurredAt: c.occurredAt,
                notes: item.notes,
                latitude: item.latitude,
                longitude: item.longitude,
                answers: answers
            )
        )
    }
}
