import Foundation
import Store

extension Components.Schemas.VoterList {
    init(_ list: VoterList) {
        self.init(
            id: list.id.uuidString.lowercased(),
            name: list.name,
            description: list.description,
            memberCount: list.memberCount,
            source: list.source == .criteria ? .criteria : .manual,
            criteria: list.criteria.map(Components.Schemas.VoterCriteria.init),
            population: list.population.map { population in
                .init(jobId: population.jobId.uuidString.lowercased(), status: .init(rawValue: population.status.rawValue) ?? .queued)
            },
            createdBy: list.createdBy.uuidString.lowercased(),
            createdAt: list.createdAt,
            updatedAt: list.updatedAt
        )
    }
}

extension Components.Schemas.VoterCriteria {
    init(_ c: VoterCriteria) {
        self.init(
            parishes: c.parishes,
            wards: c.wards,
            precincts: c.precincts,
            parties: c.parties,
            zip5: c.zip5,
            statuses: c.statuses?.map { $0 == .active ? .active : .inactive },
            birthYearMin: c.birthYearMin,
            birthYearMax: c.birthYearMax,
            excludeTerminal: c.excludeTerminal
        )
    }
}
