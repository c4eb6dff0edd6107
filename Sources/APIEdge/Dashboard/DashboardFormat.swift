import Foundation

/// How the dashboard writes numbers, ages and times: short, for people scanning a table.
enum DashboardFormat {
    static func age(_ seconds: Double?) -> String {
        guard let seconds else { return "–" }
        let s = Int(seconds.rounded(.down))
        switch s {
        case ..<60: return "\(s)s"
        case ..<3600: return "\(s / 60)m \(String(format: "%02d", s % 60))s"
        case ..<86_400: return "\(s / 3600)h \(String(format: "%02d", s % 3600 / 60))m"
        default: return "\(s / 86_400)d \(s % 86_400 / 3600)h"
        }
    }

    static func millis(_ value: Double?) -> String {
        guard let value else { return "–" }
        return value < 1000 ? "\(Int(value.rounded())) ms" : String(format: "%.1f s", value / 1000)
    }

    static func time(_ date: Date?) -> String {
        guard let date else { return "–" }
        return date.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false).timeSeparator(.colon))
    }

    static func percent(_ share: Double) -> String {
        String(format: "%.1f%%", share * 100)
    }

    /// JSON text indented for reading (arguments, progress); the text itself when it is not JSON.
    static func prettyJSON(_ text: String) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]),
            let data = try? JSONSerialization.data(
                withJSONObject: object,
                options: [.prettyPrinted, .sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes]
            )
        else { return text }
        return String(decoding: data, as: UTF8.self)
    }
}

/// The overview's chart: done and failed jobs of the last hour per pipeline as horizontal bars,
/// drawn by the server as SVG geometry the template places (labels escaped like every value).
enum DashboardChart {
    static let width = 560.0
    static let labelWidth = 140.0
    static let rowHeight = 26.0

    /// Rows of `(pipeline, done, failed)` as template data, plus the SVG's height.
    static func bars(_ rows: [(name: String, done: Int, failed: Int)]) -> [String: Any] {
        let most = max(1, rows.map { $0.done + $0.failed }.max() ?? 1)
        let scale = (width - labelWidth - 60) / Double(most)
        let drawn: [[String: Any]] = rows.enumerated().map { index, row in
            let y = Double(index) * rowHeight + 4
            let done = Double(row.done) * scale
            let failed = Double(row.failed) * scale
            return [
                "name": row.name, "done": row.done, "failed": row.failed,
                "y": y, "textY": y + 14, "barX": labelWidth,
                "doneWidth": done, "failedX": labelWidth + done, "failedWidth": failed,
                "countX": labelWidth + done + failed + 6,
            ]
        }
        return ["rows": drawn, "height": Double(rows.count) * rowHeight + 8, "width": width, "labelEnd": labelWidth - 8]
    }
}
