import Actors
import Foundation
import PostgresNIO
@_spi(TenantAuth) import Store

/// `/lists` and their members (staff only).
extension APIService {
    func listLists(_ input: Operations.ListLists.Input) async throws -> Operations.ListLists.Output {
        let caller = try await requireMember(Self.staffRoles)
        let page = try Validate.page(limit: input.query.limit, cursor: input.query.cursor)
        let result = try await voterLists.lists(in: caller.scope, limit: page.limit, after: page.cursor, on: db)
        return .ok(.init(body: .json(.init(items: result.items.map(Components.Schemas.VoterList.init), nextCursor: result.nextCursor))))
    }

    func getList(_ input: Operations.GetList.Input) async throws -> Operations.GetList.Output {
        let caller = try await requireMember(Self.staffRoles)
        let id = try Validate.pathId(input.path.listId, "list")
        guard let list = try await voterLists.list(id, in: caller.scope, on: db) else {
            throw APIError.notFound("no list with id \(input.path.listId)")
        }
        return .ok(.init(body: .json(.init(list))))
    }

    func createList(_ input: Operations.CreateList.Input) async throws -> Operations.CreateList.Output {
        let caller = try await requireMember(Self.staffRoles)
        guard case .json(let body) = input.body else { throw APIError.unsupportedMediaType("expected application/json") }
        let name = try Validate.length(body.name.trimmingCharacters(in: .whitespaces), 1...200, "name")
        let description = try Validate.text(body.description, 0...2000, "description")
        // Null criteria mean "not given" (a manual list); an object, even empty, asks for a population.
        let criteria = try body.criteria.map { try VoterCriteriaValidation.criteria($0, "criteria") }
        let (list, job): (VoterList, EnqueuedJob?) = try await transaction { connection in
            let created = try await voterLists.create(
                name: name,
                description: description,
                criteria: criteria,
                createdBy: caller.userId,
                in: caller.scope,
                on: connection
            )
            try await recordAudit(
                by: caller,
                "list.created",
                on: "list",
                id: created.id.uuidString.lowercased(),
                changes: ["name": .string(name)],
                in: connection
            )
            guard let criteria else { return (created, nil) }
            let job = try await enqueuePopulation(of: created.id, criteria: criteria, mode: .replace, by: caller, on: connection)
            guard let list = try await voterLists.list(created.id, in: caller.scope, on: connection) else { throw APIError.internal }
            return (list, job)
        }
        if let job { await jobs.publish([job]) }
        return .created(.init(body: .json(.init(list))))
    }

    func updateList(_ input: Operations.UpdateList.Input) async throws -> Operations.UpdateList.Output {
        let caller = try await requireMember(Self.staffRoles)
        let id = try Validate.pathId(input.path.listId, "list")
        guard case .json(let body) = input.body else { throw APIError.unsupportedMediaType("expected application/json") }
        let name = try Validate.text(body.name?.trimmingCharacters(in: .whitespaces), 1...200, "name")
        let description = try Validate.text(body.description, 0...2000, "description")
        guard let list = try await voterLists.update(id, name: name, description: description, in: caller.scope, on: db) else {
            throw APIError.notFound("no list with id \(input.path.listId)")
        }
        return .ok(.init(body: .json(.init(list))))
    }

    func deleteList(_ input: Operations.DeleteList.Input) async throws -> Operations.DeleteList.Output {
        let caller = try await requireMember(Self.staffRoles)
        let id = try Validate.pathId(input.path.listId, "list")
        try await transaction { connection in
            try await voterLists.delete(id, in: caller.scope, on: connection)
            try await recordAudit(by: caller, "list.deleted", on: "list", id: id.uuidString.lowercased(), in: connection)
        }
        return .noContent(.init())
    }
}
