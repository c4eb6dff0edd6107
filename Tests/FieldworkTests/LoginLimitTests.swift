import Foundation
import HTTPTypes
import Testing

/// Sign-in limits: tight per account with doubling locks, loose per IP, staff counted apart.
@Suite struct LoginLimitTests {
    @Test func aSharedOfficeIPDoesNotLockEveryoneOut() async throws {
        try await Harness.run { h in
            let org = try await h.makeOrg()
            // Thirty canvassers behind one NAT mistype their passwords (all tests come from 127.0.0.1).
            for index in 0..<30 {
                let reply = try await h.login("canvasser\(index)-\(org.tag)@field.test", password: "wrong-password")
                #expect(reply.status == .unauthorized)
            }
            #expect(try await h.login(org.email(.admin)).status == .ok)
            #expect(try await h.login(org.email(.organizer)).status == .ok)
        }
    }

    @Test func campaignFailuresNeverBlockStaffSignIn() async throws {
        try await Harness.run({ $0.loginMaxFailuresPerIP = 10 }) { h in
            let org = try await h.makeOrg()
            for index in 0..<10 {
                _ = try await h.login("guess\(index)-\(org.tag)@field.test", password: "wrong-password")
            }
            let blocked = try await h.login(org.email(.admin))
            #expect(blocked.status == .tooManyRequests, "the per-IP limit still holds for campaign sign-in")
            let staff = try await h.call(
                .post,
                "/api/v1/internal/auth/login",
                json: ["email": TestEnv.staffEmail, "password": TestEnv.staffPassword]
            )
            #expect(staff.status == .ok)
        }
    }

    /// Three failures lock the account for the window (5 s: three sign-ins fit in it on a loaded machine); the next lock
    /// lasts twice as long;
    /// a successful sign-in forgets the history.
    @Test func accountLocksDoubleAndSuccessResetsThem() async throws {
        try await Harness.run({
            $0.loginMaxFailures = 3
            $0.loginRateWindow = .seconds(5)
        }) { h in
            let org = try await h.makeOrg()
            let email = org.email(.organizer)
            func lockFor() async throws -> Int {
                for _ in 0..<3 { #expect(try await h.login(email, password: "wrong-password").status == .unauthorized) }
                let locked = try await h.login(email)
                #expect(locked.status == .tooManyRequests)
                #expect(locked.errorCode == "RATE_LIMITED")
                return Int(locked.headers[.retryAfter] ?? "") ?? 0
            }
            func waitUntilFree() async throws {
                for _ in 0..<150 {
                    if try await h.login(email).status == .ok { return }
                    try await Task.sleep(for: .milliseconds(200))
                }
                Issue.record("the account stayed locked")
            }
            let first = try await lockFor()
            #expect((1...5).contains(first))
            try await Task.sleep(for: .seconds(first))
            // A wrong password after the lock: the history (one lock) is remembered until a success.
            for _ in 0..<3 { _ = try await h.login(email, password: "wrong-password") }
            let second = try await h.login(email)
            #expect(second.status == .tooManyRequests)
            #expect((6...10).contains(Int(second.headers[.retryAfter] ?? "") ?? 0), "the second lock lasts twice the window")
            try await waitUntilFree()
            #expect((1...5).contains(try await lockFor()), "a successful sign-in forgets earlier locks")
        }
    }
}
