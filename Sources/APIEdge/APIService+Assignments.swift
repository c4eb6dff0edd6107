import Foundation
import PostgresNIO
@_spi(TenantAuth) import Store

/// `/assignments`: staff assign lists to canvassers; a canvasser reads their active assignments and walks their voters.
extension APIService {
    func listAssignments(_ input: Operations.ListAssignments.Input) async throws -> Operations.ListAssignments.Output {
        let caller = try await requireMember(Self.staffRoles)
        let page = try Validate.page(limit: input.query.limit, cursor: input.query.cursor)
        let filter = AssignmentFilter(
            listId: try input.query.listId.map { try Validate.uuid($0, "listId") },
            canvasserId: try input.query.canvasserId.map { try Validate.uuid($0, "canvasserId") },
            status: input.query.status.flatMap { AssignmentStatus(rawValue: $0.rawValue) }
        )
        let result = try await assignments.assignments(in: caller.scope, filter: filter, limit: page.limit, after: page.cursor, on: db)
        return .ok(.init(body: .json(.init(items: result.items.map(Components.Schemas.Assignment.init), nextCursor: result.nextCursor))))
    }

    func listMyAssignments(_ input: Operations.ListMyAssignments.Input) async throws -> Operations.ListMyAssignments.Output {
        let caller = try await requireMember()
        let page = try Validate.page(limit: input.query.limit, cursor: input.query.cursor)
        let result = try await assignments.assignments(
            in: caller.scope,
            filter: .init(canvasserId: caller.userId, status: .active),
            limit: page.limit,
            after: page.cursor,
            on: db
        )
        return .ok(.init(body: .json(.init(items: result.items.map(Components.Schemas.Assignment.init), nextCursor: result.nextCursor))))
    }

    func createAssignment(_ input: Operations.CreateAssignment.Input) async throws -> Operations.CreateAssignment.Output {
        let caller = try await requireMember(Self.staffRoles)
        guard case .json(let body) = input.body else { throw APIError.unsupportedMediaType("expected application/json") }
        let list = try Validate.uuid(body.listId, "listId")
        let canvasser = try Validate.uuid(body.canvasserId, "canvasserId")
        let assignment: Assignment = try await transaction { connection in
            let id = try await assignments.create(list: list, canvasser: canvasser, by: caller.userId, in: caller.scope, on: connection)
            let changes: [String: AuditValue] = ["listId": .string(body.listId), "canvasserId": .string(body.canvasserId)]
            try await recordAudit(
                by: caller,
                "assignment.created",
                on: "assignment",
                id: id.uuidString.lowercased(),
                changes: changes,
                in: connection
            )
            guard let assignment = try await assignments.assignment(id, in: caller.scope, on: connection) else {
                throw StoreError.unexpected("assignment vanished")
            }
            return assignment
        }
        return .created(.init(body: .json(.init(assignment))))
    }

    func updateAssignment(_ input: Operations.UpdateAssignment.Input) async throws -> Operations.UpdateAssignment.Output {
        let caller = try await requireMember(Self.staffRoles)
        let id = try Validate.pathId(input.path.assignmentId, "assignment")
        guard case .json(let body) = input.body else { throw APIError.unsupportedMediaType("expected application/json") }
        let assignment: Assignment = try await transaction { connection in
            guard try await assignments.update(id, status: AssignmentStatus(body.status), in: caller.scope, on: connection),
                let assignment = try await assignments.assignment(id, in: caller.scope, on: connection)
            else { throw APIError.notFound("no assignment with id \(input.path.assignmentId)") }
            try await recordAudit(by: caller, "assignment.\(body.status.rawValue)", on: "assignment", id: id.uuidString.lowercased(), in: connection)
            return assignment
        }
        return .ok(.init(body: .json(.init(assignment))))
    }

    func listAssignmentVoters(_ input: Operations.ListAssignmentVoters.Input) async throws -> Operations.ListAssignmentVoters.Output {
        let caller = try await requireMember()
        let id = try Validate.pathId(input.path.assignmentId, "assignment")
        let limit = try Validate.page(limit: input.query.limit, cursor: nil).limit
        var after: KeyCursor?
        if let text = input.query.cursor {
            guard let cursor = KeyCursor(encoded: text, count: 5) else {
                throw APIError.validation("cursor: not a cursor from this API", details: [("cursor", "not a cursor from this API")])
            }
            after = cursor
        }
        guard let assignment = try await assignments.assignment(id, in: caller.scope, on: db),
            caller.role != .canvasser || (assignment.canvasserId == caller.userId && assignment.status == .active)
        else { throw APIError.notFound("no assignment with id \(input.path.assignmentId)") }
        let page = try await assignments.walk(id, in: caller.scope, limit: limit, after: after, on: db)
        return .ok(.init(body: .json(.init(items: page.items.map(Components.Schemas.AssignedVoter.init), nextCursor: page.nextCursor))))
    }
}
