import Foundation

/// How a list got its members: added by hand, or selected by criteria.
public enum ListSource: String, Sendable, Codable {
    case manual, criteria
}

/// A list of voters, with its member count (kept by the statements that add and remove members).
public struct VoterList: Sendable, Equatable {
    public var id: UUID
    public var name: String
    public var description: String?
    public var memberCount: Int
    public var source: ListSource
    public var criteria: VoterCriteria?
    public var createdBy: UUID
    public var createdAt: Date
    public var updatedAt: Date
}

/// What selects a criteria list's voters; stored as JSON with these keys.
public struct VoterCriteria: Sendable, Equatable, Codable {
    public var parishes: [String]?
    public var wards: [String]?
    public var precincts: [String]?
    public var parties: [String]?
    public var zip5: [String]?
    public var statuses: [VoterStatus]?
    public var birthYearMin: Int?
    public var birthYearMax: Int?
    public var excludeTerminal: Bool?
}

/// What adding voters to a list did.
public struct MembersAdded: Sendable, Equatable {
    public var added: Int
    public var alreadyPresent: Int
    /// Ids that are not voters of this organization.
    public var notFound: [UUID]
}
