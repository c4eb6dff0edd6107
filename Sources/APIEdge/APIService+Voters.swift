import Foundation
import PostgresNIO
@_spi(TenantAuth) import Store

/// `/voters`: staff page, search, create and patch voters; a canvasser reads the voters on their assignments.
extension APIService {
    func listVoters(_ input: Operations.ListVoters.Input) async throws -> Operations.ListVoters.Output {
        let caller = try await requireMember(Self.staffRoles)
        let query = input.query
        let limit = try Validate.page(limit: query.limit, cursor: nil).limit
        if let zip = query.zip5, zip.range(of: "^[0-9]{5}$", options: .regularExpression) == nil {
            throw APIError.validation("zip5: five digits", details: [("zip5", "five digits")])
        }
        let filter = VoterFilter(
            q: try Validate.text(query.q, 1...100, "q"),
            parish: try Validate.text(query.parish, 1...100, "parish"),
            precinct: try Validate.text(query.precinct, 1...100, "precinct"),
            party: try Validate.text(query.party, 1...100, "party"),
            status: query.status.flatMap { VoterStatus(rawValue: $0.rawValue) },
            zip5: query.zip5
        )
        let page = try await voters.voters(
            in: caller.scope,
            filter: filter,
            limit: limit,
            after: try Validate.idCursor(query.cursor),
            includeTotal: query.includeTotal ?? false,
            on: db
        )
        return .ok(.init(body: .json(.init(items: page.items.map(Components.Schemas.Voter.init), nextCursor: page.nextCursor, total: page.total))))
    }

    func getVoter(_ input: Operations.GetVoter.Input) async throws -> Operations.GetVoter.Output {
        let caller = try await requireMember()
        let id = try Validate.pathId(input.path.voterId, "voter")
        if caller.role == .canvasser, try await !voters.canvasserSees(voter: id, canvasser: caller.userId, in: caller.scope, on: db) {
            throw APIError.notFound("no voter with id \(input.path.voterId)")
        }
        guard let voter = try await voters.voter(id, in: caller.scope, on: db) else {
            throw APIError.notFound("no voter with id \(input.path.voterId)")
        }
        return .ok(.init(body: .json(.init(voter))))
    }

    func createVoter(_ input: Operations.CreateVoter.Input) async throws -> Operations.CreateVoter.Output {
        let caller = try await requireMember(Self.staffRoles)
        guard case .json(let body) = input.body else { throw APIError.unsupportedMediaType("expected application/json") }
        try VoterValidation.check(body)
        let voter: Voter = try await transaction { connection in
            guard let voter = try await voters.create(VoterDraft(body), in: caller.scope, on: connection) else {
                throw APIError.conflict("a voter with externalId \(body.externalId) exists in this organization")
            }
            let id = voter.id.uuidString.lowercased()
            try await recordAudit(by: caller, "voter.created", on: "voter", id: id, changes: ["externalId": .string(body.externalId)], in: connection)
            return voter
        }
        return .created(.init(body: .json(.init(voter))))
    }

    func updateVoter(_ input: Operations.UpdateVoter.Input) async throws -> Operations.UpdateVoter.Output {
        let caller = try await requireMember(Self.staffRoles)
        let id = try Validate.pathId(input.path.voterId, "voter")
        guard case .json(let body) = input.body else { throw APIError.unsupportedMediaType("expected application/json") }
        try VoterValidation.check(body)
        // The audit entry keeps the patch as the caller sent it (absent and null fields left out).
        let patch = String(decoding: try JSONEncoder().encode(body), as: UTF8.self)
        let voter: Voter = try await transaction { connection in
            guard let voter = try await voters.update(id, VoterPatch(body), in: caller.scope, on: connection) else {
                throw APIError.notFound("no voter with id \(input.path.voterId)")
            }
            try await recordAudit(
                by: caller,
                "voter.updated",
                on: "voter",
                id: id.uuidString.lowercased(),
                changes: ["patch": .string(patch)],
                in: connection
            )
            return voter
        }
        return .ok(.init(body: .json(.init(voter))))
    }
}
