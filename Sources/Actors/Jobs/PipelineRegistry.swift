import Foundation

/// One pipeline of a registry, its argument type erased: what a worker runs for a job of that
/// name, and how an operator's JSON arguments are checked before such a job is enqueued.
public struct PipelineEntry: Sendable {
    /// The pipeline's name.
    public let name: String
    /// True for an `OrgPipeline`: every job needs an org.
    public let needsOrg: Bool
    private let execute: @Sendable (_ argsJSON: String, _ context: JobContext) async throws -> Void
    private let check: @Sendable (_ argsJSON: String) throws -> String

    init<P: Pipeline>(_ pipeline: P) {
        let name = P.name
        self.name = name
        needsOrg = P.self is any OrgPipeline.Type
        execute = { json, context in
            try await pipeline.run(try JobArgumentsCoding.decode(P.Arguments.self, from: json, pipeline: name), context: context)
        }
        check = { json in try JobArgumentsCoding.encode(try JobArgumentsCoding.decode(P.Arguments.self, from: json, pipeline: name)) }
    }

    /// Runs one job: decodes its arguments (a mismatch is a `NonRetryableError`) and calls the pipeline.
    func run(argsJSON: String, context: JobContext) async throws {
        try await execute(argsJSON, context)
    }

    /// Arguments given as JSON (an operator's request), decoded as the pipeline's `Arguments`
    /// and encoded again; throws `JobSpecError.badArguments` when they do not decode.
    public func payload(argumentsJSON: String) throws -> JobPayload {
        do {
            return JobPayload(pipeline: name, argsJSON: try check(argumentsJSON), needsOrg: needsOrg)
        } catch let error as NonRetryableError {
            throw JobSpecError.badArguments(pipeline: name, reason: error.message)
        }
    }

    /// Whether arguments given as JSON decode as the pipeline's `Arguments`.
    func accepts(argumentsJSON: String) -> Bool {
        (try? check(argumentsJSON)) != nil
    }
}

/// The pipelines a build has, by name: what workers run, and how a name given at run time
/// (a pipeline file, an operator's request) finds its type.
public struct PipelineRegistry: Sendable {
    private var entries: [String: PipelineEntry] = [:]

    /// Registers `pipelines`; two with one name are a programming error.
    public init(_ pipelines: [any Pipeline]) {
        for pipeline in pipelines { add(pipeline) }
    }

    /// This registry with `pipelines` added (tests add pipelines of their own).
    public func adding(_ pipelines: [any Pipeline]) -> PipelineRegistry {
        var registry = self
        for pipeline in pipelines { registry.add(pipeline) }
        return registry
    }

    private mutating func add<P: Pipeline>(_ pipeline: P) {
        precondition(entries[P.name] == nil, "two pipelines are named \(P.name)")
        entries[P.name] = PipelineEntry(pipeline)
    }

    /// The pipeline named `name`, if this build has it.
    public subscript(name: String) -> PipelineEntry? { entries[name] }

    /// Every name, sorted.
    public var names: [String] { entries.keys.sorted() }
}
