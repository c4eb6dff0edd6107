import Foundation
import HTTPTypes
import PostgresNIO
import Testing

@testable import Actors

/// A signed-in dashboard browser: the session cookie and the page's CSRF token.
struct DashboardBrowser {
    let h: Harness
    let cookie: String
    let csrf: String

    static let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    /// `name="<field>" value="…"` of a page.
    static func hidden(_ field: String, in html: String) -> String? {
        guard let range = html.range(of: "name=\"\(field)\" value=\"") else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }

    /// The value a response sets for cookie `name`, with its attributes.
    static func setCookie(_ name: String, in reply: Harness.Reply) -> String? {
        reply.headers[values: .setCookie].first { $0.hasPrefix("\(name)=") }
    }

    static func encode(_ fields: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&")
    }

    /// Posts the sign-in form (after fetching it, for its double-submit token).
    static func postLogin(_ h: Harness, email: String, password: String, headers extra: HTTPFields = [:]) async throws -> Harness.Reply {
        let form = try await h.call(.get, "/dashboard/login", headers: extra)
        let token = try #require(hidden("_login", in: form.text))
        let cookie = try #require(setCookie("fw_dash_login", in: form)).split(separator: ";")[0]
        var headers = Self.form
        headers.append(contentsOf: extra)
        headers[.cookie] = String(cookie)
        let body = encode([("_login", token), ("email", email), ("password", password)])
        return try await h.call(.post, "/dashboard/login", raw: body, headers: headers)
    }

    static func signIn(_ h: Harness) async throws -> DashboardBrowser {
        let reply = try await postLogin(h, email: TestEnv.staffEmail, password: TestEnv.staffPassword)
        guard reply.status == .seeOther, let set = setCookie("fw_dash", in: reply) else {
            throw TestFailure("dashboard sign-in failed: \(reply.status) \(reply.text)")
        }
        let cookie = String(set.split(separator: ";")[0])
        let page = try await h.call(.get, "/dashboard", headers: [.cookie: cookie])
        return DashboardBrowser(h: h, cookie: cookie, csrf: try #require(hidden("_csrf", in: page.text)))
    }

    func get(_ path: String) async throws -> Harness.Reply {
        try await h.call(.get, path, headers: [.cookie: cookie])
    }

    /// Posts a form with the session's CSRF token (or `csrf`, to test refusals).
    func post(_ path: String, _ fields: [(String, String)] = [], csrf: String? = nil) async throws -> Harness.Reply {
        var headers = Self.form
        headers[.cookie] = cookie
        return try await h.call(.post, path, raw: Self.encode([("_csrf", csrf ?? self.csrf)] + fields), headers: headers)
    }
}

@Suite struct DashboardTests {
    @Test func signInSessionCookieAndSignOut() async throws {
        try await Harness.run { h in
            let anonymous = try await h.call(.get, "/dashboard")
            #expect(anonymous.status == .seeOther && anonymous.headers[.location] == "/dashboard/login")
            let form = try await h.call(.get, "/dashboard/login")
            #expect(form.status == .ok && form.headers[.contentType]?.hasPrefix("text/html") == true)
            let csp = form.headers[HTTPField.Name("Content-Security-Policy")!] ?? ""
            #expect(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline") && csp.contains("frame-ancestors 'none'"))
            #expect(form.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")

            let wrong = try await DashboardBrowser.postLogin(h, email: TestEnv.staffEmail, password: "wrong-password")
            #expect(wrong.status == .unauthorized && wrong.text.contains("Invalid email or password"))
            var noToken = DashboardBrowser.form
            noToken[.cookie] = "fw_dash_login=abc"
            let forged = try await h.call(.post, "/dashboard/login", raw: "_login=xyz&email=a%40b.c&password=12345678", headers: noToken)
            #expect(forged.status == .forbidden, "a sign-in post without the form's own token is refused")

            let ok = try await DashboardBrowser.postLogin(h, email: TestEnv.staffEmail, password: TestEnv.staffPassword)
            let cookie = try #require(DashboardBrowser.setCookie("fw_dash", in: ok))
            #expect(ok.status == .seeOther && ok.headers[.location] == "/dashboard")
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/dashboard"))
            #expect(!cookie.contains("Secure"), "plain http on loopback: no Secure (the browser would drop the cookie)")
            let proxied = try await DashboardBrowser.postLogin(
                h,
                email: TestEnv.staffEmail,
                password: TestEnv.staffPassword,
                headers: [HTTPField.Name("X-Forwarded-Proto")!: "https"]
            )
            #expect(DashboardBrowser.setCookie("fw_dash", in: proxied)?.contains("; Secure") == true)

            let browser = try await DashboardBrowser.signIn(h)
            let overview = try await browser.get("/dashboard")
            #expect(overview.status == .ok && overview.text.contains("id=\"pipelines\"") && overview.text.contains(TestEnv.staffEmail))
            let fragment = try await browser.get("/dashboard?fragment=1")
            #expect(fragment.text.contains("id=\"pipelines\"") && !fragment.text.contains("<html"))
            #expect(try await browser.get("/dashboard/tenants").status == .ok)
            #expect(try await browser.get("/dashboard/schedules").status == .ok)
            #expect(try await browser.get("/dashboard/dead-letters").status == .ok)

            let forgedOut = try await browser.post("/dashboard/logout", csrf: "not-the-token")
            #expect(forgedOut.status == .forbidden, "a changing form without the session's CSRF token is refused")
            #expect(try await browser.get("/dashboard").status == .ok)
            let out = try await browser.post("/dashboard/logout")
            #expect(out.status == .seeOther && DashboardBrowser.setCookie("fw_dash", in: out)?.contains("Max-Age=0") == true)
            #expect(try await browser.get("/dashboard").status == .seeOther, "the session ends at sign-out")
            let logins = try await all(
                h.db.query(
                    "SELECT count(*)::int8 FROM audit_logs WHERE action = 'staff.login' AND request_id = \(ok.requestId!)",
                    logger: .init(label: "test")
                ).decode(Int.self)
            )
            #expect(logins == [1], "dashboard sign-in is audited as the JSON sign-in is")
        }
    }

    @Test func campaignAccountsAreRefused() async throws {
        try await Harness.run { h in
            let org = try await h.makeOrg()
            let login = try await DashboardBrowser.postLogin(h, email: org.email(.admin), password: TestEnv.password)
            #expect(login.status == .forbidden && DashboardBrowser.setCookie("fw_dash", in: login) == nil, "\(login.status)")
            let token = try await h.token(org.email(.admin))
            let page = try await h.call(.get, "/dashboard", token: token)
            #expect(page.status == .forbidden)
        }
    }

    @Test func jobActionsAreAuditedAndValuesEscaped() async throws {
        try await Orchestra.run { o in
            let org = try await o.h.makeOrg()
            let staff = try await o.h.staffToken()
            try await o.withWorker { _ in
                let args: [String: Any] = ["retryable": false, "message": "<script>alert(1)</script>"]
                try await o.enqueue("fail", count: 3, orgIds: [org.id], args: args, token: staff)
                try await waitUntil("3 dead", timeout: .seconds(20)) { try await o.states(org: org.id)["dead"] == 3 }
            }
            let browser = try await DashboardBrowser.signIn(o.h)
            let ids = try await all(o.h.db.query("SELECT id FROM jobs WHERE org_id = \(org.id) ORDER BY id", logger: o.logger).decode(UUID.self))
                .map { $0.uuidString.lowercased() }
            let page = try await browser.get("/dashboard/jobs/\(ids[0])")
            #expect(page.status == .ok && page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            #expect(!page.text.contains("<script>alert"), "attacker-controlled errors and arguments are inert")
            let listed = try await browser.get("/dashboard/jobs?state=dead&args=retryable:%3Dfalse&orgId=\(org.idString)")
            #expect(listed.text.components(separatedBy: "data-job=").count - 1 == 3, "the page filters by arguments like the JSON")

            func state(_ index: Int) async throws -> JobState { try await o.job(UUID(uuidString: ids[index])!).state }
            let refused = try await browser.post("/dashboard/jobs/\(ids[0])/retry", csrf: "forged")
            #expect(refused.status == .forbidden)
            #expect(try await state(0) == .dead)
            let retried = try await browser.post("/dashboard/jobs/\(ids[0])/retry")
            #expect(retried.status == .seeOther)
            #expect(try await state(0) == .queued)
            let wrongState = try await browser.post("/dashboard/jobs/\(ids[0])/discard")
            #expect(wrongState.status == .conflict && wrongState.text.contains("the job is queued"))
            let badArgs = try await browser.post("/dashboard/jobs/\(ids[1])/args", [("args", "{\"retryable\": 7}")])
            #expect(badArgs.status == .badRequest)
            let edited = try await browser.post("/dashboard/jobs/\(ids[1])/args", [("args", "{\"retryable\": false, \"message\": \"fixed\"}")])
            #expect(edited.status == .seeOther)
            #expect(try await o.job(UUID(uuidString: ids[1])!).argsJSON.contains("fixed"))
            let discarded = try await browser.post("/dashboard/jobs/\(ids[2])/discard")
            #expect(discarded.status == .seeOther)
            #expect(try await state(2) == .discarded)
            let actions = try await all(
                o.h.db.query(
                    """
                    SELECT action FROM audit_logs WHERE actor_id = \(TestEnv.staffEmail) AND actor_kind = 'staff' AND entity_id = ANY(\(ids))
                    ORDER BY at
                    """,
                    logger: o.logger
                ).decode(String.self)
            )
            #expect(actions == ["job.retried", "job.args_edited", "job.discarded"], "\(actions)")
        }
    }

    @Test func bulkRetryConfirmsTheDryRunCount() async throws {
        try await Orchestra.run { o in
            let org = try await o.h.makeOrg()
            let staff = try await o.h.staffToken()
            try await o.withWorker { _ in
                try await o.enqueue("fail", count: 4, orgIds: [org.id], args: ["retryable": false], token: staff)
                try await waitUntil("4 dead", timeout: .seconds(20)) { try await o.states(org: org.id)["dead"] == 4 }
            }
            let browser = try await DashboardBrowser.signIn(o.h)
            let groups = try await browser.get("/dashboard/dead-letters")
            #expect(groups.text.contains("data-org=\"\(org.idString)\""))
            let filter = [("pipeline", "fail"), ("orgId", org.idString)]
            let dry = try await browser.post("/dashboard/dead-letters/retry", filter)
            #expect(dry.status == .ok && dry.text.contains("<strong id=\"matched\">4</strong>"), "\(dry.text)")
            #expect(try await o.states(org: org.id)["dead"] == 4, "the dry run changes nothing")
            let stale = try await browser.post("/dashboard/dead-letters/retry", filter + [("expected", "7")])
            #expect(stale.text.contains("changed from 7 to 4"))
            #expect(try await o.states(org: org.id)["dead"] == 4)
            let confirmed = try await browser.post("/dashboard/dead-letters/retry", filter + [("expected", "4")])
            #expect(confirmed.status == .seeOther)
            let after = try await o.states(org: org.id)
            #expect((after["scheduled"] ?? 0) + (after["queued"] ?? 0) == 4, "\(after)")
            let audited = try await o.scalar(
                "SELECT (changes->>'retried')::int8 FROM audit_logs WHERE action = 'jobs.bulk_retried' AND actor_id = \(TestEnv.staffEmail)",
                as: Int.self
            )
            #expect(audited == 4)
        }
    }
}

/// Every element of a row sequence.
func all<S: AsyncSequence>(_ sequence: S) async throws -> [S.Element] {
    var out: [S.Element] = []
    for try await element in sequence { out.append(element) }
    return out
}
