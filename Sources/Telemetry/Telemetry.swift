import Foundation
import Logging
import Metrics
import Prometheus

/// Process-wide logging and metrics set-up. Both swift-log and swift-metrics accept one bootstrap
/// per process, so this runs once however many applications (tests) are built.
public enum Telemetry {
    /// The registry `/metrics` renders.
    public static let registry = PrometheusCollectorRegistry()

    private static let bootstrapOnce: Void = {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    }()

    /// Installs JSON logging at `level` and the Prometheus metrics factory.
    public static func bootstrap(level: Logger.Level, sink: LogSink = .standard) {
        bootstrapLogging(level: level, sink: sink)
        bootstrapMetrics()
    }

    public static func bootstrapMetrics() {
        _ = bootstrapOnce
    }

    private static let loggingLock = NSLock()
    nonisolated(unsafe) private static var loggingBootstrapped = false

    public static func bootstrapLogging(level: Logger.Level, sink: LogSink = .standard) {
        loggingLock.lock()
        defer { loggingLock.unlock() }
        guard !loggingBootstrapped else { return }
        loggingBootstrapped = true
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level, sink: sink) }
    }

    /// A logger writing JSON to `sink` regardless of the global bootstrap.
    public static func logger(label: String, level: Logger.Level, sink: LogSink = .standard) -> Logger {
        Logger(label: label) { label in JSONLogHandler(label: label, level: level, sink: sink) }
    }

    /// The Prometheus text for a scrape, with the process gauges brought up to date first.
    public static func renderMetrics() -> String {
        ProcessMetrics.shared.update(registry: registry)
        var buffer = [UInt8]()
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
