import Foundation
import HummingbirdBcrypt
import Logging
import NIOPosix
import PostgresNIO
@_spi(TenantAuth) import Store

/// The demo organization `fieldwork seed --demo` makes: idempotent, safe to run on every start.
public enum DemoSeed {
    public static let orgSlug = "demo-campaign"
    public static let password = "fieldwork-demo"
    public static let staffEmail = "staff@demo.fieldwork.test"
    public static let staffPassword = "fieldwork-staff-demo"
    public static let people: [(email: String, name: String, role: Role)] = [
        ("admin@demo.fieldwork.test", "Avery Admin", .admin),
        ("organizer@demo.fieldwork.test", "Olive Organizer", .organizer),
        ("canvasser@demo.fieldwork.test", "Cam Canvasser", .canvasser),
    ]

    /// Creates what is missing; returns the organization id.
    @discardableResult
    public static func run(client: PostgresClient, logger: Logger, cost: UInt8 = 11) async throws -> UUID {
        let orgs = OrganizationRepository(logger: logger)
        let users = UserRepository(logger: logger)
        let memberships = MembershipRepository(logger: logger)
        let hash = try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
        return try await client.inTransaction(logger: logger) { connection in
            var org = try await orgs.find(slug: orgSlug, on: connection)
            if org == nil { org = try await orgs.create(name: "Demo Campaign", slug: orgSlug, timezone: "America/Chicago", on: connection) }
            guard let org else { throw StoreError.unexpected("demo organization could not be created") }
            let scope = OrgScope(orgId: org.id)
            for person in people {
                let (user, _) = try await users.findOrCreate(email: person.email, name: person.name, passwordHash: hash, on: connection)
                if try await memberships.role(of: user.id, in: scope, on: connection) == nil {
                    _ = try await memberships.add(user.id, role: person.role, in: scope, on: connection)
                }
            }
            return org.id
        }
    }
}
