import Foundation
import PostgresNIO

/// An opaque keyset cursor over `(timestamp, id)`: base64url of `micros:uuid`. Microseconds keep
/// Postgres' full timestamp precision, so a page boundary never skips or repeats a row.
public struct PageCursor: Sendable, Equatable {
    public let micros: Int64
    public let id: UUID

    public init(micros: Int64, id: UUID) {
        self.micros = micros
        self.id = id
    }

    public var encoded: String {
        Base64URL.encode(Data("\(micros):\(id.uuidString.lowercased())".utf8))
    }

    /// Nil when the text is not a cursor this server made.
    public init?(encoded: String) {
        guard encoded.count <= 512, let data = Base64URL.decode(encoded),
            let text = String(data: data, encoding: .utf8)
        else { return nil }
        let parts = text.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let micros = Int64(parts[0]), let id = UUID(uuidString: String(parts[1])) else { return nil }
        self.init(micros: micros, id: id)
    }
}

/// A page of results and the cursor for the next one.
public struct Page<Item: Sendable>: Sendable {
    public let items: [Item]
    public let nextCursor: String?

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }

    /// Builds a page from `limit + 1` fetched rows: the extra row only proves there is more.
    public static func from(rows: [(Item, PageCursor)], limit: Int) -> Page<Item> {
        let more = rows.count > limit
        let kept = rows.prefix(limit)
        return Page(items: kept.map(\.0), nextCursor: more ? kept.last?.1.encoded : nil)
    }
}

extension PostgresQuery.StringInterpolation {
    /// The keyset condition of a page over `(time, id)`: `(time, id) < cursor` for newest-first
    /// pages (`descending`), `>` for oldest-first ones; true when there is no cursor (the first page).
    public mutating func appendInterpolation(page cursor: PageCursor?, time: String, id: String, descending: Bool = true) {
        appendInterpolation(unescaped: "(")
        appendInterpolation(cursor == nil)
        appendInterpolation(unescaped: " OR (\(time), \(id)) \(descending ? "<" : ">") (timestamptz 'epoch' + ")
        appendInterpolation(cursor?.micros ?? 0)
        appendInterpolation(unescaped: " * interval '1 microsecond', ")
        appendInterpolation(cursor?.id ?? UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)))
        appendInterpolation(unescaped: "))")
    }
}
