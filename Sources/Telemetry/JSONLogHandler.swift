import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Where JSON log lines go: stdout in the server, an in-memory buffer as well in tests.
public final class LogSink: Sendable {
    /// Captured lines, read and written only under the lock.
    private let captured = Mutex<[String]>([])
    private let capturing: Bool
    private let toStdout: Bool

    public init(stdout: Bool = true, capture: Bool = false) {
        self.toStdout = stdout
        self.capturing = capture
    }

    public static let standard = LogSink()

    func write(_ line: String) {
        if toStdout {
            // One write(2) per line: lines from concurrent tasks never interleave.
            var output = line
            output.append("\n")
            output.utf8.withContiguousStorageIfAvailable { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = Glibc.write(1, bytes.baseAddress! + offset, bytes.count - offset)
                    if written <= 0 { break }
                    offset += written
                }
            }
        }
        if capturing { captured.withLock { $0.append(line) } }
    }

    /// The lines written so far (only when created with `capture: true`).
    public var lines: [String] {
        captured.withLock { $0 }
    }
}

/// A swift-log handler writing one JSON object per event: time, level, message, the handler's
/// metadata, the task-local `LogContext` and the event's own metadata. Keys that name secrets are
/// redacted whatever their value, as a last line of defence; code must not log secrets at all.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let sink: LogSink

    public init(label: String, level: Logger.Level = .info, sink: LogSink = .standard) {
        self.label = label
        self.logLevel = level
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    static let secretKeys: Set<String> = [
        "password", "token", "accesstoken", "refreshtoken", "authorization", "secret", "jwt_secret", "password_hash",
    ]

    public func log(event: LogEvent) {
        var fields: [(String, String)] = [
            ("ts", Self.timestamp()),
            ("level", event.level.rawValue),
            ("msg", "\(event.message)"),
            ("logger", label),
        ]
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        let context = LogContext.current
        if let id = context.requestId { merged["request_id"] = .string(id) }
        if let id = context.orgId { merged["org_id"] = .string(id) }
        if let id = context.userId { merged["user_id"] = .string(id) }
        for (key, value) in context.fields { merged[key] = .string(value) }
        if let own = event.metadata { merged.merge(own) { $1 } }
        for key in merged.keys.sorted() {
            let value = Self.secretKeys.contains(key.lowercased()) ? "[redacted]" : "\(merged[key]!)"
            fields.append((key, value))
        }
        if event.level >= .error { fields.append(("source", "\(event.file):\(event.line)")) }
        sink.write(Self.encode(fields))
    }

    static func encode(_ fields: [(String, String)]) -> String {
        var out = "{"
        for (index, (key, value)) in fields.enumerated() {
            if index > 0 { out.append(",") }
            appendQuoted(key, to: &out)
            out.append(":")
            appendQuoted(value, to: &out)
        }
        out.append("}")
        return out
    }

    static func appendQuoted(_ string: String, to out: inout String) {
        out.append("\"")
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out.append("\\\"")
            case "\\": out.append("\\\\")
            case "\n": out.append("\\n")
            case "\r": out.append("\\r")
            case "\t": out.append("\\t")
            case _ where scalar.value < 0x20:
                out.append(String(format: "\\u%04x", scalar.value))
            default: out.unicodeScalars.append(scalar)
            }
        }
        out.append("\"")
    }

    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
            parts.tm_year + 1900,
            parts.tm_mon + 1,
            parts.tm_mday,
            parts.tm_hour,
            parts.tm_min,
            parts.tm_sec,
            Int(now.tv_nsec / 1_000_000)
        )
    }
}
