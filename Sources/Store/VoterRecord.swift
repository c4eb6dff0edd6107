import Foundation
import PostgresNIO

/// A voter row as the voter pages read it: decoded from binary columns, without a JSON round
/// trip (building JSON in Postgres and decoding it again was half of a voter page's CPU).
public struct VoterRecord: Sendable {
    public var id: UUID
    public var externalId: String
    public var firstName: String
    public var middleName: String?
    public var lastName: String
    public var suffix: String?
    public var birthYear: Int?
    public var sex: String?
    public var race: String?
    public var party: String?
    public var residence: AddressRecord
    /// The mailing address as stored (JSON with the contract's address keys), if any.
    public var mailingJSON: String?
    public var parish: String?
    public var ward: String?
    public var precinct: String?
    public var congressionalDistrict: String?
    public var senateDistrict: String?
    public var houseDistrict: String?
    /// `YYYY-MM-DD`.
    public var registrationDate: String?
    public var status: String
    public var phone: String?
    public var latitude: Double?
    public var longitude: Double?
    public var createdAt: Date
    public var updatedAt: Date

    public struct AddressRecord: Sendable {
        public var houseNumber, houseFraction, streetDirection, streetName, unit, city, state, zip5, zip4: String?
    }

    /// The select list `decode` reads, for a `voters` row aliased `v`.
    static let columns = """
        v.id, v.external_id, v.first_name, v.middle_name, v.last_name, v.suffix, v.birth_year, v.sex, v.race, v.party,
        v.res_house_number, v.res_house_fraction, v.res_street_direction, v.res_street_name, v.res_unit, v.res_city, v.res_state,
        v.res_zip5, v.res_zip4, v.mailing::text, v.parish, v.ward, v.precinct, v.congressional_district, v.senate_district,
        v.house_district, to_char(v.registration_date, 'YYYY-MM-DD'), v.status, v.phone, v.latitude, v.longitude, v.created_at, v.updated_at
        """
    static let columnCount = 33

    static func decode(_ row: PostgresRow) throws -> VoterRecord {
        let r = row.makeRandomAccess()
        func text(_ i: Int) throws -> String? { try r[i].decode(String?.self) }
        return VoterRecord(
            id: try r[0].decode(UUID.self), externalId: try r[1].decode(String.self), firstName: try r[2].decode(String.self),
            middleName: try text(3), lastName: try r[4].decode(String.self), suffix: try text(5),
            birthYear: try r[6].decode(Int?.self), sex: try text(7), race: try text(8), party: try text(9),
            residence: AddressRecord(
                houseNumber: try text(10), houseFraction: try text(11), streetDirection: try text(12), streetName: try text(13),
                unit: try text(14), city: try text(15), state: try text(16), zip5: try text(17), zip4: try text(18)),
            mailingJSON: try text(19), parish: try text(20), ward: try text(21), precinct: try text(22),
            congressionalDistrict: try text(23), senateDistrict: try text(24), houseDistrict: try text(25),
            registrationDate: try text(26), status: try r[27].decode(String.self), phone: try text(28),
            latitude: try r[29].decode(Double?.self), longitude: try r[30].decode(Double?.self),
            createdAt: try r[31].decode(Date.self), updatedAt: try r[32].decode(Date.self))
    }
}
