import Foundation
import HTTPTypes
import Testing

/// Postgres stopped under a running API (a failover, a minor upgrade): every API request answers
/// 503 `UNAVAILABLE` within seconds, never 500 and never a minute's wait; it recovers on its own.
@Suite struct DatabaseOutageTests {
    @Test func aStoppedDatabaseIs503AtOnceAndTheAPIRecovers() async throws {
        let postgres = try await PrivatePostgres.start()
        do {
            try await Harness.run({ $0.databaseURL = postgres.url }) { h in
                let org = try await h.makeOrg()
                let token = try await h.token(org.email(.admin))
                #expect(try await h.call(.get, "/api/v1/me", token: token).status == .ok)

                try await postgres.stop()
                var statuses: [HTTPResponse.Status] = []
                try await waitUntil("the API answers 503", timeout: .seconds(15)) {
                    let reply = try await h.call(.get, "/api/v1/me", token: token)
                    statuses.append(reply.status)
                    return reply.status == .serviceUnavailable
                }
                #expect(!statuses.contains(.internalServerError), "no 500 while the database goes away: \(statuses)")
                for path in ["/api/v1/me", "/api/v1/voters", "/api/v1/lists"] {
                    let started = ContinuousClock.now
                    let reply = try await h.call(.get, path, token: token)
                    #expect(reply.status == .serviceUnavailable, "\(path)")
                    #expect(reply.errorCode == "UNAVAILABLE")
                    #expect(ContinuousClock.now - started < .seconds(1), "\(path) answered at once, not after the pool's circuit breaker")
                }
                let login = try await h.login(org.email(.admin))
                #expect(login.status == .serviceUnavailable)
                #expect(try await h.call(.get, "/ready").status == .serviceUnavailable)
                #expect(try await h.call(.get, "/health").status == .ok)

                try await postgres.startAgain()
                try await waitUntil("the API recovers", timeout: .seconds(30), every: .milliseconds(200)) {
                    try await h.call(.get, "/api/v1/me", token: token).status == .ok
                }
                #expect(try await h.call(.get, "/ready").status == .ok)
            }
        } catch {
            await postgres.destroy()
            throw error
        }
        await postgres.destroy()
    }
}
