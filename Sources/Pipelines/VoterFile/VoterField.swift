/// A `VoterRecord` field a voter-file column can fill.
public enum VoterField: String, Sendable, CaseIterable {
    case externalId, firstName, middleName, lastName, suffix, birthYear, sex, race, party
    case houseNumber, houseFraction, streetDirection, streetName, unit, city, state, zip5, zip4
    case parish, ward, precinct, congressionalDistrict, senateDistrict, houseDistrict
    case registrationDate, status, phone

    /// The field a header name means in either format, or nil for a column the contract does not have.
    /// Names compare by their letters and digits only, case-insensitively, so `REG_NUMBER`, `Reg Number`
    /// and `regNumber` are one name, as are `residence.zip5` and `RESIDENCE ZIP5`.
    static func named(_ name: String) -> VoterField? {
        synonyms[matchKey(name)]
    }

    /// Upper-cased letters and digits: the form header names are compared in.
    static func matchKey(_ name: String) -> String {
        String(String.UnicodeScalarView(name.uppercased().unicodeScalars.filter { $0.properties.isAlphabetic || ("0"..."9").contains($0) }))
    }

    private static let synonyms: [String: VoterField] = {
        let names: [VoterField: [String]] = [
            .externalId: [
                "externalId", "REG_NUMBER", "REGISTRATION NUMBER", "LA LIST ID", "REG NUM", "VOTER ID", "STATE VOTER ID",
                "REGISTRATION ID",
            ],
            .firstName: ["firstName", "FIRST_NAME", "PERSONAL FIRST NAME"],
            .middleName: ["middleName", "MIDDLE_NAME", "PERSONAL MIDDLE NAME"],
            .lastName: ["lastName", "LAST_NAME", "PERSONAL LAST NAME", "SURNAME"],
            .suffix: ["suffix", "PERSONAL NAME SUFFIX", "NAME SUFFIX"],
            .birthYear: ["birthYear", "BIRTH_YEAR", "YEAR OF BIRTH", "PERSONAL BIRTH YEAR"],
            .sex: ["sex", "PERSONAL SEX", "GENDER"],
            .race: ["race", "PERSONAL RACE"],
            .party: ["party", "REGISTRATION POLITICAL PARTY CODE", "POLITICAL PARTY", "PARTY CODE"],
            .houseNumber: ["residence.houseNumber", "houseNumber", "RESIDENCE HOUSE NUMBER"],
            .houseFraction: ["residence.houseFraction", "houseFraction", "RESIDENCE HOUSE FRACTION"],
            .streetDirection: ["residence.streetDirection", "streetDirection", "RESIDENCE STREET DIRECTION"],
            .streetName: ["residence.streetName", "streetName", "RESIDENCE STREET NAME"],
            .unit: ["residence.unit", "unit", "APARTMENT NUMBER", "RESIDENCE APARTMENT NUMBER", "APT"],
            .city: ["residence.city", "city", "RESIDENCE CITY"],
            .state: ["residence.state", "state", "RESIDENCE STATE"],
            .zip5: ["residence.zip5", "zip5", "ZIP CODE5", "ZIP CODE", "ZIP", "RESIDENCE ZIP CODE5", "RESIDENCE ZIP CODE"],
            .zip4: ["residence.zip4", "zip4", "ZIP CODE4", "RESIDENCE ZIP4", "RESIDENCE ZIP CODE4"],
            .parish: ["parish", "REGISTRATION PARISH", "PARISH NAME"],
            .ward: ["ward"],
            .precinct: ["precinct", "PRECINCT NUMBER"],
            .congressionalDistrict: ["congressionalDistrict", "CONGRESSIONAL DISTRICT", "US CONGRESSIONAL DISTRICT"],
            .senateDistrict: ["senateDistrict", "SENATE DISTRICT", "STATE SENATE DISTRICT"],
            .houseDistrict: ["houseDistrict", "HOUSE DISTRICT", "STATE HOUSE DISTRICT", "STATE REPRESENTATIVE DISTRICT"],
            .registrationDate: ["registrationDate", "REGISTRATION DATE", "REG DATE"],
            .status: ["status", "VOTER STATUS", "REGISTRATION STATUS"],
            .phone: ["phone", "PHONE NUMBER", "TELEPHONE"],
        ]
        var table: [String: VoterField] = [:]
        for (field, list) in names {
            for name in list { table[matchKey(name)] = field }
        }
        return table
    }()
}
