import Actors
import Foundation
import HummingbirdBcrypt
import Logging
import NIOPosix
import Pipelines
import PostgresNIO
@_spi(TenantAuth) import Store

/// Implements the generated `APIProtocol`: one method per operation of `openapi/openapi.yaml`,
/// grouped by resource in `APIService+*.swift`.
struct APIService: APIProtocol {
    let config: AppConfig
    let db: PostgresClient
    let redis: RedisClient
    let storage: any ObjectStore
    let jobs: JobSystem
    let tokens: AccessTokens
    let limiter: LoginRateLimiter
    let logger: Logger
    /// Verified against when an email is unknown, so that failure takes as long as success.
    let dummyHash: String

    var users: UserRepository { UserRepository(logger: logger) }
    var orgs: OrganizationRepository { OrganizationRepository(logger: logger) }
    var memberships: MembershipRepository { MembershipRepository(logger: logger) }
    var refreshTokens: RefreshTokenRepository { RefreshTokenRepository(logger: logger) }
    var audit: AuditLog { AuditLog(logger: logger) }
    var voters: VoterRepository { VoterRepository(logger: logger) }
    var voterLists: VoterListRepository { VoterListRepository(logger: logger) }
    var assignments: AssignmentRepository { AssignmentRepository(logger: logger) }
    var surveyQuestions: SurveyQuestionRepository { SurveyQuestionRepository(logger: logger) }
    var interactions: InteractionRepository { InteractionRepository(logger: logger) }
    var outbox: EventOutbox { EventOutbox(logger: logger) }
    var request: RequestState { RequestState.current }

    /// bcrypt is CPU-bound: it runs on the thread pool, not the cooperative executor.
    func passwordMatches(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }

    func hashPassword(_ password: String) async throws -> String {
        let cost = config.bcryptCost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    /// Runs `body` in one transaction, rethrowing the body's own error (not the wrapper's).
    func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> sending T) async throws -> T {
        try await db.inTransaction(logger: logger, body)
    }
}

/// A campaign caller whose membership was confirmed against the database for this request.
struct MemberCaller: Sendable {
    let userId: UUID
    let scope: OrgScope
    let role: Role
    var actorId: String { userId.uuidString.lowercased() }
}

extension APIService {
    /// The roles that manage a campaign's data (canvassers only work their assignments).
    static let staffRoles: Set<Role> = [.admin, .organizer]

    /// Requires a campaign token of a live member holding one of `roles` (the current role from
    /// the database, not the token's, so demotions and removals apply at once).
    func requireMember(_ roles: Set<Role> = Set(Role.allCases)) async throws -> MemberCaller {
        let (userId, orgId) = try request.caller.memberToken()
        let scope = OrgScope(orgId: orgId)
        guard let role = try await memberships.role(of: userId, in: scope, on: db) else {
            throw APIError.unauthenticated("the token's membership no longer exists")
        }
        guard roles.contains(role) else { throw APIError.forbidden("the \(role.rawValue) role may not do this") }
        return MemberCaller(userId: userId, scope: scope, role: role)
    }

    /// Appends an audit entry by `caller`, in their org and for this request, on the caller's transaction.
    func recordAudit(
        by caller: MemberCaller,
        _ action: String,
        on entityType: String,
        id entityId: String?,
        changes: [String: AuditValue]? = nil,
        in connection: PostgresConnection
    ) async throws {
        try await audit.append(
            AuditRecord(
                orgId: caller.scope.orgId,
                actorId: caller.actorId,
                actorKind: .user,
                action: action,
                entityType: entityType,
                entityId: entityId,
                requestId: request.requestId,
                changes: changes
            ),
            on: connection
        )
    }

    /// Appends an audit entry by a staff member on the caller's transaction. Platform-level (no org) unless `org` is
    /// given: a bulk action's filter may name an org that does not exist, and the audit log references orgs.
    func recordStaffAudit(
        by staff: String,
        _ action: String,
        on entityType: String,
        id entityId: String?,
        org: UUID? = nil,
        changes: [String: AuditValue],
        requestId: String,
        in connection: PostgresConnection
    ) async throws {
        try await audit.append(
            AuditRecord(
                orgId: org,
                actorId: staff,
                actorKind: .staff,
                action: action,
                entityType: entityType,
                entityId: entityId,
                requestId: requestId,
                changes: changes
            ),
            on: connection
        )
    }

    /// Requires a staff token; returns the staff email.
    func requireStaff() throws -> String {
        try request.caller.staffToken()
    }
}
