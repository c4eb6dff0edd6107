import Crypto
import Foundation

/// Groups failures that differ only in their particulars: pipeline + error type + message with
/// UUIDs, numbers, quoted values, hex ids and e-mail addresses normalised away.
public enum ErrorFingerprint {
    static let patterns: [(String, String)] = [
        ("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", "<uuid>"),
        ("\"[^\"]*\"", "<q>"),
        ("'[^']*'", "<q>"),
        ("`[^`]*`", "<q>"),
        ("[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}", "<email>"),
        ("\\b0x[0-9a-fA-F]+\\b", "<n>"),
        ("\\b[0-9a-fA-F]{16,}\\b", "<hex>"),
        ("-?[0-9]+([.,][0-9]+)*", "<n>"),
    ]

    /// The normalised message (also what the dead-letter groups show).
    public static func normalise(_ message: String) -> String {
        var text = message
        for (pattern, replacement) in patterns {
            text = text.replacingOccurrences(of: pattern, with: replacement, options: .regularExpression)
        }
        return text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// A short stable hex digest of `pipeline|type|normalised message`.
    public static func make(pipeline: String, errorType: String, message: String) -> String {
        let key = "\(pipeline)|\(errorType)|\(normalise(message))"
        return SHA256.hash(data: Data(key.utf8)).prefix(8).map { String(format: "%02x", $0) }.joined()
    }
}
