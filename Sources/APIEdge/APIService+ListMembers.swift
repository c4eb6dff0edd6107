import Foundation
import PostgresNIO
@_spi(TenantAuth) import Store

/// `/lists/{listId}/members`: page, add and remove a list's voters (staff only).
extension APIService {
    func listListMembers(_ input: Operations.ListListMembers.Input) async throws -> Operations.ListListMembers.Output {
        let caller = try await requireMember(Self.staffRoles)
        let id = try Validate.pathId(input.path.listId, "list")
        let limit = try Validate.page(limit: input.query.limit, cursor: nil).limit
        let after = try Validate.idCursor(input.query.cursor)
        guard try await voterLists.list(id, in: caller.scope, on: db) != nil else { throw APIError.notFound("no list with id \(input.path.listId)") }
        let page = try await voterLists.members(of: id, in: caller.scope, limit: limit, after: after, on: db)
        return .ok(.init(body: .json(.init(items: page.items.map(Components.Schemas.Voter.init), nextCursor: page.nextCursor))))
    }

    func addListMembers(_ input: Operations.AddListMembers.Input) async throws -> Operations.AddListMembers.Output {
        let caller = try await requireMember(Self.staffRoles)
        let id = try Validate.pathId(input.path.listId, "list")
        guard case .json(let body) = input.body else { throw APIError.unsupportedMediaType("expected application/json") }
        let ids = try voterIds(body.voterIds)
        let result = try await transaction { connection in
            guard try await voterLists.lock(id, in: caller.scope, on: connection) else {
                throw APIError.notFound("no list with id \(input.path.listId)")
            }
            let result = try await voterLists.addMembers(ids, to: id, in: caller.scope, on: connection)
            let changes: [String: AuditValue] = [
                "added": .int(result.added), "alreadyPresent": .int(result.alreadyPresent), "notFound": .int(result.notFound.count),
            ]
            try await recordAudit(by: caller, "list.members_added", on: "list", id: id.uuidString.lowercased(), changes: changes, in: connection)
            return result
        }
        let notFound = result.notFound.map { $0.uuidString.lowercased() }
        return .ok(.init(body: .json(.init(added: result.added, alreadyPresent: result.alreadyPresent, notFound: notFound))))
    }

    func removeListMembers(_ input: Operations.RemoveListMembers.Input) async throws -> Operations.RemoveListMembers.Output {
        let caller = try await requireMember(Self.staffRoles)
        let id = try Validate.pathId(input.path.listId, "list")
        guard case .json(let body) = input.body else { throw APIError.unsupportedMediaType("expected application/json") }
        let ids = try voterIds(body.voterIds)
        let removed = try await transaction { connection in
            guard try await voterLists.lock(id, in: caller.scope, on: connection) else {
                throw APIError.notFound("no list with id \(input.path.listId)")
            }
            let removed = try await voterLists.removeMembers(ids, from: id, in: caller.scope, on: connection)
            try await recordAudit(
                by: caller,
                "list.members_removed",
                on: "list",
                id: id.uuidString.lowercased(),
                changes: ["removed": .int(removed)],
                in: connection
            )
            return removed
        }
        return .ok(.init(body: .json(.init(removed: removed))))
    }

    func voterIds(_ ids: [String]) throws -> [UUID] {
        guard (1...10_000).contains(ids.count) else {
            throw APIError.validation("voterIds: 1 to 10000 ids per call", details: [("voterIds", "1 to 10000 ids per call")])
        }
        return try ids.enumerated().map { try Validate.uuid($1, "voterIds[\($0)]") }
    }
}
