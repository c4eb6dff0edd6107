import Foundation
@_spi(TenantAuth) import Store

extension APIService {
    func staffLogin(_ input: Operations.StaffLogin.Input) async throws -> Operations.StaffLogin.Output {
        guard case .json(let body) = input.body else { throw APIError.unsupportedMediaType("expected application/json") }
        let (email, password) = try Validate.credentials(email: body.email, password: body.password)
        try await limiter.check(.staff, email: email, ip: request.clientIP)
        let account = config.staff.first { $0.email == email }
        let matches = try await passwordMatches(password, hash: account?.passwordHash ?? dummyHash)
        guard account != nil, matches else {
            try await limiter.recordFailure(.staff, email: email, ip: request.clientIP)
            try await audit.append(
                AuditRecord(
                    orgId: nil,
                    actorId: email,
                    actorKind: .staff,
                    action: "staff.login_failed",
                    entityType: "staff",
                    entityId: email,
                    requestId: request.requestId,
                    changes: ["ip": .string(request.clientIP)]
                ),
                on: db
            )
            throw APIError.unauthenticated("invalid email or password")
        }
        try await limiter.recordSuccess(.staff, email: email, ip: request.clientIP)
        try await audit.append(
            AuditRecord(
                orgId: nil,
                actorId: email,
                actorKind: .staff,
                action: "staff.login",
                entityType: "staff",
                entityId: email,
                requestId: request.requestId,
                changes: ["ip": .string(request.clientIP)]
            ),
            on: db
        )
        return .ok(.init(body: .json(.init(accessToken: try await tokens.issueStaff(email: email), expiresIn: tokens.expiresIn))))
    }

    func listOrganizations(_ input: Operations.ListOrganizations.Input) async throws -> Operations.ListOrganizations.Output {
        _ = try requireStaff()
        let page = try Validate.page(limit: input.query.limit, cursor: input.query.cursor)
        let result = try await orgs.summaries(limit: page.limit, after: page.cursor, on: db)
        let items = result.items.map {
            Components.Schemas.OrganizationSummary(org: .init($0.org), voters: $0.voters, members: $0.members, lastActivityAt: $0.lastActivityAt)
        }
        return .ok(.init(body: .json(.init(items: items, nextCursor: result.nextCursor))))
    }

    func createOrganization(_ input: Operations.CreateOrganization.Input) async throws -> Operations.CreateOrganization.Output {
        let staff = try requireStaff()
        guard case .json(let body) = input.body else { throw APIError.unsupportedMediaType("expected application/json") }
        let name = try Validate.length(body.name.trimmingCharacters(in: .whitespaces), 1...200, "name")
        let slug = try Validate.length(body.slug, 2...63, "slug")
        guard slug.range(of: "^[a-z0-9]+(-[a-z0-9]+)*$", options: .regularExpression) != nil else {
            throw APIError.validation(
                "slug: lower-case letters, digits and single hyphens",
                details: [("slug", "lower-case letters, digits and single hyphens")]
            )
        }
        guard body.timezone.count <= 64, TimeZone(identifier: body.timezone) != nil, body.timezone.contains("/") || body.timezone == "UTC" else {
            throw APIError.validation("timezone: not an IANA time zone name", details: [("timezone", "not an IANA time zone name")])
        }
        let adminEmail = try Validate.email(body.admin.email, "admin.email")
        let adminName = try Validate.length(body.admin.name.trimmingCharacters(in: .whitespaces), 1...200, "admin.name")
        let hash = try await hashPassword(try Validate.password(body.admin.password, "admin.password"))
        let (org, admin): (Organization, User) = try await transaction { connection in
            guard let org = try await orgs.create(name: name, slug: slug, timezone: body.timezone, on: connection) else {
                throw APIError.conflict("the slug \(slug) is taken")
            }
            let scope = OrgScope(orgId: org.id)
            let (user, created) = try await users.findOrCreate(email: adminEmail, name: adminName, passwordHash: hash, on: connection)
            _ = try await memberships.add(user.id, role: .admin, in: scope, on: connection)
            try await audit.append(
                AuditRecord(
                    orgId: org.id,
                    actorId: staff,
                    actorKind: .staff,
                    action: "organization.created",
                    entityType: "organization",
                    entityId: org.id.uuidString.lowercased(),
                    requestId: request.requestId,
                    changes: [
                        "name": .string(name), "slug": .string(slug), "timezone": .string(body.timezone),
                        "adminEmail": .string(adminEmail), "newUser": .bool(created),
                    ]
                ),
                on: connection
            )
            return (org, user)
        }
        return .created(.init(body: .json(.init(org: .init(org), admin: .init(admin)))))
    }
}
