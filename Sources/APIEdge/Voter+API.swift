import Foundation
import Store

extension Components.Schemas.Voter {
    init(_ voter: Voter) {
        let d = voter.details
        self.init(
            id: voter.id.uuidString.lowercased(),
            externalId: voter.externalId,
            firstName: voter.firstName,
            middleName: d.middleName,
            lastName: voter.lastName,
            suffix: d.suffix,
            birthYear: d.birthYear,
            sex: d.sex,
            race: d.race,
            party: d.party,
            residence: .init(voter.residence),
            mailing: d.mailing.map(Components.Schemas.Address.init),
            parish: d.parish,
            ward: d.ward,
            precinct: d.precinct,
            congressionalDistrict: d.congressionalDistrict,
            senateDistrict: d.senateDistrict,
            houseDistrict: d.houseDistrict,
            registrationDate: d.registrationDate,
            status: .init(voter.status),
            phone: d.phone,
            latitude: d.latitude,
            longitude: d.longitude,
            createdAt: voter.createdAt,
            updatedAt: voter.updatedAt
        )
    }
}

extension Components.Schemas.Voter.StatusPayload {
    init(_ status: VoterStatus) {
        switch status {
        case .active: self = .active
        case .inactive: self = .inactive
        }
    }
}

extension Components.Schemas.Address {
    init(_ a: Address) {
        self.init(
            houseNumber: a.houseNumber,
            houseFraction: a.houseFraction,
            streetDirection: a.streetDirection,
            streetName: a.streetName,
            unit: a.unit,
            city: a.city,
            state: a.state,
            zip5: a.zip5,
            zip4: a.zip4
        )
    }
}

extension Address {
    init(_ a: Components.Schemas.AddressInput) {
        self.init(
            houseNumber: a.houseNumber,
            houseFraction: a.houseFraction,
            streetDirection: a.streetDirection,
            streetName: a.streetName,
            unit: a.unit,
            city: a.city,
            state: a.state,
            zip5: a.zip5,
            zip4: a.zip4
        )
    }
}

extension VoterDetails {
    /// The optional fields of a create or patch body (validated by `VoterValidation`).
    init(_ v: some VoterFields) {
        self.init(
            middleName: v.middleName,
            suffix: v.suffix,
            birthYear: v.birthYear,
            sex: v.sex,
            race: v.race,
            party: v.party,
            mailing: v.mailing.map(Address.init),
            parish: v.parish,
            ward: v.ward,
            precinct: v.precinct,
            congressionalDistrict: v.congressionalDistrict,
            senateDistrict: v.senateDistrict,
            houseDistrict: v.houseDistrict,
            registrationDate: v.registrationDate,
            phone: v.phone,
            latitude: v.latitude,
            longitude: v.longitude
        )
    }
}

extension VoterDraft {
    init(_ body: Components.Schemas.VoterInput) {
        self.init(
            externalId: body.externalId,
            firstName: body.firstName,
            lastName: body.lastName,
            residence: body.residence.map(Address.init),
            status: body.statusText.flatMap(VoterStatus.init(rawValue:)),
            details: VoterDetails(body)
        )
    }
}

extension VoterPatch {
    init(_ body: Components.Schemas.VoterPatch) {
        self.init(
            externalId: body.externalId,
            firstName: body.firstName,
            lastName: body.lastName,
            residence: body.residence.map(Address.init),
            status: body.statusText.flatMap(VoterStatus.init(rawValue:)),
            details: VoterDetails(body)
        )
    }
}
