import Foundation
import Store

/// A pipeline's name with arguments encoded from its `Arguments` type (or checked against it):
/// the name comes from the type, so callers never spell it.
public struct JobPayload: Sendable, Equatable {
    /// The pipeline's name.
    public let pipeline: String
    /// The arguments as stored: JSON with sorted keys.
    public let argsJSON: String
    /// The pipeline is an `OrgPipeline`: its jobs need an org.
    let needsOrg: Bool

    /// `arguments` for a job of `type`.
    public init<P: Pipeline>(_ type: P.Type, _ arguments: P.Arguments) throws {
        self.init(pipeline: P.name, argsJSON: try JobArgumentsCoding.encode(arguments), needsOrg: P.self is any OrgPipeline.Type)
    }

    /// Unchecked: the scheduler (whose pipelines are named by their files) and registry entries.
    init(pipeline: String, argsJSON: String, needsOrg: Bool = false) {
        self.pipeline = pipeline
        self.argsJSON = argsJSON
        self.needsOrg = needsOrg
    }
}

/// What to enqueue: a payload, the org it belongs to (none: a platform job) and how to run it.
public struct JobSpec: Sendable {
    /// The pipeline and its encoded arguments.
    public let payload: JobPayload
    let orgId: UUID?
    /// -100...100, higher first; nil: the pipeline's.
    public var priority: Int?
    /// When to run (a future time makes the job `scheduled`); nil: now.
    public var runAt: Date?
    /// Nil: the pipeline's `max_attempts`.
    public var maxAttempts: Int?
    /// While a job of the pipeline with this key is unfinished, enqueueing the key again returns it.
    public var uniqueKey: String?
    /// The request that enqueues the job (its log lines carry it).
    public var requestId: String?

    /// A job of `type` with `arguments`, for `scope`'s org (nil: a platform job, which an
    /// `OrgPipeline` refuses with `JobSpecError.needsOrg`).
    public init<P: Pipeline>(
        _ type: P.Type,
        _ arguments: P.Arguments,
        scope: OrgScope?,
        priority: Int? = nil,
        runAt: Date? = nil,
        maxAttempts: Int? = nil,
        uniqueKey: String? = nil,
        requestId: String? = nil
    ) throws {
        try self.init(
            JobPayload(type, arguments),
            scope: scope,
            priority: priority,
            runAt: runAt,
            maxAttempts: maxAttempts,
            uniqueKey: uniqueKey,
            requestId: requestId
        )
    }

    /// A job of an already encoded payload (see `PipelineEntry.payload(argumentsJSON:)`).
    public init(
        _ payload: JobPayload,
        scope: OrgScope?,
        priority: Int? = nil,
        runAt: Date? = nil,
        maxAttempts: Int? = nil,
        uniqueKey: String? = nil,
        requestId: String? = nil
    ) throws {
        if payload.needsOrg && scope == nil { throw JobSpecError.needsOrg(payload.pipeline) }
        self.init(
            pipeline: payload.pipeline,
            orgId: scope?.orgId,
            argsJSON: payload.argsJSON,
            priority: priority,
            runAt: runAt,
            maxAttempts: maxAttempts,
            uniqueKey: uniqueKey,
            requestId: requestId
        )
    }

    /// Unchecked, by name: the scheduler, whose pipelines are named by their files (and tests).
    init(
        pipeline: String,
        orgId: UUID?,
        argsJSON: String = "{}",
        priority: Int? = nil,
        runAt: Date? = nil,
        maxAttempts: Int? = nil,
        uniqueKey: String? = nil,
        requestId: String? = nil
    ) {
        self.payload = JobPayload(pipeline: pipeline, argsJSON: argsJSON)
        self.orgId = orgId
        self.priority = priority
        self.runAt = runAt
        self.maxAttempts = maxAttempts
        self.uniqueKey = uniqueKey
        self.requestId = requestId
    }

    /// The pipeline's name.
    public var pipeline: String { payload.pipeline }
    var argsJSON: String { payload.argsJSON }
}

/// An enqueue the deployment or the pipeline's type refuses.
public enum JobSpecError: Error, Equatable {
    /// No pipeline file of that name.
    case unknownPipeline(String)
    /// An `OrgPipeline`'s job without an org.
    case needsOrg(String)
    /// Arguments that do not decode as the pipeline's `Arguments`.
    case badArguments(pipeline: String, reason: String)
}
