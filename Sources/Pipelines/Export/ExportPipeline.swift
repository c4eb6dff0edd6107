import Actors
import Foundation
import Logging
import PostgresNIO
import Store

/// Writes one export: streams its rows from Postgres through the CSV writer into the object store, then records the
/// row count, the byte size and the expiry (fenced). Running it again rewrites the same object: idempotent.
public struct ExportPipeline: OrgPipeline {
    /// The pipeline's name.
    public static let name = "export"

    /// Which export, and how long its file is kept once written.
    public struct Arguments: Codable, Sendable {
        public var exportId: UUID
        public var ttlSeconds: Int

        public init(exportId: UUID, ttlSeconds: Int) {
            self.exportId = exportId
            self.ttlSeconds = ttlSeconds
        }
    }

    let db: PostgresClient
    let store: any ObjectStore

    /// Reads from `db`, writes to `store`.
    public init(db: PostgresClient, store: any ObjectStore) {
        self.db = db
        self.store = store
    }

    /// Streams the export's rows into its object.
    public func run(_ arguments: Arguments, scope: OrgScope, context: JobContext) async throws {
        let repository = ExportRepository(logger: context.logger)
        guard let export = try await repository.export(arguments.exportId, in: scope, on: db) else {
            throw NonRetryableError("export \(arguments.exportId) does not exist in this org")
        }
        guard export.finishedAt == nil else { return }
        guard let kind = ExportKind(rawValue: export.kind) else { throw NonRetryableError("unknown export kind \(export.kind)") }
        if kind == .listMembers, export.listId == nil { throw NonRetryableError("the list of this export was deleted") }
        let counter = RowCounter()
        let store = self.store
        let logger = context.logger
        let bytes = try await db.withConnection { connection in
            let rows = try await connection.run(
                ExportQuery.query(kind, scope: scope, listId: export.listId, from: export.from, to: export.to),
                logger: logger
            )
            let body = CSVChunks(rows: rows, header: ExportQuery.header(kind), counter: counter)
            return try await store.put(export.objectKey, contentType: "text/csv; charset=utf-8", body: body)
        }
        let rowCount = counter.value
        try await context.fenced { connection in
            try await repository.finish(
                arguments.exportId,
                rowCount: rowCount,
                byteSize: bytes,
                ttlSeconds: arguments.ttlSeconds,
                in: scope,
                on: connection
            )
        }
        logger.info("export written", metadata: ["rows": .stringConvertible(rowCount), "bytes": .stringConvertible(bytes)])
    }
}

/// Deletes the objects of expired exports (scheduled; `pipelines/export-expiry.yaml`) and marks them purged, so a
/// download after expiry answers 404 "export expired" and storage does not grow without bound.
public struct ExportExpiryPipeline: Pipeline {
    /// The pipeline's name.
    public static let name = "export-expiry"

    /// A scheduled run (its fields are not used).
    public struct Arguments: Codable, Sendable {
        public init() {}
    }

    let db: PostgresClient
    let store: any ObjectStore

    /// Reads `exports` in `db`, deletes from `store`.
    public init(db: PostgresClient, store: any ObjectStore) {
        self.db = db
        self.store = store
    }

    /// Purges every expired export, a thousand at a time.
    public func run(_ arguments: Arguments, context: JobContext) async throws {
        let repository = ExportRepository(logger: context.logger)
        var purged = 0
        while true {
            try Task.checkCancellation()
            let batch = try await repository.expired(limit: 1000, on: db)
            for export in batch {
                try await store.delete(export.objectKey)
                try await repository.markPurged(export.id, on: db)
            }
            purged += batch.count
            if batch.count < 1000 { break }
        }
        if purged > 0 { context.logger.info("expired exports purged", metadata: ["count": .stringConvertible(purged)]) }
    }
}
