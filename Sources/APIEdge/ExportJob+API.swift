import Foundation
import Store

extension Components.Schemas.ExportJob {
    init(_ export: ExportRecord) {
        let id = export.id.uuidString.lowercased()
        let status = Self.status(export)
        self.init(
            id: id,
            kind: Components.Schemas.ExportJob.KindPayload(rawValue: export.kind) ?? .voters,
            format: .csv,
            status: status,
            listId: export.listId?.uuidString.lowercased(),
            rowCount: export.rowCount,
            byteSize: export.byteSize,
            downloadUrl: status == .succeeded && export.purgedAt == nil ? "/api/v1/exports/\(id)/download" : nil,
            expiresAt: export.expiresAt,
            createdAt: export.createdAt,
            finishedAt: export.finishedAt
        )
    }

    /// Written (finished) is `succeeded`; otherwise the state of its job: dead or discarded is `failed`.
    static func status(_ export: ExportRecord) -> StatusPayload {
        if export.finishedAt != nil { return .succeeded }
        switch export.jobState {
        case "running": return .running
        case "retrying": return .retrying
        case "dead", "discarded": return .failed
        case "cancelled": return .cancelled
        case "succeeded": return .failed  // the job ended without writing the file
        default: return .queued
        }
    }
}
