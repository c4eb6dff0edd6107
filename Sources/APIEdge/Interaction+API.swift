import Foundation
import OpenAPIRuntime
import Store

extension Components.Schemas.Interaction {
    init(_ i: Interaction) throws {
        self.init(
            id: i.id.uuidString.lowercased(),
            clientInteractionUuid: i.clientInteractionUuid.uuidString.lowercased(),
            voterId: i.voterId.uuidString.lowercased(),
            assignmentId: i.assignmentId?.uuidString.lowercased(),
            listId: i.listId?.uuidString.lowercased(),
            canvasserId: i.canvasserId.uuidString.lowercased(),
            channel: i.channel == .door ? .door : .phone,
            result: .init(i.result),
            occurredAt: i.occurredAt,
            receivedAt: i.receivedAt,
            notes: i.notes,
            latitude: i.latitude,
            longitude: i.longitude,
            surveyResponses: i.surveyResponses.isEmpty
                ? nil
                : try i.surveyResponses.map { .init(questionId: $0.questionId.uuidString.lowercased(), answer: try .init($0.answer)) }
        )
    }
}

extension OpenAPIValueContainer {
    init(_ answer: SurveyAnswer) throws {
        switch answer {
        case .text(let text): self.init(stringLiteral: text)
        case .choices(let choices): try self.init(unvalidatedValue: choices)
        case .number(let number): self.init(integerLiteral: number)
        }
    }
}

extension Components.Schemas.InteractionResult {
    /// The store's results spell the contract's values (the table's CHECK constraint lists the same ones).
    init(_ result: InteractionResult) {
        self.init(rawValue: result.rawValue)!
    }
}

extension InteractionResult {
    /// Nil for anything but one of the contract's results.
    init?(contract text: String) {
        guard Components.Schemas.InteractionResult(rawValue: text) != nil else { return nil }
        self.init(rawValue: text)
    }
}

extension InteractionChannel {
    /// Nil for anything but one of the contract's channels.
    init?(contract text: String) {
        guard Components.Schemas.Interaction.ChannelPayload(rawValue: text) != nil else { return nil }
        self.init(rawValue: text)
    }
}
