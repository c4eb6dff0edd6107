import Foundation
import Logging
import NIOCore
import PostgresNIO

/// Every rejected row of an import as CSV (`row,column,reason,original`) in the object store, streamed from
/// `import_rejections` a page at a time.
public struct RejectedRowsFile: Sendable {
    let importId: UUID
    let db: PostgresClient
    let logger: Logger

    /// The rejected rows of `importId`, read from `db`.
    public init(importId: UUID, db: PostgresClient, logger: Logger) {
        self.importId = importId
        self.db = db
        self.logger = logger
    }

    /// The object key of an import's rejected rows.
    public static func key(org: UUID, importId: UUID) -> String {
        "orgs/\(org.uuidString.lowercased())/imports/\(importId.uuidString.lowercased())/rejected.csv"
    }

    /// Writes the file (the header alone when nothing was rejected), replacing any earlier one.
    public func write(to store: any ObjectStore, key: String) async throws {
        let pages = Pages(importId: importId, db: db, logger: logger)
        _ = try await store.put(key, contentType: "text/csv", body: ObjectBody { try await pages.next() })
    }

    /// Hands out the CSV a page of rows at a time; one reader.
    final class Pages: @unchecked Sendable {
        let importId: UUID
        let db: PostgresClient
        let logger: Logger
        var after: Int64 = 0
        var started = false
        var done = false

        init(importId: UUID, db: PostgresClient, logger: Logger) {
            self.importId = importId
            self.db = db
            self.logger = logger
        }

        func next() async throws -> ByteBuffer? {
            guard !done else { return nil }
            var buffer = ByteBuffer()
            if !started {
                started = true
                buffer.writeString("row,column,reason,original\n")
            }
            let rows = try await db.run(
                """
                SELECT seq, row_no, column_name, message, raw_text FROM import_rejections
                WHERE import_id = \(importId) AND seq > \(after) ORDER BY seq LIMIT 5000
                """,
                logger: logger
            )
            var count = 0
            for try await (seq, row, column, message, raw) in rows.decode((Int64, Int, String?, String, String).self) {
                after = seq
                count += 1
                buffer.writeString("\(row),\(Self.field(column ?? "")),\(Self.field(message)),\(Self.field(raw))\n")
            }
            if count < 5000 { done = true }
            return buffer.readableBytes > 0 ? buffer : nil
        }

        /// A CSV field, quoted when it holds a comma, a quote or a line break (quotes doubled); a cell a spreadsheet
        /// would run as a formula is neutralised as the exports' `CSVWriter` does (the original text is an uploader's).
        static func field(_ text: String) -> String {
            let dangerous = text.utf8.first.map(CSVWriter.startsFormula) == true && !CSVWriter.isPlainNumber(text.utf8)
            guard dangerous || text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
            return "\"" + (dangerous ? "'" : "") + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
    }
}
