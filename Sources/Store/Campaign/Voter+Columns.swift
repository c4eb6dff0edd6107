import Foundation
import PostgresNIO

extension Voter {
    /// The select list `read` decodes, for a `voters` row aliased `v`.
    static let columns = """
        v.id, v.external_id, v.first_name, v.last_name, v.res_house_number, v.res_house_fraction, v.res_street_direction,
        v.res_street_name, v.res_unit, v.res_city, v.res_state, v.res_zip5, v.res_zip4, v.status, v.created_at, v.updated_at,
        v.middle_name, v.suffix, v.birth_year, v.sex, v.race, v.party, v.mailing::text, v.parish, v.ward, v.precinct,
        v.congressional_district, v.senate_district, v.house_district, to_char(v.registration_date, 'YYYY-MM-DD'), v.phone,
        v.latitude, v.longitude
        """

    /// Decodes binary columns: building JSON in Postgres and decoding it again was half of a voter page's CPU.
    static func read(_ c: inout Columns) throws -> Voter {
        Voter(
            id: try c.next(),
            externalId: try c.next(),
            firstName: try c.next(),
            lastName: try c.next(),
            residence: Address(
                houseNumber: try c.next(),
                houseFraction: try c.next(),
                streetDirection: try c.next(),
                streetName: try c.next(),
                unit: try c.next(),
                city: try c.next(),
                state: try c.next(),
                zip5: try c.next(),
                zip4: try c.next()
            ),
            status: try c.raw(VoterStatus.self),
            createdAt: try c.next(),
            updatedAt: try c.next(),
            details: VoterDetails(
                middleName: try c.next(),
                suffix: try c.next(),
                birthYear: try c.next(),
                sex: try c.next(),
                race: try c.next(),
                party: try c.next(),
                mailing: try c.json(Address.self),
                parish: try c.next(),
                ward: try c.next(),
                precinct: try c.next(),
                congressionalDistrict: try c.next(),
                senateDistrict: try c.next(),
                houseDistrict: try c.next(),
                registrationDate: try c.next(),
                phone: try c.next(),
                latitude: try c.next(),
                longitude: try c.next()
            )
        )
    }

    static func read(_ row: PostgresRow) throws -> Voter {
        var columns = Columns(row)
        return try read(&columns)
    }
}

extension Address {
    /// The JSON a mailing address is stored as (absent parts left out).
    var json: String {
        get throws { String(decoding: try JSONEncoder().encode(self), as: UTF8.self) }
    }
}
