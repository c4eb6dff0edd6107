import Logging
import PostgresNIO
import Testing

@testable import Actors

/// A job that fails on a Postgres error records what Postgres said, not PostgresNIO's "Generic description".
struct ErrorDescriptionTests {
    @Test func aPostgresErrorIsDescribedByItsMessageAndCode() async throws {
        try await Harness.run { h in
            do {
                try await h.db.query("SELECT * FROM no_such_table_here", logger: Logger(label: "t")).consume()
                Issue.record("the query should have failed")
            } catch {
                #expect(ErrorDescription.of(error) == #"Postgres error 42P01: relation "no_such_table_here" does not exist"#)
            }
            #expect(ErrorDescription.of(NonRetryableError("plain")) == String(describing: NonRetryableError("plain")))
        }
    }
}
