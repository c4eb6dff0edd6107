import Foundation

/// The voter input checks the generated decoders do not make (the spec's lengths, patterns, ranges).
enum VoterValidation {
    static func address(_ address: Components.Schemas.AddressInput?, _ path: String) throws {
        guard let a = address else { return }
        for (name, value, max) in [
            ("houseNumber", a.houseNumber, 20), ("houseFraction", a.houseFraction, 10), ("streetDirection", a.streetDirection, 10),
            ("streetName", a.streetName, 100), ("unit", a.unit, 30), ("city", a.city, 100), ("state", a.state, 2),
        ] {
            _ = try Validate.text(value, 1...max, "\(path).\(name)")
        }
        if let zip = a.zip5, zip.range(of: "^[0-9]{5}$", options: .regularExpression) == nil {
            throw APIError.validation("\(path).zip5: five digits", details: [("\(path).zip5", "five digits")])
        }
        if let zip = a.zip4, zip.range(of: "^[0-9]{4}$", options: .regularExpression) == nil {
            throw APIError.validation("\(path).zip4: four digits", details: [("\(path).zip4", "four digits")])
        }
    }

    static func check(_ v: some VoterFields) throws {
        try externalId(v.externalIdText)
        _ = try Validate.text(v.firstNameText, 1...100, "firstName")
        _ = try Validate.text(v.lastNameText, 1...100, "lastName")
        try address(v.residence, "residence")
        try address(v.mailing, "mailing")
        // The spec's `enum: [active, inactive, null]` makes the generator add an empty-string case.
        if v.statusText == "" { throw APIError.validation("status: active or inactive", details: [("status", "active or inactive")]) }
        for (name, value, max) in [
            ("middleName", v.middleName, 100), ("suffix", v.suffix, 20), ("sex", v.sex, 20), ("race", v.race, 50), ("party", v.party, 50),
            ("parish", v.parish, 100), ("ward", v.ward, 50), ("precinct", v.precinct, 100), ("congressionalDistrict", v.congressionalDistrict, 20),
            ("senateDistrict", v.senateDistrict, 20), ("houseDistrict", v.houseDistrict, 20),
        ] {
            _ = try Validate.text(value, 1...max, name)
        }
        if let year = v.birthYear, !(1850...2100).contains(year) {
            throw APIError.validation("birthYear: 1850..2100", details: [("birthYear", "1850..2100")])
        }
        if let date = v.registrationDate {
            let parts = date.split(separator: "-")
            let valid =
                date.range(of: "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", options: .regularExpression) != nil && parts.count == 3
                && DateComponents(
                    calendar: Calendar(identifier: .gregorian),
                    year: Int(parts[0]),
                    month: Int(parts[1]),
                    day: Int(parts[2])
                ).isValidDate
            guard valid else { throw APIError.validation("registrationDate: a date like 2024-03-31", details: [("registrationDate", "YYYY-MM-DD")]) }
        }
        if let phone = v.phone,
            phone.unicodeScalars.count < 7 || phone.unicodeScalars.count > 20
                || phone.range(of: "^[0-9+() .-]+$", options: .regularExpression) == nil
        {
            throw APIError.validation("phone: 7 to 20 digits, spaces and + ( ) . -", details: [("phone", "7 to 20 digits, spaces and + ( ) . -")])
        }
        if let latitude = v.latitude, !(-90...90).contains(latitude) {
            throw APIError.validation("latitude: -90..90", details: [("latitude", "-90..90")])
        }
        if let longitude = v.longitude, !(-180...180).contains(longitude) {
            throw APIError.validation("longitude: -180..180", details: [("longitude", "-180..180")])
        }
    }

    static func externalId(_ value: String?) throws {
        guard let value else { return }
        _ = try Validate.text(value, 1...64, "externalId")
        guard !value.unicodeScalars.contains(where: { CharacterSet.whitespacesAndNewlines.contains($0) }) else {
            throw APIError.validation("externalId: no spaces", details: [("externalId", "no spaces")])
        }
    }
}

/// The fields a new voter and a voter patch share, so one check serves both.
protocol VoterFields {
    var externalIdText: String? { get }
    var firstNameText: String? { get }
    var lastNameText: String? { get }
    var statusText: String? { get }
    var residence: Components.Schemas.AddressInput? { get }
    var mailing: Components.Schemas.AddressInput? { get }
    var middleName: String? { get }
    var suffix: String? { get }
    var birthYear: Int? { get }
    var sex: String? { get }
    var race: String? { get }
    var party: String? { get }
    var parish: String? { get }
    var ward: String? { get }
    var precinct: String? { get }
    var congressionalDistrict: String? { get }
    var senateDistrict: String? { get }
    var houseDistrict: String? { get }
    var registrationDate: String? { get }
    var phone: String? { get }
    var latitude: Double? { get }
    var longitude: Double? { get }
}

extension Components.Schemas.VoterInput: VoterFields {
    var externalIdText: String? { externalId }
    var firstNameText: String? { firstName }
    var lastNameText: String? { lastName }
    var statusText: String? { status?.rawValue }
}

extension Components.Schemas.VoterPatch: VoterFields {
    var externalIdText: String? { externalId }
    var firstNameText: String? { firstName }
    var lastNameText: String? { lastName }
    var statusText: String? { status?.rawValue }
}
