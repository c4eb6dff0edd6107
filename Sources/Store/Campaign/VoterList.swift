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
    /// The list's latest population job, while the ledger keeps it.
    public var population: ListPopulation?
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

    /// Criteria from their parts; nil filters select everyone.
    public init(
        parishes: [String]? = nil,
        wards: [String]? = nil,
        precincts: [String]? = nil,
        parties: [String]? = nil,
        zip5: [String]? = nil,
        statuses: [VoterStatus]? = nil,
        birthYearMin: Int? = nil,
        birthYearMax: Int? = nil,
        excludeTerminal: Bool? = nil
    ) {
        self.parishes = parishes
        self.wards = wards
        self.precincts = precincts
        self.parties = parties
        self.zip5 = zip5
        self.statuses = statuses
        self.birthYearMin = birthYearMin
        self.birthYearMax = birthYearMax
        self.excludeTerminal = excludeTerminal
    }
}

/// What a population does with members the criteria do not select: keeps them, or removes them.
public enum PopulationMode: String, Sendable, Codable {
    case append, replace
}

/// A list's population job and its state in the contract's terms.
public struct ListPopulation: Sendable, Equatable {
    public var jobId: UUID
    public var status: Status

    /// The contract's job status: the ledger's states, with `scheduled` as `queued` and `dead` or `discarded` as `failed`.
    public enum Status: String, Sendable {
        case queued, running, retrying, succeeded, failed, cancelled

        /// The status of a ledger state (`jobs.state`).
        public init(ledgerState: String) {
            switch ledgerState {
            case "running": self = .running
            case "retrying": self = .retrying
            case "succeeded": self = .succeeded
            case "dead", "discarded": self = .failed
            case "cancelled": self = .cancelled
            default: self = .queued
            }
        }
    }
}

/// What adding voters to a list did.
public struct MembersAdded: Sendable, Equatable {
    public var added: Int
    public var alreadyPresent: Int
    /// Ids that are not voters of this organization.
    public var notFound: [UUID]
}
