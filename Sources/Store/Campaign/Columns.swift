import Foundation
import PostgresNIO

/// Reads a row's columns in select-list order, so a model's decoder and the extra columns a query
/// adds after it (cursor keys, joined values) read on from where the other stopped.
struct Columns {
    private let row: PostgresRandomAccessRow
    private var index = 0

    init(_ row: PostgresRow) {
        self.row = row.makeRandomAccess()
    }

    mutating func next<T: PostgresDecodable>(_ type: T.Type = T.self) throws -> T {
        defer { index += 1 }
        return try row[index].decode(T.self)
    }

    /// A text column holding one of `T`'s raw values.
    mutating func raw<T: RawRepresentable>(_ type: T.Type) throws -> T where T.RawValue == String {
        let text = try next(String.self)
        guard let value = T(rawValue: text) else { throw StoreError.unexpected("\(T.self) \(text)") }
        return value
    }

    /// A nullable text column holding one of `T`'s raw values.
    mutating func rawIfPresent<T: RawRepresentable>(_ type: T.Type) throws -> T? where T.RawValue == String {
        guard let text = try next(String?.self) else { return nil }
        guard let value = T(rawValue: text) else { throw StoreError.unexpected("\(T.self) \(text)") }
        return value
    }

    /// A JSON text column (`jsonb::text`) decoded into `T`.
    mutating func json<T: Decodable>(_ type: T.Type = T.self) throws -> T? {
        guard let text = try next(String?.self) else { return nil }
        return try JSONDecoder().decode(T.self, from: Data(text.utf8))
    }
}

extension Page {
    /// A newest-first page from `limit + 1` rows, each decoded into an item and its `(time, id)` cursor.
    static func newestFirst(
        _ rows: QueryRows,
        limit: Int,
        _ decode: (inout Columns) throws -> (Item, PageCursor)
    ) async throws -> Page<Item> {
        var out: [(Item, PageCursor)] = []
        for try await row in rows {
            var columns = Columns(row)
            out.append(try decode(&columns))
        }
        return Page.from(rows: out, limit: limit)
    }
}

extension Error {
    /// The constraint named when Postgres refused the statement for a foreign key (SQLSTATE 23503):
    /// the row referred to was deleted by a transaction that committed meanwhile.
    var foreignKeyConstraint: String? {
        guard let error = self as? PSQLError, error.serverInfo?[.sqlState] == "23503" else { return nil }
        return error.serverInfo?[.constraintName] ?? ""
    }
}
