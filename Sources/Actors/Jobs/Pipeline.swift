import Foundation
import Store

/// A kind of job: its name (the key of `pipelines/<name>.yaml` and of its jobs in the ledger), the
/// type of its arguments, and the code that runs one job. `run` must check for cancellation
/// (timeouts, staff cancels, lost leases and shutdown cancel it) and should be idempotent:
/// delivery is at least once.
public protocol Pipeline: Sendable {
    associatedtype Arguments: Codable & Sendable
    /// The pipeline's name; written here and nowhere else but the registry.
    static var name: String { get }
    /// Runs one job with its decoded arguments.
    func run(_ arguments: Arguments, context: JobContext) async throws
}

/// A pipeline whose every job belongs to one org: it runs with that org's `OrgScope`, so it can
/// only reach that org's rows, and enqueueing one of its jobs without an org is refused.
public protocol OrgPipeline: Pipeline {
    /// Runs one job of the org `scope` names.
    func run(_ arguments: Arguments, scope: OrgScope, context: JobContext) async throws
}

extension OrgPipeline {
    /// Hands the job's org to `run(_:scope:context:)`; a job with none cannot run (not retryable).
    public func run(_ arguments: Arguments, context: JobContext) async throws {
        guard let scope = context.scope else { throw NonRetryableError("\(Self.name) runs for one org; this job belongs to none") }
        try await run(arguments, scope: scope, context: context)
    }
}

/// The arguments the scheduler gives the job of a scheduled pipeline. A pipeline with a
/// `schedule` must accept them (its `Arguments` decode from this shape; an empty struct does).
public struct ScheduledRun: Codable, Sendable, Equatable {
    /// The schedule's (and pipeline's) name.
    public var schedule: String
    /// The period fired, RFC 3339.
    public var period: String
    /// `manual` when staff triggered it outside its cron.
    public var trigger: String?

    /// A firing of `schedule` for `period` (`trigger` "manual" when staff triggered it).
    public init(schedule: String, period: String, trigger: String? = nil) {
        self.schedule = schedule
        self.period = period
        self.trigger = trigger
    }
}

/// Job arguments as stored in the ledger: JSON with sorted keys.
enum JobArgumentsCoding {
    static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Decodes a job's arguments; a mismatch is not retryable (running again cannot fix it).
    static func decode<T: Decodable>(_ type: T.Type, from json: String, pipeline: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(json.utf8))
        } catch {
            throw NonRetryableError("the arguments of this \(pipeline) job do not decode as \(T.self): \(error)")
        }
    }
}
