import Foundation

/// The kind of answer a survey question takes.
public enum QuestionType: String, Sendable, Codable, CaseIterable {
    case singleChoice = "single_choice"
    case multiChoice = "multi_choice"
    case scale
    case text

    /// Whether the question lists its choices.
    public var hasChoices: Bool { self == .singleChoice || self == .multiChoice }
}

/// A survey question canvassers ask.
public struct SurveyQuestion: Sendable, Equatable {
    public var id: UUID
    public var key: String
    public var prompt: String
    public var type: QuestionType
    /// Only for choice questions.
    public var choices: [String]?
    public var active: Bool
    public var createdAt: Date
}

/// A recorded answer, stored as JSON: a string (a choice or text), a list of choices, or a whole number (a scale).
public enum SurveyAnswer: Sendable, Equatable, Codable {
    case text(String)
    case choices([String])
    case number(Int)

    public init(from decoder: any Decoder) throws {
        let value = try decoder.singleValueContainer()
        if let text = try? value.decode(String.self) {
            self = .text(text)
        } else if let choices = try? value.decode([String].self) {
            self = .choices(choices)
        } else {
            self = .number(try value.decode(Int.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var value = encoder.singleValueContainer()
        switch self {
        case .text(let text): try value.encode(text)
        case .choices(let choices): try value.encode(choices)
        case .number(let number): try value.encode(number)
        }
    }
}

/// What an answer to a question is checked against.
public struct QuestionRule: Sendable, Equatable {
    public let type: QuestionType
    public let choices: [String]
    public let active: Bool
}
