import Foundation

/// The two file layouts the importer reads (`../shared/design/VOTER_FILES.md`).
public enum VoterFileFormat: String, Sendable, Codable, CaseIterable {
    /// The state's dBASE-derived export: header cells carry `NAME,TYPE,LEN` and are split on their first comma.
    case louisiana
    /// A header of the contract's field names (`externalId`, `firstName`, `residence.zip5` or `zip5` …).
    case csv
}

/// One accepted row of a voter file, every value checked against its column and normalised
/// (trimmed; blank cells are nil, and a nil never erases a stored value).
public struct VoterRecord: Sendable, Equatable {
    /// The row number a spreadsheet shows (the header is row 1; a quoted line break does not start a row).
    public var row: Int
    public var externalId: String
    public var firstName: String?
    public var middleName: String?
    public var lastName: String
    public var suffix: String?
    public var birthYear: Int?
    public var sex: String?
    public var race: String?
    public var party: String?
    public var houseNumber: String?
    public var houseFraction: String?
    public var streetDirection: String?
    public var streetName: String?
    public var unit: String?
    public var city: String?
    public var state: String?
    public var zip5: String?
    public var zip4: String?
    public var parish: String?
    public var ward: String?
    public var precinct: String?
    public var congressionalDistrict: String?
    public var senateDistrict: String?
    public var houseDistrict: String?
    /// `YYYY-MM-DD`.
    public var registrationDate: String?
    /// `active` or `inactive`.
    public var status: String?
    public var phone: String?
    /// Columns the contract does not have, by their cleaned header name (non-blank cells only).
    public var extra: [String: String]

    public init(row: Int, externalId: String, lastName: String) {
        self.row = row
        self.externalId = externalId
        self.lastName = lastName
        self.extra = [:]
    }
}

/// A row the importer refused (or, for row 1, a note about the header such as unknown columns).
public struct RowRejection: Sendable, Equatable {
    public var row: Int
    public var column: String?
    public var message: String
    /// The row as it was in the file (decoded for display), so a data manager can fix and re-import it.
    public var rawText: String

    public init(row: Int, column: String?, message: String, rawText: String) {
        self.row = row
        self.column = column
        self.message = message
        self.rawText = rawText
    }
}

/// The file is not a voter file at all (binary, an HTML page, no id column, empty, header only): the import fails at once.
public struct NotAVoterFile: Error, Equatable, Sendable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
}
