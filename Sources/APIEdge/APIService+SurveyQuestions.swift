import Foundation
import PostgresNIO
@_spi(TenantAuth) import Store

/// `/survey-questions`: any member reads them; staff add and change them.
extension APIService {
    func listSurveyQuestions(_ input: Operations.ListSurveyQuestions.Input) async throws -> Operations.ListSurveyQuestions.Output {
        let caller = try await requireMember()
        let page = try Validate.page(limit: input.query.limit, cursor: input.query.cursor)
        let result = try await surveyQuestions.questions(in: caller.scope, limit: page.limit, after: page.cursor, on: db)
        return .ok(.init(body: .json(.init(items: result.items.map(Components.Schemas.SurveyQuestion.init), nextCursor: result.nextCursor))))
    }

    func createSurveyQuestion(_ input: Operations.CreateSurveyQuestion.Input) async throws -> Operations.CreateSurveyQuestion.Output {
        let caller = try await requireMember(Self.staffRoles)
        guard case .json(let body) = input.body else { throw APIError.unsupportedMediaType("expected application/json") }
        let key = try Validate.length(body.key, 1...64, "key")
        guard key.range(of: "^[a-z0-9_]+$", options: .regularExpression) != nil else {
            throw APIError.validation("key: lower-case letters, digits and _", details: [("key", "lower-case letters, digits and _")])
        }
        let prompt = try Validate.text(body.prompt, 1...500, "prompt")!
        let type = QuestionType(body._type)
        try Self.checkChoices(body.choices, type: type)
        let question = try await surveyQuestions.create(
            key: key,
            prompt: prompt,
            type: type,
            choices: type.hasChoices ? body.choices : nil,
            active: body.active ?? true,
            in: caller.scope,
            on: db
        )
        return .created(.init(body: .json(.init(question))))
    }

    func updateSurveyQuestion(_ input: Operations.UpdateSurveyQuestion.Input) async throws -> Operations.UpdateSurveyQuestion.Output {
        let caller = try await requireMember(Self.staffRoles)
        let id = try Validate.pathId(input.path.questionId, "survey question")
        guard case .json(let body) = input.body else { throw APIError.unsupportedMediaType("expected application/json") }
        let prompt = try Validate.text(body.prompt, 1...500, "prompt")
        if let choices = body.choices { try Self.checkChoices(choices, type: .text) }
        let question = try await surveyQuestions.update(id, prompt: prompt, choices: body.choices, active: body.active, in: caller.scope, on: db)
        guard let question else { throw APIError.notFound("no survey question with id \(input.path.questionId)") }
        return .ok(.init(body: .json(.init(question))))
    }

    /// Choices, when given, are one or more distinct ones (any type, as the spec says); a choice question
    /// needs them; any question holds at most 50, each 1..200 characters.
    static func checkChoices(_ choices: [String]?, type: QuestionType) throws {
        if let choices {
            guard !choices.isEmpty, Set(choices).count == choices.count else {
                throw APIError.validation("choices: one or more distinct choices", details: [("choices", "one or more distinct choices")])
            }
        } else if type.hasChoices {
            throw APIError.validation(
                "choices: a \(type.rawValue) question needs at least one choice",
                details: [("choices", "required for \(type.rawValue)")]
            )
        }
        for (index, choice) in (choices ?? []).enumerated() { _ = try Validate.text(choice, 1...200, "choices[\(index)]") }
        guard (choices?.count ?? 0) <= 50 else { throw APIError.validation("choices: at most 50", details: [("choices", "at most 50")]) }
    }
}
