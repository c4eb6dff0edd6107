import Foundation

/// How a canvasser reached (or tried to reach) a voter.
public enum InteractionChannel: String, Sendable, Codable, CaseIterable {
    case door, phone
}

/// What came of an attempt to reach a voter.
public enum InteractionResult: String, Sendable, Codable, CaseIterable {
    case canvassed, refused, moved, deceased, inaccessible, vacant, hostile
    case notHome = "not_home"
    case languageBarrier = "language_barrier"
    case comeBack = "come_back"
    case wrongAddress = "wrong_address"
    case doNotContact = "do_not_contact"
    case litDrop = "lit_drop"
}

/// One answer of an interaction's survey.
public struct SurveyResponse: Sendable, Equatable {
    public var questionId: UUID
    public var answer: SurveyAnswer

    public init(questionId: UUID, answer: SurveyAnswer) {
        self.questionId = questionId
        self.answer = answer
    }
}

/// A recorded attempt to reach a voter, with its survey answers (by question id).
public struct Interaction: Sendable, Equatable {
    public var id: UUID
    public var clientInteractionUuid: UUID
    public var voterId: UUID
    public var assignmentId: UUID?
    public var listId: UUID?
    public var canvasserId: UUID
    public var channel: InteractionChannel
    public var result: InteractionResult
    public var occurredAt: Date
    public var receivedAt: Date
    public var notes: String?
    public var latitude: Double?
    public var longitude: Double?
    public var surveyResponses: [SurveyResponse]
}

/// An interaction to record (checked by the caller); `clientUuid` is its idempotency key.
public struct NewInteraction: Sendable {
    public let clientUuid: UUID
    public let voterId: UUID
    public let assignmentId: UUID?
    public let listId: UUID?
    public let channel: InteractionChannel
    public let result: InteractionResult
    public let occurredAt: Date
    public let notes: String?
    public let latitude: Double?
    public let longitude: Double?
    public let answers: [SurveyResponse]

    public init(
        clientUuid: UUID,
        voterId: UUID,
        assignmentId: UUID?,
        listId: UUID?,
        channel: InteractionChannel,
        result: InteractionResult,
        occurredAt: Date,
        notes: String?,
        latitude: Double?,
        longitude: Double?,
        answers: [SurveyResponse]
    ) {
        self.clientUuid = clientUuid
        self.voterId = voterId
        self.assignmentId = assignmentId
        self.listId = listId
        self.channel = channel
        self.result = result
        self.occurredAt = occurredAt
        self.notes = notes
        self.latitude = latitude
        self.longitude = longitude
        self.answers = answers
    }
}

/// What recording one interaction did: its id, and whether this call created it.
public struct RecordedInteraction: Sendable, Equatable {
    public let id: UUID
    public let created: Bool
}

/// An assignment as bulk recording checks it: its list, canvasser and state, and which of the
/// submitted voters are on its list.
public struct AssignmentRef: Sendable {
    public let listId: UUID
    public let canvasserId: UUID
    public let active: Bool
    public let voters: Set<UUID>
}

/// The interaction page's filters; nil matches everything. `from` is inclusive, `to` exclusive.
public struct InteractionFilter: Sendable {
    public var voterId: UUID?
    public var canvasserId: UUID?
    public var assignmentId: UUID?
    public var from: Date?
    public var to: Date?

    public init(voterId: UUID? = nil, canvasserId: UUID? = nil, assignmentId: UUID? = nil, from: Date? = nil, to: Date? = nil) {
        self.voterId = voterId
        self.canvasserId = canvasserId
        self.assignmentId = assignmentId
        self.from = from
        self.to = to
    }
}
