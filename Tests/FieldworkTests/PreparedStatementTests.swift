import Foundation
import Logging
import PostgresNIO
import Store
import Testing

/// A named prepared statement refused at prepare, say by a worker that started before a migration added its column:
/// PostgresNIO keeps the failed preparation for the connection's life, so `QueryRunner.run` closes that connection and
/// the statement works again once the schema has what it needs.
@Suite struct PreparedStatementTests {
    struct NoteStatement: PostgresPreparedStatement {
        static let sql = "SELECT note FROM prepare_probe ORDER BY id"
        typealias Row = PostgresRow
        func makeBindings() throws -> PostgresBindings { PostgresBindings() }
    }

    @Test func aStatementRefusedAtPrepareWorksOnceTheSchemaHasItsColumn() async throws {
        try await InfrastructureTests.withScratchDatabase { url in
            let logger = Logger(label: "test")
            // `client` runs the statement on a pool of one connection; `schema` changes the table beside it.
            var configuration = try DatabaseSettings.configuration(url: url)
            configuration.options.maximumConnections = 1
            let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
            let schema = PostgresClient(configuration: try DatabaseSettings.configuration(url: url), backgroundLogger: logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await client.run() }
                group.addTask { await schema.run() }
                defer { group.cancelAll() }
                try await schema.run("CREATE TABLE prepare_probe (id int)", logger: logger).consume()
                let refused = await #expect(throws: PSQLError.self) { try await client.run(NoteStatement(), logger: logger) }
                #expect(refused?.serverInfo?[.sqlState] == "42703", "an unknown column")
                try await schema.run("ALTER TABLE prepare_probe ADD COLUMN note text", logger: logger).consume()
                try await schema.run("INSERT INTO prepare_probe VALUES (1, 'here')", logger: logger).consume()
                // The one connection of the pool is replaced as its close completes: until then a run may find it closed.
                try await waitUntil("the statement prepares afresh", timeout: .seconds(20)) {
                    guard let rows = try? await client.run(NoteStatement(), logger: logger) else { return false }
                    var notes: [String] = []
                    for try await note in rows.decode(String.self) { notes.append(note) }
                    return notes == ["here"]
                }
            }
        }
    }
}
