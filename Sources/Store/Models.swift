import Foundation

/// A member's role within an organization.
public enum Role: String, Sendable, CaseIterable, Codable {
    case admin, organizer, canvasser
}

/// A campaign: the unit of tenancy.
public struct Organization: Sendable, Equatable {
    public let id: UUID
    public let name: String
    public let slug: String
    public let timezone: String
    public let createdAt: Date
}

/// A person who can sign in; belongs to organizations through memberships.
public struct User: Sendable, Equatable {
    public let id: UUID
    public let email: String
    public let name: String
    public let createdAt: Date
}

/// A user's membership of one organization.
public struct Member: Sendable, Equatable {
    public let user: User
    public let role: Role
    public let createdAt: Date
}

/// The tenant every repository call is confined to. Only the auth layer makes one (through the
/// `TenantAuth` SPI), from a verified token and a live membership, so no handler can name another
/// organization by accident.
public struct OrgScope: Sendable, Hashable {
    public let orgId: UUID

    @_spi(TenantAuth)
    public init(orgId: UUID) {
        self.orgId = orgId
    }
}
