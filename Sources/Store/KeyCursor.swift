import Foundation

/// An opaque cursor over any sort key: base64url of a JSON array of the last row's key values.
public struct KeyCursor: Sendable, Equatable {
    public let values: [String]

    public init(_ values: [String]) {
        self.values = values
    }

    public var encoded: String {
        let data = (try? JSONEncoder().encode(values)) ?? Data()
        return Base64URL.encode(data)
    }

    /// Nil when the text is not a cursor this server made (or has another number of values).
    public init?(encoded: String, count: Int) {
        guard encoded.count <= 1024, let data = Base64URL.decode(encoded),
            let values = try? JSONDecoder().decode([String].self, from: data), values.count == count
        else { return nil }
        self.values = values
    }
}
