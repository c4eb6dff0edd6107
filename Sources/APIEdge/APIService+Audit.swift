import Foundation
@_spi(TenantAuth) import Store

extension APIService {
    func listAuditLogs(_ input: Operations.ListAuditLogs.Input) async throws -> Operations.ListAuditLogs.Output {
        let caller = try await requireMember([.admin])
        let query = input.query
        let page = try Validate.page(limit: query.limit, cursor: query.cursor)
        for (field, value) in [("action", query.action), ("entityType", query.entityType), ("entityId", query.entityId), ("actorId", query.actorId)] {
            if let value { _ = try Validate.length(value, 0...200, field) }
        }
        let filter = AuditFilter(
            action: query.action,
            entityType: query.entityType,
            entityId: query.entityId,
            actorId: query.actorId?.lowercased(),
            from: query.from,
            to: query.to
        )
        let result = try await audit.list(in: caller.scope, filter: filter, limit: page.limit, after: page.cursor, on: db)
        return .ok(.init(body: .json(.init(items: result.items.map(Components.Schemas.AuditEntry.init), nextCursor: result.nextCursor))))
    }
}
