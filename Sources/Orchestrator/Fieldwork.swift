import APIEdge
import ArgumentParser
import Foundation
import Hummingbird
import HummingbirdBcrypt
import Logging
import PostgresNIO
import ServiceLifecycle
import Store
import Telemetry

/// `fieldwork`: one binary for the API server, the workers and the scheduler.
@main
struct Fieldwork: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fieldwork",
        abstract: "Fieldwork: campaign field platform backend and job orchestrator.",
        subcommands: [Serve.self, Work.self, Schedule.self, All.self, Migrate.self, Seed.self, HashPassword.self, BenchParse.self]
    )
}

/// Reads the environment, installs JSON logging and metrics; exits with the bad variable named.
func loadConfig() -> (AppConfig, Logger) {
    do {
        let config = try AppConfig.fromEnvironment()
        _ = try config.loadCatalog()
        Telemetry.bootstrap(level: config.logLevel)
        return (config, Logger(label: "fieldwork"))
    } catch {
        FileHandle.standardError.write(Data("fieldwork: configuration error: \(error)\n".utf8))
        Foundation.exit(78)
    }
}

struct MigrateFlag: ParsableArguments {
    @Flag(name: .customLong("no-migrate"), help: "Do not apply pending migrations at start.")
    var noMigrate = false
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the HTTP API.")
    @OptionGroup var options: MigrateFlag

    func run() async throws {
        let (config, logger) = loadConfig()
        ShutdownDeadline.arm(grace: config.shutdownGrace, logger: logger)
        try await runAPI(try await apiServices(config: config, logger: logger, migrate: !options.noMigrate), logger: logger)
    }
}

struct All: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the API and run the workers and the scheduler in one process.")
    @OptionGroup var options: MigrateFlag

    func run() async throws {
        let (config, logger) = loadConfig()
        ShutdownDeadline.arm(grace: config.shutdownGrace, logger: logger)
        // Migrations first, before any service starts: the workers and the scheduler prepare their statements as they
        // start, and PostgresNIO keeps a statement that failed to prepare (against a schema still being migrated)
        // failed for its connection's life.
        if !options.noMigrate {
            try await withDatabase(config: config, logger: logger) { client, logger in _ = try await Migrator(client: client, logger: logger).migrate() }
        }
        let services = try await apiServices(config: config, logger: logger, migrate: false) { clients in
            try [Role.worker, .scheduler].map { try $0.service(clients, config: config, logger: logger) }
        }
        try await runAPI(services, logger: logger)
    }
}

/// Runs the API's services until SIGTERM or SIGINT, then stops them in reverse order (see `apiServices`).
func runAPI(_ services: [any Service], logger: Logger) async throws {
    let group = ServiceGroup(
        configuration: .init(services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    )
    try await group.run()
}

struct Work: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run job workers (the supervisor, its tenant pipelines and the maintenance loops).")
    func run() async throws { try await runRole(.worker) }
}

struct Schedule: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the scheduler (one leader at a time across processes).")
    func run() async throws { try await runRole(.scheduler) }
}

/// Runs `body` with a started Postgres client, then shuts the client down.
func withDatabase(_ body: @escaping @Sendable (PostgresClient, Logger) async throws -> Void) async throws {
    let (config, logger) = loadConfig()
    try await withDatabase(config: config, logger: logger, body)
}

/// Runs `body` with a started Postgres client of `config`'s database, then shuts the client down.
func withDatabase(config: AppConfig, logger: Logger, _ body: @escaping @Sendable (PostgresClient, Logger) async throws -> Void) async throws {
    let client = PostgresClient(configuration: try DatabaseSettings.configuration(url: config.databaseURL), backgroundLogger: logger)
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await client.run() }
        defer { group.cancelAll() }
        try await body(client, logger)
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending database migrations.")
    func run() async throws {
        try await withDatabase { client, logger in
            let applied = try await Migrator(client: client, logger: logger).migrate()
            logger.info("migrations done", metadata: ["applied": .stringConvertible(applied.count)])
        }
    }
}

struct Seed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Seed data.")
    @Flag(help: "Create the demo organization and its users (idempotent).") var demo = false

    func run() async throws {
        guard demo else { throw ValidationError("nothing to seed: pass --demo") }
        try await withDatabase { client, logger in
            try await Migrator(client: client, logger: logger).migrate()
            let orgId = try await DemoSeed.run(client: client, logger: logger)
            var text = "Demo organization \"Demo Campaign\" (\(orgId.uuidString.lowercased()))\n"
            for person in DemoSeed.people {
                text +=
                    "  \(person.role.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \(person.email)  password: \(DemoSeed.password)\n"
            }
            text += "  staff      \(DemoSeed.staffEmail)  password: \(DemoSeed.staffPassword)  (when FIELDWORK_STAFF holds it, as ops/run sets)\n"
            print(text, terminator: "")
        }
    }
}

struct HashPassword: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Read a password on stdin and print its bcrypt hash.")
    @Option(help: "bcrypt cost (10...16).") var cost: UInt8 = 12

    func run() async throws {
        guard (10...16).contains(cost) else { throw ValidationError("--cost must be 10...16") }
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            throw ValidationError("expected a password on standard input")
        }
        print(Bcrypt.hash(line, cost: cost))
    }
}
