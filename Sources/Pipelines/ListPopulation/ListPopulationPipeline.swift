import Actors
import Foundation
import Logging
import PostgresNIO
import Store

/// Fills a voter list from criteria: the org's voters are cut into ranges by id, and each range is one
/// set-based statement in a fenced transaction (so a worker that lost its lease writes nothing), followed by
/// a progress report. Every range is idempotent, so a retried job simply runs them all again; when the job
/// has succeeded the list's `member_count` is exact.
public struct ListPopulationPipeline: OrgPipeline {
    /// The pipeline's name.
    public static let name = "list-population"

    /// Which list, what selects its voters, and whether members that do not match stay.
    public struct Arguments: Codable, Sendable, Equatable {
        public var listId: UUID
        public var criteria: VoterCriteria
        public var mode: PopulationMode
        /// Voters per range (default 50,000); tests make it small to cross many range edges.
        public var chunkSize: Int?

        /// A population of `listId`.
        public init(listId: UUID, criteria: VoterCriteria, mode: PopulationMode, chunkSize: Int? = nil) {
            self.listId = listId
            self.criteria = criteria
            self.mode = mode
            self.chunkSize = chunkSize
        }
    }

    /// The job's progress as stored in the ledger.
    struct Progress: Encodable {
        let chunks: Int
        let chunksDone: Int
        let added: Int
        let removed: Int
    }

    static let defaultChunkSize = 50_000

    /// Runs on the ledger's database.
    public init() {}

    /// Populates the list range by range; a list deleted meanwhile ends the job quietly.
    public func run(_ arguments: Arguments, scope: OrgScope, context: JobContext) async throws {
        let lists = VoterListRepository(logger: context.logger)
        let size = max(1, arguments.chunkSize ?? Self.defaultChunkSize)
        let bounds = try await context.fenced { connection in
            try await lists.populationBounds(size: size, in: scope, on: connection)
        }
        let edges: [UUID?] = bounds.map { $0 }
        let ranges = Array(zip([nil] + edges, edges + [nil]))
        var added = 0
        var removed = 0
        for (index, range) in ranges.enumerated() {
            try Task.checkCancellation()
            let result: PopulationChunkResult? = try await context.fenced { connection in
                guard try await lists.lock(arguments.listId, in: scope, on: connection) else { return nil }
                return try await lists.populate(
                    arguments.listId,
                    criteria: arguments.criteria,
                    mode: arguments.mode,
                    after: range.0,
                    through: range.1,
                    in: scope,
                    on: connection
                )
            }
            guard let result else {
                context.logger.info("list deleted while it was populated", metadata: ["list_id": .string(arguments.listId.uuidString)])
                return
            }
            added += result.added
            removed += result.removed
            try await context.progress(Progress(chunks: ranges.count, chunksDone: index + 1, added: added, removed: removed))
        }
        // The field summary counts the list from its member set again (not from its rows).
        try await context.fenced { connection in
            try await FieldRollups(logger: context.logger).refreshList(arguments.listId, in: scope, on: connection)
        }
        context.logger.info(
            "list populated",
            metadata: [
                "list_id": .string(arguments.listId.uuidString), "added": .stringConvertible(added), "removed": .stringConvertible(removed),
                "ranges": .stringConvertible(ranges.count),
            ]
        )
    }
}
