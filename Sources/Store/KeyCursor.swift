import Foundation

/// An opaque cursor over any sort key: base64url of a JSON array of the last row's key values.
public struct KeyCursor: Sendable, Equatable {
    public let values: [String]

    public init(_ values: [String]) {
        self.values = values
    }

    public var encoded: String {
        let data = (try? JSONEncoder().encode(values)) ?? Data()
        return data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Nil when the text is not a cursor this server made (or has another number of values).
    public init?(encoded: String, count: Int) {
        var base64 = encoded.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64.append("=") }
        guard encoded.count <= 1024, let data = Data(base64Encoded: base64),
            let values = try? JSONDecoder().decode([String].self, from: data), values.count == count
        else { return nil }
        self.values = values
    }
}
