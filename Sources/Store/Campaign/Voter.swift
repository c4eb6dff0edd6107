import Foundation

/// Whether a voter is on the active rolls.
public enum VoterStatus: String, Sendable, Codable, CaseIterable {
    case active, inactive
}

/// A street address; every part is optional, as voter files leave any of them out. Stored as
/// columns for a residence and as JSON (these keys) for a mailing address.
public struct Address: Sendable, Equatable, Codable {
    public var houseNumber, houseFraction, streetDirection, streetName, unit, city, state, zip5, zip4: String?

    public init(
        houseNumber: String? = nil,
        houseFraction: String? = nil,
        streetDirection: String? = nil,
        streetName: String? = nil,
        unit: String? = nil,
        city: String? = nil,
        state: String? = nil,
        zip5: String? = nil,
        zip4: String? = nil
    ) {
        self.houseNumber = houseNumber
        self.houseFraction = houseFraction
        self.streetDirection = streetDirection
        self.streetName = streetName
        self.unit = unit
        self.city = city
        self.state = state
        self.zip5 = zip5
        self.zip4 = zip4
    }
}

/// A voter of one organization, as stored.
public struct Voter: Sendable, Equatable {
    public var id: UUID
    public var externalId: String
    public var firstName: String
    public var lastName: String
    public var residence: Address
    public var status: VoterStatus
    public var createdAt: Date
    public var updatedAt: Date
    public var details: VoterDetails
}

/// A voter's optional fields: what a voter has beyond its id, name and residence.
public struct VoterDetails: Sendable, Equatable {
    public var middleName: String?
    public var suffix: String?
    public var birthYear: Int?
    public var sex: String?
    public var race: String?
    public var party: String?
    public var mailing: Address?
    public var parish: String?
    public var ward: String?
    public var precinct: String?
    public var congressionalDistrict: String?
    public var senateDistrict: String?
    public var houseDistrict: String?
    /// `YYYY-MM-DD`.
    public var registrationDate: String?
    public var phone: String?
    public var latitude: Double?
    public var longitude: Double?

    public init(
        middleName: String? = nil,
        suffix: String? = nil,
        birthYear: Int? = nil,
        sex: String? = nil,
        race: String? = nil,
        party: String? = nil,
        mailing: Address? = nil,
        parish: String? = nil,
        ward: String? = nil,
        precinct: String? = nil,
        congressionalDistrict: String? = nil,
        senateDistrict: String? = nil,
        houseDistrict: String? = nil,
        registrationDate: String? = nil,
        phone: String? = nil,
        latitude: Double? = nil,
        longitude: Double? = nil
    ) {
        self.middleName = middleName
        self.suffix = suffix
        self.birthYear = birthYear
        self.sex = sex
        self.race = race
        self.party = party
        self.mailing = mailing
        self.parish = parish
        self.ward = ward
        self.precinct = precinct
        self.congressionalDistrict = congressionalDistrict
        self.senateDistrict = senateDistrict
        self.houseDistrict = houseDistrict
        self.registrationDate = registrationDate
        self.phone = phone
        self.latitude = latitude
        self.longitude = longitude
    }
}

/// A new voter (validated by the caller); absent optional fields stay empty, status defaults to active.
public struct VoterDraft: Sendable {
    public var externalId: String
    public var firstName: String
    public var lastName: String
    public var residence: Address?
    public var status: VoterStatus?
    public var details: VoterDetails

    public init(
        externalId: String,
        firstName: String,
        lastName: String,
        residence: Address?,
        status: VoterStatus?,
        details: VoterDetails
    ) {
        self.externalId = externalId
        self.firstName = firstName
        self.lastName = lastName
        self.residence = residence
        self.status = status
        self.details = details
    }
}

/// A change to a voter (validated by the caller): a nil field, or a nil part of the residence,
/// leaves it as it is; a mailing address replaces the stored one whole.
public struct VoterPatch: Sendable {
    public var externalId: String?
    public var firstName: String?
    public var lastName: String?
    public var residence: Address?
    public var status: VoterStatus?
    public var details: VoterDetails

    public init(
        externalId: String?,
        firstName: String?,
        lastName: String?,
        residence: Address?,
        status: VoterStatus?,
        details: VoterDetails
    ) {
        self.externalId = externalId
        self.firstName = firstName
        self.lastName = lastName
        self.residence = residence
        self.status = status
        self.details = details
    }
}

/// The voter page's filters; nil matches everything. `q` is a prefix of a name, "first last" or an externalId.
public struct VoterFilter: Sendable {
    public var q: String?
    public var parish: String?
    public var precinct: String?
    public var party: String?
    public var status: VoterStatus?
    public var zip5: String?

    public init(
        q: String? = nil,
        parish: String? = nil,
        precinct: String? = nil,
        party: String? = nil,
        status: VoterStatus? = nil,
        zip5: String? = nil
    ) {
        self.q = q
        self.parish = parish
        self.precinct = precinct
        self.party = party
        self.status = status
        self.zip5 = zip5
    }
}
