import Foundation
import Store

extension Components.Schemas.SurveyQuestion {
    init(_ q: SurveyQuestion) {
        let type: _TypePayload =
            switch q.type {
            case .singleChoice: .singleChoice
            case .multiChoice: .multiChoice
            case .scale: .scale
            case .text: .text
            }
        self.init(
            id: q.id.uuidString.lowercased(),
            key: q.key,
            prompt: q.prompt,
            _type: type,
            choices: q.choices,
            active: q.active,
            createdAt: q.createdAt
        )
    }
}

extension QuestionType {
    init(_ type: Components.Schemas.CreateSurveyQuestionRequest._TypePayload) {
        self =
            switch type {
            case .singleChoice: .singleChoice
            case .multiChoice: .multiChoice
            case .scale: .scale
            case .text: .text
            }
    }
}
