import Foundation
import Logging
import PostgresNIO

/// Who did something recorded in the audit log.
public enum ActorKind: String, Sendable {
    case user, staff, system
}

/// One audit entry to write.
public struct AuditRecord: Sendable {
    public var orgId: UUID?
    public var actorId: String?
    public var actorKind: ActorKind
    public var action: String
    public var entityType: String
    public var entityId: String?
    public var requestId: String?
    /// What changed, as a JSON object.
    public var changes: [String: AuditValue]?

    public init(
        orgId: UUID?,
        actorId: String?,
        actorKind: ActorKind,
        action: String,
        entityType: String,
        entityId: String? = nil,
        requestId: String?,
        changes: [String: AuditValue]? = nil
    ) {
        self.orgId = orgId
        self.actorId = actorId
        self.actorKind = actorKind
        self.action = action
        self.entityType = entityType
        self.entityId = entityId
        self.requestId = requestId
        self.changes = changes
    }
}

/// A JSON value inside an audit entry's `changes`.
public enum AuditValue: Sendable, Encodable, Equatable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case object([String: AuditValue])

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

/// An entry as read back.
public struct AuditEntry: Sendable {
    public let id: UUID
    public let at: Date
    public let actorId: String?
    public let actorKind: String
    public let action: String
    public let entityType: String
    public let entityId: String?
    public let requestId: String?
    /// The `changes` object as JSON text.
    public let changesJSON: String?
}

/// Filters of `GET /audit-logs`; nil means "any".
public struct AuditFilter: Sendable {
    public var action: String?
    public var entityType: String?
    public var entityId: String?
    public var actorId: String?
    public var from: Date?
    public var to: Date?

    public init(action: String? = nil, entityType: String? = nil, entityId: String? = nil, actorId: String? = nil, from: Date? = nil, to: Date? = nil)
    {
        self.action = action
        self.entityType = entityType
        self.entityId = entityId
        self.actorId = actorId
        self.from = from
        self.to = to
    }
}

/// The append-only audit log (a trigger refuses UPDATE, DELETE and TRUNCATE).
public struct AuditLog: Sendable {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    public func append(_ record: AuditRecord, on db: some QueryRunner) async throws {
        let changes: String? = try record.changes.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        try await db.run(
            """
            INSERT INTO audit_logs (org_id, actor_id, actor_kind, action, entity_type, entity_id, request_id, changes)
            VALUES (\(record.orgId), \(record.actorId), \(record.actorKind.rawValue), \(record.action), \(record.entityType),
                    \(record.entityId), \(record.requestId), \(changes)::jsonb)
            """,
            logger: logger
        ).consume()
    }

    /// The organization's entries, newest first. Unnamed statements are planned with their
    /// parameter values, so the `IS NULL OR` filters collapse and the matching index is used.
    public func list(
        in scope: OrgScope,
        filter: AuditFilter,
        limit: Int,
        after cursor: PageCursor?,
        on db: some QueryRunner
    ) async throws -> Page<AuditEntry> {
        let rows = try await db.run(
            """
            SELECT id, at, actor_id, actor_kind, action, entity_type, entity_id, request_id, changes::text,
                   (extract(epoch FROM at) * 1000000)::int8
            FROM audit_logs
            WHERE org_id = \(scope.orgId)
              AND (\(filter.action)::text IS NULL OR action = \(filter.action))
              AND (\(filter.entityType)::text IS NULL OR entity_type = \(filter.entityType))
              AND (\(filter.entityId)::text IS NULL OR entity_id = \(filter.entityId))
              AND (\(filter.actorId)::text IS NULL OR actor_id = \(filter.actorId))
              AND (\(filter.from)::timestamptz IS NULL OR at >= \(filter.from))
              AND (\(filter.to)::timestamptz IS NULL OR at < \(filter.to))
              AND \(page: cursor, time: "at", id: "id")
            ORDER BY at DESC, id DESC
            LIMIT \(limit + 1)
            """,
            logger: logger
        )
        var out: [(AuditEntry, PageCursor)] = []
        for try await row in rows {
            let (id, at, actorId, actorKind, action, entityType, entityId, requestId, changes, micros) =
                try row.decode((UUID, Date, String?, String, String, String, String?, String?, String?, Int64).self)
            let entry = AuditEntry(
                id: id,
                at: at,
                actorId: actorId,
                actorKind: actorKind,
                action: action,
                entityType: entityType,
                entityId: entityId,
                requestId: requestId,
                changesJSON: changes
            )
            out.append((entry, PageCursor(micros: micros, id: id)))
        }
        return Page.from(rows: out, limit: limit)
    }
}
