import Foundation
import Store

/// Input checks the generated decoders do not make (lengths, patterns, ranges, ids).
enum Validate {
    /// Lengths count Unicode scalars, as JSON Schema's minLength/maxLength do (not grapheme clusters).
    static func length(_ value: String, _ range: ClosedRange<Int>, _ field: String) throws -> String {
        guard range.contains(value.unicodeScalars.count) else {
            throw APIError.validation(
                "\(field): length must be \(range.lowerBound)..\(range.upperBound)",
                details: [(field, "length must be \(range.lowerBound)..\(range.upperBound)")]
            )
        }
        return value
    }

    /// An optional filter or field: its length (as the spec counts it) and no NUL characters,
    /// which Postgres text cannot hold.
    static func text(_ value: String?, _ range: ClosedRange<Int>, _ field: String) throws -> String? {
        guard let value else { return nil }
        guard !value.unicodeScalars.contains("\u{0}") else {
            throw APIError.validation("\(field): must not contain NUL characters", details: [(field, "must not contain NUL characters")])
        }
        return try length(value, range, field)
    }

    static func email(_ value: String, _ field: String) throws -> String {
        let trimmed = value.lowercased()
        let parts = trimmed.split(separator: "@", omittingEmptySubsequences: false)
        guard (3...254).contains(trimmed.unicodeScalars.count), parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
            !parts[1].hasPrefix("."), !parts[1].hasSuffix("."), !trimmed.contains(where: \.isWhitespace)
        else { throw APIError.validation("\(field): not an email address", details: [(field, "not an email address")]) }
        return trimmed
    }

    /// Sign-in input: the email trimmed and lower-cased, the password as given.
    static func credentials(email: String, password: String) throws -> (email: String, password: String) {
        let email = try length(email, 3...254, "email").trimmingCharacters(in: .whitespaces).lowercased()
        return (email, try length(password, 1...1024, "password"))
    }

    static func uuid(_ value: String, _ field: String) throws -> UUID {
        guard let id = UUID(uuidString: value) else {
            throw APIError.validation("\(field): not a UUID", details: [(field, "not a UUID")])
        }
        return id
    }

    /// A path id: a malformed one names nothing, so it is simply not found.
    static func pathId(_ value: String, _ what: String) throws -> UUID {
        guard let id = UUID(uuidString: value) else { throw APIError.notFound("no \(what) with id \(value)") }
        return id
    }

    static func page(limit: Int?, cursor: String?) throws -> (limit: Int, cursor: PageCursor?) {
        let limit = limit ?? 50
        guard (1...500).contains(limit) else {
            throw APIError.validation("limit: must be 1..500", details: [("limit", "must be 1..500")])
        }
        guard let cursor else { return (limit, nil) }
        guard let decoded = PageCursor(encoded: cursor) else {
            throw APIError.validation("cursor: not a cursor from this API", details: [("cursor", "not a cursor from this API")])
        }
        return (limit, decoded)
    }

    /// A cursor of a page keyed by id alone (voters, list members).
    static func idCursor(_ text: String?) throws -> UUID? {
        guard let text else { return nil }
        guard let cursor = KeyCursor(encoded: text, count: 1), let id = UUID(uuidString: cursor.values[0]) else {
            throw APIError.validation("cursor: not a cursor from this API", details: [("cursor", "not a cursor from this API")])
        }
        return id
    }

    static func password(_ value: String, _ field: String) throws -> String {
        guard value.unicodeScalars.count >= 8, value.utf8.count <= 72 else {
            throw APIError.validation("\(field): must be 8 characters to 72 bytes", details: [(field, "must be 8 characters to 72 bytes")])
        }
        return value
    }
}
