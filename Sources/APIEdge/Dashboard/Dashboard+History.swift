import Foundation
import Hummingbird

/// History: per pipeline or per org, done and failed per hour over 7 days as server-drawn columns,
/// with the p95 run time, from the same rollup `/internal/history` serves.
extension Dashboard {
    static let historyHours = 7 * 24

    func history(_ call: DashboardCall) async throws -> Response {
        let byOrg = call.field("by") == "org"
        let query = Operations.GetJobHistory.Input.Query(by: byOrg ? .org : .pipeline, pipeline: call.field("pipeline"), orgId: call.field("orgId"))
        let series = try await service.getJobHistory(.init(query: query)).ok.body.json.series
        let hourNow = Calendar(identifier: .gregorian).dateInterval(of: .hour, for: Date())?.start ?? Date()
        let start = hourNow.addingTimeInterval(-Double(Self.historyHours - 1) * 3600)
        let tallest = max(1, series.flatMap(\.hours).map { $0.done + $0.failed }.max() ?? 1)
        let rows: [[String: Any]] = series.map { entry in
            let columns: [[String: Any]] = entry.hours.compactMap { hour in
                let index = Int((hour.hour.timeIntervalSince(start) / 3600).rounded())
                guard (0..<Self.historyHours).contains(index) else { return nil }
                let done = 40.0 * Double(hour.done) / Double(tallest)
                let failed = 40.0 * Double(hour.failed) / Double(tallest)
                return [
                    "x": index * 3, "doneY": 40 - done, "doneHeight": done, "failedY": 40 - done - failed, "failedHeight": failed,
                    "label": "\(DashboardFormat.time(hour.hour)): \(hour.done) done, \(hour.failed) failed, "
                        + "p95 \(DashboardFormat.millis(hour.p95RunMs))",
                ]
            }
            let worst = entry.hours.compactMap(\.p95RunMs).max()
            let latest = entry.hours.last { $0.p95RunMs != nil }?.p95RunMs
            return [
                "key": entry.key.isEmpty ? "platform jobs" : entry.key, "columns": columns,
                "done": entry.hours.reduce(0) { $0 + $1.done }, "failed": entry.hours.reduce(0) { $0 + $1.failed },
                "p95Worst": DashboardFormat.millis(worst), "p95Latest": DashboardFormat.millis(latest),
            ]
        }
        let data: [String: Any] = [
            "series": rows, "empty": rows.isEmpty, "byOrg": byOrg, "width": Self.historyHours * 3,
            "pipeline": call.field("pipeline") ?? "", "orgId": call.field("orgId") ?? "",
        ]
        return page("history", data, title: "History", for: call)
    }
}
