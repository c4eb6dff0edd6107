import Foundation
import Prometheus

/// The standard `process_*` gauges, read from /proc at scrape time (swift-prometheus has none).
final class ProcessMetrics: Sendable {
    static let shared = ProcessMetrics()
    private let startTime = Date().timeIntervalSince1970

    func update(registry: PrometheusCollectorRegistry) {
        registry.makeGauge(name: "process_start_time_seconds").set(startTime)
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        if let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) {
            let pages = statm.split(separator: " ").compactMap { Double($0) }
            if pages.count > 1 {
                registry.makeGauge(name: "process_virtual_memory_bytes").set(pages[0] * pageSize)
                registry.makeGauge(name: "process_resident_memory_bytes").set(pages[1] * pageSize)
            }
        }
        if let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        {
            // Fields after the command name: state is field 3, utime 14 and stime 15 (1-based).
            let rest = stat[stat.index(after: close)...].split(separator: " ")
            if rest.count > 13, let user = Double(rest[11]), let system = Double(rest[12]) {
                registry.makeGauge(name: "process_cpu_seconds_total").set((user + system) / ticks)
            }
        }
        if let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            registry.makeGauge(name: "process_open_fds").set(Double(fds.count))
        }
    }
}
