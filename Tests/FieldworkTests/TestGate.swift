import Foundation

/// Bounds how many tests hold a live world (an application, a scratch database, a private
/// Postgres) at once. Swift Testing starts every test of the suite together; on a 2-core machine
/// that is more Postgres connections than the stack allows and more load than timing-sensitive
/// tests can bear. `FIELDWORK_TEST_SLOTS` sets the width (default 8). Nested worlds inside one
/// test share the slot the test already holds, so nesting never deadlocks.
actor TestGate {
    static let shared = TestGate(
        width: ProcessInfo.processInfo.environment["FIELDWORK_TEST_SLOTS"].flatMap(Int.init) ?? 8)

    @TaskLocal static var holding = false

    private let width: Int
    private var inUse = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    private init(width: Int) { self.width = max(1, width) }

    /// Runs `body` holding a slot (or the slot the calling test already holds).
    static func slot<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        if holding { return try await body() }
        await shared.acquire()
        do {
            let value = try await $holding.withValue(true) { try await body() }
            await shared.release()
            return value
        } catch {
            await shared.release()
            throw error
        }
    }

    private func acquire() async {
        if inUse < width {
            inUse += 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    private func release() {
        if waiting.isEmpty {
            inUse -= 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}
