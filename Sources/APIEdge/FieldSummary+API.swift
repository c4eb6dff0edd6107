import Foundation
import Store

extension Components.Schemas.FieldSummary {
    init(_ s: FieldSummary) {
        let count = { (result: InteractionResult) in s.byResult[result] ?? 0 }
        self.init(
            from: s.from,
            to: s.to,
            asOf: s.asOf,
            totals: .init(
                attempts: s.totals.attempts,
                contacts: s.totals.contacts,
                contactRate: s.totals.contactRate,
                surveyResponses: s.totals.surveyResponses,
                votersAttempted: s.totals.votersAttempted,
                activeCanvassers: s.totals.activeCanvassers
            ),
            byResult: .init(
                canvassed: count(.canvassed),
                notHome: count(.notHome),
                refused: count(.refused),
                moved: count(.moved),
                deceased: count(.deceased),
                inaccessible: count(.inaccessible),
                vacant: count(.vacant),
                hostile: count(.hostile),
                languageBarrier: count(.languageBarrier),
                comeBack: count(.comeBack),
                wrongAddress: count(.wrongAddress),
                doNotContact: count(.doNotContact),
                litDrop: count(.litDrop)
            ),
            byDay: s.byDay.map { .init(date: $0.date, attempts: $0.attempts, contacts: $0.contacts) },
            byCanvasser: s.byCanvasser.map {
                .init(
                    canvasserId: $0.canvasserId.uuidString.lowercased(),
                    name: $0.name,
                    attempts: $0.attempts,
                    contacts: $0.contacts,
                    surveyResponses: $0.surveyResponses
                )
            },
            byList: s.byList.map {
                .init(
                    listId: $0.listId.uuidString.lowercased(),
                    name: $0.name,
                    members: $0.members,
                    attempted: $0.attempted,
                    completion: $0.completion
                )
            }
        )
    }
}
