import Foundation

/// Where an assignment stands; only active ones are shown to their canvasser.
public enum AssignmentStatus: String, Sendable, Codable, CaseIterable {
    case active, completed, revoked
}

/// A list given to a canvasser to work.
public struct Assignment: Sendable, Equatable {
    public var id: UUID
    public var listId: UUID
    public var listName: String
    public var canvasserId: UUID
    public var canvasserName: String
    public var status: AssignmentStatus
    public var assignedBy: UUID
    public var createdAt: Date
    public var progress: AssignmentProgress
}

/// total = list members; attempted / contacted = distinct voters with an interaction on this
/// assignment (contacted: the results that reached a person).
public struct AssignmentProgress: Sendable, Equatable {
    public var total: Int
    public var attempted: Int
    public var contacted: Int
}

/// A voter on an assignment, with the result and time of its latest interaction.
public struct AssignedVoter: Sendable, Equatable {
    public var voter: Voter
    public var lastResult: InteractionResult?
    public var lastContactAt: Date?
}

/// The assignment page's filters; nil matches everything.
public struct AssignmentFilter: Sendable {
    public var listId: UUID?
    public var canvasserId: UUID?
    public var status: AssignmentStatus?

    public init(listId: UUID? = nil, canvasserId: UUID? = nil, status: AssignmentStatus? = nil) {
        self.listId = listId
        self.canvasserId = canvasserId
        self.status = status
    }
}
