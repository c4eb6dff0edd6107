import Foundation
import Logging
import NIOSSL
import PostgresNIO

/// Errors of the store that callers map to the API's envelope.
public enum StoreError: Error, Equatable {
    /// A `DATABASE_URL` that cannot be used, with the reason.
    case badDatabaseURL(String)
    /// A migration file failed; names the file.
    case migrationFailed(file: String, reason: String)
    /// Postgres answered in a way the code does not expect.
    case unexpected(String)
}

/// How to reach Postgres, parsed from a `postgres://user:password@host:port/db` URL.
public enum DatabaseSettings {
    /// `asyncCommit` sets `synchronous_commit = off` on the pool's sessions: commits return before
    /// the WAL reaches disk (a Postgres crash can lose the last moments of them, never corrupt).
    public static func configuration(url string: String, asyncCommit: Bool = false) throws -> PostgresClient.Configuration {
        guard let url = URLComponents(string: string), let scheme = url.scheme,
            ["postgres", "postgresql"].contains(scheme)
        else {
            throw StoreError.badDatabaseURL("expected postgres://user[:password]@host[:port]/database")
        }
        guard let host = url.host, !host.isEmpty else { throw StoreError.badDatabaseURL("missing host") }
        guard let user = url.user, !user.isEmpty else { throw StoreError.badDatabaseURL("missing user") }
        let database = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        guard !database.isEmpty else { throw StoreError.badDatabaseURL("missing database name") }
        let sslMode = url.queryItems?.first { $0.name == "sslmode" }?.value ?? "disable"
        let tls: PostgresClient.Configuration.TLS
        switch sslMode {
        case "disable": tls = .disable
        case "prefer": tls = .prefer(.clientDefault)
        case "require": tls = .require(.clientDefault)
        default: throw StoreError.badDatabaseURL("sslmode must be disable, prefer or require")
        }
        var configuration = PostgresClient.Configuration(
            host: host,
            port: url.port ?? 5432,
            username: user,
            password: url.password,
            database: database,
            tls: tls
        )
        configuration.options.maximumConnections = 20
        configuration.options.minimumConnections = 1
        configuration.options.connectionIdleTimeout = .seconds(60)
        if asyncCommit { configuration.options.additionalStartupParameters = [("synchronous_commit", "off")] }
        return configuration
    }

    /// Settings for one dedicated connection (the scheduler's leader lock lives on one).
    public static func connectionConfiguration(url string: String) throws -> PostgresConnection.Configuration {
        let pooled = try configuration(url: string)
        guard let url = URLComponents(string: string) else { throw StoreError.badDatabaseURL("unparsable URL") }
        let tls: PostgresConnection.Configuration.TLS
        switch url.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? "disable" {
        case "prefer": tls = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case "require": tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        default: tls = .disable
        }
        return PostgresConnection.Configuration(
            host: pooled.host ?? "127.0.0.1",
            port: pooled.port ?? 5432,
            username: pooled.username,
            password: pooled.password,
            database: pooled.database,
            tls: tls
        )
    }
}
