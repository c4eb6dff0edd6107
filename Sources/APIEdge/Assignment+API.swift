import Foundation
import Store

extension Components.Schemas.Assignment {
    init(_ a: Assignment) {
        self.init(
            id: a.id.uuidString.lowercased(),
            listId: a.listId.uuidString.lowercased(),
            listName: a.listName,
            canvasserId: a.canvasserId.uuidString.lowercased(),
            canvasserName: a.canvasserName,
            status: .init(a.status),
            assignedBy: a.assignedBy.uuidString.lowercased(),
            createdAt: a.createdAt,
            progress: .init(total: a.progress.total, attempted: a.progress.attempted, contacted: a.progress.contacted)
        )
    }
}

extension Components.Schemas.Assignment.StatusPayload {
    init(_ status: AssignmentStatus) {
        switch status {
        case .active: self = .active
        case .completed: self = .completed
        case .revoked: self = .revoked
        }
    }
}

extension AssignmentStatus {
    init(_ status: Components.Schemas.UpdateAssignmentRequest.StatusPayload) {
        switch status {
        case .completed: self = .completed
        case .revoked: self = .revoked
        }
    }
}

extension Components.Schemas.AssignedVoter {
    init(_ v: AssignedVoter) {
        self.init(
            value1: .init(v.voter),
            value2: .init(lastResult: v.lastResult.map(Components.Schemas.InteractionResult.init), lastContactAt: v.lastContactAt)
        )
    }
}
