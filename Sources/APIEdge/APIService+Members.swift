import Foundation
import PostgresNIO
@_spi(TenantAuth) import Store

extension APIService {
    func listMembers(_ input: Operations.ListMembers.Input) async throws -> Operations.ListMembers.Output {
        let caller = try await requireMember([.admin])
        let page = try Validate.page(limit: input.query.limit, cursor: input.query.cursor)
        let result = try await memberships.list(in: caller.scope, limit: page.limit, after: page.cursor, on: db)
        return .ok(.init(body: .json(.init(items: result.items.map(Components.Schemas.Member.init), nextCursor: result.nextCursor))))
    }

    func createMember(_ input: Operations.CreateMember.Input) async throws -> Operations.CreateMember.Output {
        let caller = try await requireMember([.admin])
        guard case .json(let body) = input.body else { throw APIError.unsupportedMediaType("expected application/json") }
        let email = try Validate.email(body.email, "email")
        let name = try Validate.length(body.name.trimmingCharacters(in: .whitespaces), 1...200, "name")
        var hash: String?
        if let password = body.password { hash = try await hashPassword(try Validate.password(password, "password")) }
        let member: Member = try await transaction { connection in
            // An existing user keeps their password: an org admin must not set another org's user's password.
            let (user, created) = try await users.findOrCreate(email: email, name: name, passwordHash: hash, on: connection)
            if created, hash == nil { throw APIError.unprocessable("password is required for a new user") }
            let member: Member
            do {
                member = try await memberships.add(user.id, role: body.role.domain, in: caller.scope, on: connection)
            } catch MembershipRepository.ChangeError.alreadyMember {
                throw APIError.conflict("\(email) is already a member")
            }
            try await recordAudit(
                by: caller,
                "member.created",
                on: "member",
                id: user.id.uuidString.lowercased(),
                changes: ["email": .string(email), "role": .string(body.role.rawValue), "newUser": .bool(created)],
                in: connection
            )
            return member
        }
        return .created(.init(body: .json(.init(member))))
    }

    func updateMember(_ input: Operations.UpdateMember.Input) async throws -> Operations.UpdateMember.Output {
        let caller = try await requireMember([.admin])
        let userId = try Validate.pathId(input.path.userId, "member")
        guard case .json(let body) = input.body else { throw APIError.unsupportedMediaType("expected application/json") }
        let member: Member = try await transaction { connection in
            let (before, after) = try await memberChange {
                try await memberships.changeRole(of: userId, to: body.role.domain, in: caller.scope, on: connection)
            }
            try await recordAudit(
                by: caller,
                "member.role_changed",
                on: "member",
                id: userId.uuidString.lowercased(),
                changes: ["role": .object(["from": .string(before.role.rawValue), "to": .string(after.role.rawValue)])],
                in: connection
            )
            return after
        }
        return .ok(.init(body: .json(.init(member))))
    }

    func deleteMember(_ input: Operations.DeleteMember.Input) async throws -> Operations.DeleteMember.Output {
        let caller = try await requireMember([.admin])
        let userId = try Validate.pathId(input.path.userId, "member")
        try await transaction { connection in
            let removed = try await memberChange { try await memberships.remove(userId, in: caller.scope, on: connection) }
            try await recordAudit(
                by: caller,
                "member.removed",
                on: "member",
                id: userId.uuidString.lowercased(),
                changes: ["email": .string(removed.user.email), "role": .string(removed.role.rawValue)],
                in: connection
            )
        }
        return .noContent(.init())
    }

    /// Maps the repository's refusals to the contract's statuses.
    private func memberChange<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch MembershipRepository.ChangeError.notFound {
            throw APIError.notFound("no such member in this organization")
        } catch MembershipRepository.ChangeError.lastAdmin {
            throw APIError.unprocessable("the last admin of an organization cannot be demoted or removed")
        }
    }
}
