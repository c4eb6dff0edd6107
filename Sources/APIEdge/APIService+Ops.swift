import Foundation
import OpenAPIRuntime
import Telemetry

extension APIService {
    func getHealth(_ input: Operations.GetHealth.Input) async throws -> Operations.GetHealth.Output {
        .ok(.init(body: .json(.init(status: .ok))))
    }

    func getReady(_ input: Operations.GetReady.Input) async throws -> Operations.GetReady.Output {
        async let database = probe { _ = try await self.db.run("SELECT 1", logger: self.logger).collect() }
        async let queue = probe { _ = try await self.redis.command("PING") }
        async let store = probe { try await self.storage.checkHealth() }
        let checks = Components.Schemas.Readiness.ChecksPayload(database: await database, queue: await queue, storage: await store)
        let failing = [("database", checks.database), ("queue", checks.queue), ("storage", checks.storage)].filter { $0.1 != "ok" }
        if failing.isEmpty {
            return .ok(.init(body: .json(.init(status: .ready, checks: checks))))
        }
        let message = failing.map { "\($0.0): \($0.1)" }.joined(separator: "; ")
        logger.warning("not ready", metadata: ["failing": .string(message)])
        return .serviceUnavailable(
            .init(
                body: .json(
                    .init(
                        status: .unavailable,
                        checks: checks,
                        error: .init(code: "UNAVAILABLE", message: message, requestId: request.requestId)
                    )
                )
            )
        )
    }

    /// "ok", or "failed: why" when the check throws or takes longer than two seconds.
    private func probe(_ check: @escaping @Sendable () async throws -> Void) async -> String {
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await check() }
                group.addTask {
                    try await Task.sleep(for: .seconds(2))
                    throw CancellationError()
                }
                try await group.next()
                group.cancelAll()
            }
            return "ok"
        } catch is CancellationError {
            return "failed: timed out"
        } catch {
            return "failed: \(error)"
        }
    }

    func getMetrics(_ input: Operations.GetMetrics.Input) async throws -> Operations.GetMetrics.Output {
        .ok(.init(body: .plainText(HTTPBody(Telemetry.renderMetrics()))))
    }

    func getOpenAPIDocument(_ input: Operations.GetOpenAPIDocument.Input) async throws -> Operations.GetOpenAPIDocument.Output {
        .ok(.init(body: .yaml(HTTPBody(OpenAPIDocument.text))))
    }
}

/// The contract this server was generated from, served at `/openapi.yaml`.
enum OpenAPIDocument {
    static let text: String = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml", subdirectory: "Resources"),
            let text = try? String(contentsOf: url, encoding: .utf8)
        else { return "openapi: 3.1.0\n" }
        return text
    }()
}
