import Actors
import Foundation
import Hummingbird
import HummingbirdBcrypt
import Logging
import NIOPosix
import OpenAPIHummingbird
import OpenAPIRuntime
import Pipelines
import PostgresNIO
import ServiceLifecycle
import Store
import Telemetry

/// The clients one process shares: made once, run as services.
public struct AppClients: Sendable {
    public let db: PostgresClient
    public let redis: RedisClient
    public let storage: any ObjectStore
    public let jobs: JobSystem
    /// Whether Postgres answers right now (run it as a service: `DatabaseProbeService`).
    public let databaseProbe: DatabaseProbe

    /// `workerOnly`: the process runs only workers, whose ledger writes (claims, completions,
    /// heartbeats) commit asynchronously when `WORKER_ASYNC_COMMIT` is on. Losing the last
    /// moments of those to a Postgres crash re-runs a job (delivery is at least once); enqueues
    /// come from API processes and stay synchronous.
    public init(config: AppConfig, logger: Logger, workerOnly: Bool = false) throws {
        self.db = PostgresClient(
            configuration: try DatabaseSettings.configuration(url: config.databaseURL, asyncCommit: workerOnly && config.workerAsyncCommit),
            backgroundLogger: logger
        )
        self.databaseProbe = DatabaseProbe(configuration: try DatabaseSettings.connectionConfiguration(url: config.databaseURL), logger: logger)
        self.redis = try RedisClient(url: config.redisURL)
        self.storage = try makeObjectStore(url: config.storageURL)
        self.jobs = JobSystem(
            db: db,
            queue: JobQueue(redis: redis, prefix: config.redisKeyPrefix),
            catalog: try config.loadCatalog(),
            logger: logger
        )
    }

    /// What pipelines are built from in this process.
    public var pipelineDependencies: PipelineDependencies {
        PipelineDependencies(db: db, objectStore: storage, catalog: jobs.catalog)
    }
}

/// The API process's services in the order a `ServiceGroup` starts them; it stops them in
/// reverse: `roles` first (the workers hand their jobs back), then `HTTPDrainService` (new requests
/// answer 503 while the admitted ones finish), the database probe and client, and the application
/// (its listener) last, so a client meets a 503, never a closed port, while the process stops.
/// `roles` makes, from the process's clients, what runs beside the API (the `all` command's
/// workers and scheduler, wired in Orchestrator). Migrations run before the server starts unless
/// `migrate` is false.
public func apiServices(
    config: AppConfig,
    logger: Logger,
    migrate: Bool = true,
    roles: (AppClients) throws -> [any Service] = { _ in [] }
) async throws -> [any Service] {
    let clients = try AppClients(config: config, logger: logger)
    let app = try await application(config: config, clients: clients, logger: logger, migrate: migrate)
    let support: [any Service] = [clients.db, DatabaseProbeService(probe: clients.databaseProbe), HTTPDrainService(grace: config.shutdownGrace)]
    return [app] + support + (try roles(clients))
}

/// The API application with its clients inside it (the tests' harness runs it alone).
public func buildApplication(config: AppConfig, logger: Logger, migrate: Bool = true) async throws -> some ApplicationProtocol {
    let clients = try AppClients(config: config, logger: logger)
    var app = try await application(config: config, clients: clients, logger: logger, migrate: migrate)
    app.addServices(clients.db, DatabaseProbeService(probe: clients.databaseProbe))
    return app
}

/// The router on a listener; migrations before the server starts (unless `migrate` is false).
private func application(
    config: AppConfig,
    clients: AppClients,
    logger: Logger,
    migrate: Bool
) async throws -> Application<RouterResponder<AppRequestContext>> {
    let router = try await buildRouter(config: config, clients: clients, logger: logger)
    var app = Application(
        router: router,
        configuration: .init(address: .hostname(config.host, port: config.port), serverName: "fieldwork"),
        logger: logger
    )
    if migrate {
        app.beforeServerStarts {
            try await Migrator(client: clients.db, logger: logger).migrate()
        }
    }
    return app
}

/// The router: metrics, then the ordered middleware (request id, 503 while stopping, CORS, access log, error envelope,
/// database outage, authentication, body policy), then the operations generated from `openapi/openapi.yaml`.
public func buildRouter(config: AppConfig, clients: AppClients, logger: Logger) async throws -> Router<AppRequestContext> {
    Telemetry.bootstrapMetrics()
    let tokens = await AccessTokens(secret: config.jwtSecret, ttl: config.accessTokenTTL)
    let cost = config.bcryptCost
    let dummyHash = try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash("fieldwork-timing-equaliser", cost: cost) }
    let service = APIService(
        config: config,
        db: clients.db,
        redis: clients.redis,
        storage: clients.storage,
        jobs: clients.jobs,
        tokens: tokens,
        limiter: LoginRateLimiter(redis: clients.redis, prefix: config.redisKeyPrefix, policy: config.loginPolicy),
        logger: logger,
        dummyHash: dummyHash
    )
    let routes = try RouteTable.declared(by: service)
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: RequestIdMiddleware())
    router.add(middleware: ShutdownMiddleware(state: .process))
    router.add(middleware: CrossOriginMiddleware(allowedOrigins: config.corsAllowedOrigins))
    router.add(middleware: AccessLogMiddleware(logger: logger))
    router.add(middleware: ErrorEnvelopeMiddleware(routes: routes, maxJSONBodyBytes: config.maxJSONBodyBytes, logger: logger))
    router.add(middleware: DatabaseOutageMiddleware(probe: clients.databaseProbe))
    router.add(middleware: AuthenticationMiddleware(tokens: tokens))
    router.add(
        middleware: BodyPolicyMiddleware(jsonLimit: config.maxJSONBodyBytes, uploadLimit: config.maxUploadBytes, uploads: routes.uploads, declared: routes)
    )
    router.add(middleware: LiteralHeadersMiddleware())
    // Compact JSON: the runtime's default (sorted keys, pretty printed) cost a fifth of a voter page's CPU.
    try service.registerHandlers(on: router, configuration: .init(dateTranscoder: FlexibleISO8601(), jsonEncodingOptions: [.withoutEscapingSlashes]))
    // The operator dashboard: HTML beside the generated routes (not part of the frontend contract).
    try await Dashboard.load(service: service).register(on: router)
    return router
}

/// Runs the database probe until the process shuts down.
public struct DatabaseProbeService: Service {
    public let probe: DatabaseProbe

    public init(probe: DatabaseProbe) {
        self.probe = probe
    }

    public func run() async throws {
        let probe = probe
        try? await cancelWhenGracefulShutdown { await probe.run() }
    }
}
