import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A Postgres of one test's own (initdb into a temporary directory, its own port), which the test
/// may stop and start again: the shared stack must never go down under the other tests.
final class PrivatePostgres: Sendable {
    static let bin = "/usr/lib/postgresql/15/bin"
    let port: Int
    let directory: String
    var url: String { "postgres://fieldwork@127.0.0.1:\(port)/postgres" }

    private init(port: Int, directory: String) {
        self.port = port
        self.directory = directory
    }

    /// Creates and starts the cluster (a few seconds).
    static func start() async throws -> PrivatePostgres {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pg-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if getuid() == 0 { _ = try await Child.run(["chown", "postgres", directory]) }
        _ = try await Child.run(
            asOwner(["\(bin)/initdb", "-D", directory, "-U", "fieldwork", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]))
        // A random port may be taken (the suite's own servers listen on ephemeral ports too): try another.
        var failure: (any Error)?
        for _ in 0..<5 {
            let server = PrivatePostgres(port: Int.random(in: 41_000...48_000), directory: directory)
            do {
                try await server.startAgain()
                return server
            } catch {
                failure = error
            }
        }
        throw failure ?? TestFailure("the private Postgres did not start")
    }

    /// Starts the stopped cluster and waits until it accepts connections.
    func startAgain() async throws {
        _ = try await Child.run(
            Self.asOwner([
                "\(Self.bin)/pg_ctl", "-D", directory, "-l", "\(directory)/server.log", "-w", "-t", "30", "start", "-o",
                "-c listen_addresses=127.0.0.1 -p \(port) -k /tmp -c fsync=off -c max_connections=50",
            ]))
    }

    /// Stops the cluster at once (`-m fast`: sessions are cut, as in a failover).
    func stop() async throws {
        _ = try await Child.run(Self.asOwner(["\(Self.bin)/pg_ctl", "-D", directory, "-m", "fast", "-w", "stop"]))
    }

    /// Stops the cluster if it runs and removes its files.
    func destroy() async {
        _ = try? await Child.run(Self.asOwner(["\(Self.bin)/pg_ctl", "-D", directory, "-m", "immediate", "-w", "stop"]))
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// initdb and postgres refuse to run as root: as root, run them as the `postgres` user.
    private static func asOwner(_ arguments: [String]) -> [String] {
        getuid() == 0 ? ["runuser", "-u", "postgres", "--"] + arguments : arguments
    }
}
