import Foundation
import OpenAPIRuntime
import Store

extension Components.Schemas.User {
    init(_ user: User) {
        self.init(id: user.id.uuidString.lowercased(), email: user.email, name: user.name, createdAt: user.createdAt)
    }
}

extension Components.Schemas.Organization {
    init(_ org: Organization) {
        self.init(id: org.id.uuidString.lowercased(), name: org.name, slug: org.slug, timezone: org.timezone, createdAt: org.createdAt)
    }
}

extension Components.Schemas.Role {
    init(_ role: Role) { self = Self(rawValue: role.rawValue)! }
    var domain: Role { Role(rawValue: rawValue)! }
}

extension Components.Schemas.Member {
    init(_ member: Member) {
        self.init(user: .init(member.user), role: .init(member.role), createdAt: member.createdAt)
    }
}

extension Components.Schemas.AuditEntry {
    init(_ entry: AuditEntry) {
        let changes = entry.changesJSON.flatMap { try? JSONDecoder().decode(OpenAPIObjectContainer.self, from: Data($0.utf8)) }
        self.init(
            id: entry.id.uuidString.lowercased(),
            at: entry.at,
            actorId: entry.actorId,
            actorKind: .init(rawValue: entry.actorKind) ?? .system,
            action: entry.action,
            entityType: entry.entityType,
            entityId: entry.entityId,
            requestId: entry.requestId,
            changes: changes.map { .init(additionalProperties: $0) }
        )
    }
}

// Pages always carry `nextCursor`, as `null` on the last page: synthesised Codable would leave the
// key out, and a protocol default cannot replace the generated conformance, so each page type
// names its keys and `encodePage` does the work.

/// Encodes `items` and an explicit `nextCursor`; returns the container for any further keys.
@discardableResult
func encodePage<Key: CodingKey, Item: Encodable>(
    _ items: [Item],
    _ nextCursor: String?,
    _ itemsKey: Key,
    _ cursorKey: Key,
    to encoder: any Encoder
) throws -> KeyedEncodingContainer<Key> {
    var container = encoder.container(keyedBy: Key.self)
    try container.encode(items, forKey: itemsKey)
    try container.encode(nextCursor, forKey: cursorKey)
    return container
}

extension Components.Schemas.MemberPage {
    func encode(to encoder: any Encoder) throws { try encodePage(items, nextCursor, CodingKeys.items, .nextCursor, to: encoder) }
}

extension Components.Schemas.AuditPage {
    func encode(to encoder: any Encoder) throws { try encodePage(items, nextCursor, CodingKeys.items, .nextCursor, to: encoder) }
}

extension Components.Schemas.OrganizationSummaryPage {
    func encode(to encoder: any Encoder) throws { try encodePage(items, nextCursor, CodingKeys.items, .nextCursor, to: encoder) }
}

extension Components.Schemas.JobPage {
    func encode(to encoder: any Encoder) throws { try encodePage(items, nextCursor, CodingKeys.items, .nextCursor, to: encoder) }
}

extension Components.Schemas.VoterPage {
    func encode(to encoder: any Encoder) throws {
        var container = try encodePage(items, nextCursor, CodingKeys.items, .nextCursor, to: encoder)
        try container.encodeIfPresent(total, forKey: .total)
    }
}

extension Components.Schemas.VoterListPage {
    func encode(to encoder: any Encoder) throws { try encodePage(items, nextCursor, CodingKeys.items, .nextCursor, to: encoder) }
}

extension Components.Schemas.AssignmentPage {
    func encode(to encoder: any Encoder) throws { try encodePage(items, nextCursor, CodingKeys.items, .nextCursor, to: encoder) }
}

extension Components.Schemas.AssignedVoterPage {
    func encode(to encoder: any Encoder) throws { try encodePage(items, nextCursor, CodingKeys.items, .nextCursor, to: encoder) }
}

extension Components.Schemas.SurveyQuestionPage {
    func encode(to encoder: any Encoder) throws { try encodePage(items, nextCursor, CodingKeys.items, .nextCursor, to: encoder) }
}

extension Components.Schemas.InteractionPage {
    func encode(to encoder: any Encoder) throws { try encodePage(items, nextCursor, CodingKeys.items, .nextCursor, to: encoder) }
}

extension Components.Schemas.ImportJobPage {
    func encode(to encoder: any Encoder) throws { try encodePage(items, nextCursor, CodingKeys.items, .nextCursor, to: encoder) }
}
