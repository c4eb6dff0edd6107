import Logging

/// The identities a unit of work runs for (a request or a job), carried as a task-local so that
/// every log line written inside it names them without threading a logger through every call.
public struct LogContext: Sendable {
    public var requestId: String?
    public var orgId: String?
    public var userId: String?
    /// Further fields for job work: `job_id`, `pipeline`, `attempt`.
    public var fields: [String: String]

    public init(requestId: String? = nil, orgId: String? = nil, userId: String? = nil, fields: [String: String] = [:]) {
        self.requestId = requestId
        self.orgId = orgId
        self.userId = userId
        self.fields = fields
    }

    @TaskLocal public static var current = LogContext()

    /// Runs `body` with the current context changed by `update`.
    public static func with<T>(
        _ update: (inout LogContext) -> Void,
        _ body: () async throws -> T
    ) async rethrows -> T {
        var context = current
        update(&context)
        return try await $current.withValue(context, operation: body)
    }
}
