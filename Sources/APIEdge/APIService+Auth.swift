import Foundation
import PostgresNIO
@_spi(TenantAuth) import Store

extension APIService {
    func login(_ input: Operations.Login.Input) async throws -> Operations.Login.Output {
        guard case .json(let body) = input.body else { throw APIError.unsupportedMediaType("expected application/json") }
        let (email, password) = try Validate.credentials(email: body.email, password: body.password)
        let wantedOrg = try body.orgId.map { try Validate.uuid($0, "orgId") }
        let ip = request.clientIP
        try await limiter.check(.campaign, email: email, ip: ip)

        let found = try await users.credentials(email: email, on: db)
        let matches = try await passwordMatches(password, hash: found?.passwordHash ?? dummyHash)
        var member: [(org: Organization, role: Role)] = []
        if let found { member = try await memberships.memberships(of: found.user.id, on: db) }
        guard let found, found.passwordHash != nil, matches else {
            try await limiter.recordFailure(.campaign, email: email, ip: ip)
            try await audit.append(
                AuditRecord(
                    orgId: member.first?.org.id,
                    actorId: found?.user.id.uuidString.lowercased(),
                    actorKind: .user,
                    action: "auth.login_failed",
                    entityType: "user",
                    entityId: found?.user.id.uuidString.lowercased(),
                    requestId: request.requestId,
                    changes: ["email": .string(email), "ip": .string(ip)]
                ),
                on: db
            )
            throw APIError.unauthenticated("invalid email or password")
        }
        let chosen = wantedOrg.map { id in member.first { $0.org.id == id } } ?? member.first
        guard let chosen else {
            throw member.isEmpty
                ? APIError.forbidden("this account belongs to no organization")
                : APIError.forbidden("you are not a member of that organization")
        }
        try await limiter.recordSuccess(.campaign, email: email, ip: ip)
        try await audit.append(
            AuditRecord(
                orgId: chosen.org.id,
                actorId: found.user.id.uuidString.lowercased(),
                actorKind: .user,
                action: "auth.login",
                entityType: "user",
                entityId: found.user.id.uuidString.lowercased(),
                requestId: request.requestId,
                changes: ["ip": .string(ip)]
            ),
            on: db
        )
        return .ok(.init(body: .json(try await newSession(user: found.user, org: chosen.org, role: chosen.role))))
    }

    /// A session with a fresh access token; a new refresh-token family unless `refreshToken` is given.
    func newSession(user: User, org: Organization, role: Role, refreshToken: String? = nil) async throws -> Components.Schemas.Session {
        let access = try await tokens.issue(userId: user.id, orgId: org.id, role: role)
        let refresh: String
        if let refreshToken {
            refresh = refreshToken
        } else {
            refresh = try await refreshTokens.issue(orgId: org.id, userId: user.id, ttl: config.refreshTokenTTL, on: db)
        }
        return .init(
            accessToken: access,
            refreshToken: refresh,
            tokenType: .bearer,
            expiresIn: tokens.expiresIn,
            user: .init(user),
            org: .init(org),
            role: .init(role)
        )
    }

    func refreshSession(_ input: Operations.RefreshSession.Input) async throws -> Operations.RefreshSession.Output {
        guard case .json(let body) = input.body else { throw APIError.unsupportedMediaType("expected application/json") }
        let token = try Validate.length(body.refreshToken, 1...512, "refreshToken")
        switch try await refreshTokens.rotate(token, ttl: config.refreshTokenTTL, client: db) {
        case .invalid:
            throw APIError.unauthenticated("invalid or expired refresh token")
        case .reused(let family, let orgId, let userId):
            try await audit.append(
                AuditRecord(
                    orgId: orgId,
                    actorId: userId.uuidString.lowercased(),
                    actorKind: .user,
                    action: "auth.refresh_reuse",
                    entityType: "refresh_token_family",
                    entityId: family.uuidString.lowercased(),
                    requestId: request.requestId,
                    changes: ["ip": .string(request.clientIP), "familyRevoked": .bool(true)]
                ),
                on: db
            )
            logger.warning("refresh token reuse: family revoked", metadata: ["family_id": .string(family.uuidString.lowercased())])
            throw APIError.unauthenticated("refresh token already used; every session of that sign-in is revoked")
        case .rotated(let next, let orgId, let userId):
            let scope = OrgScope(orgId: orgId)
            guard let user = try await users.find(id: userId, on: db), let org = try await orgs.find(id: orgId, on: db),
                let role = try await memberships.role(of: userId, in: scope, on: db)
            else { throw APIError.unauthenticated("invalid or expired refresh token") }
            return .ok(.init(body: .json(try await newSession(user: user, org: org, role: role, refreshToken: next))))
        }
    }

    func logout(_ input: Operations.Logout.Input) async throws -> Operations.Logout.Output {
        let caller = try await requireMember()
        guard case .json(let body) = input.body else { throw APIError.unsupportedMediaType("expected application/json") }
        let token = try Validate.length(body.refreshToken, 1...512, "refreshToken")
        // Another user's token, or an unknown one, is not revealed: the answer is 204 either way.
        try await refreshTokens.revoke(token, ownedBy: caller.userId, on: db)
        return .noContent(.init())
    }

    func switchOrg(_ input: Operations.SwitchOrg.Input) async throws -> Operations.SwitchOrg.Output {
        let caller = try await requireMember()
        guard case .json(let body) = input.body else { throw APIError.unsupportedMediaType("expected application/json") }
        let orgId = try Validate.uuid(body.orgId, "orgId")
        guard let role = try await memberships.role(of: caller.userId, in: OrgScope(orgId: orgId), on: db),
            let org = try await orgs.find(id: orgId, on: db), let user = try await users.find(id: caller.userId, on: db)
        else { throw APIError.forbidden("you are not a member of that organization") }
        return .ok(.init(body: .json(try await newSession(user: user, org: org, role: role))))
    }

    func getMe(_ input: Operations.GetMe.Input) async throws -> Operations.GetMe.Output {
        let caller = try await requireMember()
        guard let user = try await users.find(id: caller.userId, on: db) else { throw APIError.unauthenticated("unknown user") }
        let all = try await memberships.memberships(of: caller.userId, on: db)
        guard let current = all.first(where: { $0.org.id == caller.scope.orgId }) else {
            throw APIError.unauthenticated("the token's membership no longer exists")
        }
        return .ok(
            .init(
                body: .json(
                    .init(
                        user: .init(user),
                        org: .init(current.org),
                        role: .init(current.role),
                        memberships: all.map { .init(org: .init($0.org), role: .init($0.role)) }
                    )
                )
            )
        )
    }
}
