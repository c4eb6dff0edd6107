import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
@_spi(TenantAuth) import Store

/// One signed-in dashboard request: the session, the form (or query) fields, the route parameters.
struct DashboardCall: Sendable {
    let request: Request
    let context: AppRequestContext
    let session: DashboardSession
    /// Query fields, or for a post its form fields; repeated names keep every value.
    let fields: [String: [String]]
    /// `?fragment=1`: the live refresh wants the page body only.
    var fragment: Bool { field("fragment") == "1" }

    /// The first non-empty value of `name`.
    func field(_ name: String) -> String? {
        fields[name]?.first { !$0.trimmingCharacters(in: .whitespaces).isEmpty }?.trimmingCharacters(in: .whitespaces)
    }

    func parameter(_ name: String) -> String { context.parameters.get(name) ?? "" }
}

/// Sign-in, sign-out and the gate every other page passes.
extension Dashboard {
    typealias Handler = @Sendable (Request, AppRequestContext) async throws -> Response

    /// Wraps a page: campaign tokens get 403, no live session goes to the sign-in form, a post
    /// without the session's CSRF token gets 403; the page then runs as the staff member (the
    /// service code sees a staff caller, so it authorises and audits as for a staff token).
    func signedIn(post: Bool = false, _ body: @escaping @Sendable (DashboardCall) async throws -> Response) -> Handler {
        { request, context in
            if case .member = RequestState.current.caller {
                return self.forbidden("campaign accounts cannot use the dashboard")
            }
            guard let token = DashboardCookies.value(DashboardSessions.cookieName, in: request),
                let session = try await sessions.session(token: token),
                service.config.staff.contains(where: { $0.email == session.staffEmail })
            else {
                return Self.redirect("/dashboard/login")
            }
            var fields = Self.fields(request.uri.query ?? "")
            if post {
                let form = try await request.body.collect(upTo: service.config.maxJSONBodyBytes)
                fields = Self.fields(String(buffer: form))
                guard let sent = fields["_csrf"]?.first, DashboardSessions.same(sent, session.csrfToken) else {
                    return self.forbidden("the form's CSRF token is missing or stale; reload the page")
                }
            }
            let call = DashboardCall(request: request, context: context, session: session, fields: fields)
            var state = RequestState.current
            state.caller = .staff(email: session.staffEmail)
            return await RequestState.$current.withValue(state) {
                do {
                    return try await body(call)
                } catch {
                    return self.errorPage(error, for: call)
                }
            }
        }
    }

    func forbidden(_ message: String) -> Response {
        page("error", ["status": 403, "message": message], title: "Forbidden", for: nil, status: .forbidden)
    }

    /// Whether this request's cookies get `Secure` (see `DashboardCookies.secure`).
    func secureCookies(_ request: Request, _ context: AppRequestContext) -> Bool {
        DashboardCookies.secure(request, remoteIP: context.remoteAddress?.ipAddress, insecureAllowed: service.config.dashboardInsecureCookies)
    }

    /// Fields of a query string or an `application/x-www-form-urlencoded` body.
    static func fields(_ encoded: String) -> [String: [String]] {
        var fields: [String: [String]] = [:]
        for pair in encoded.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String { String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            fields[decode(parts[0]), default: []].append(parts.count > 1 ? decode(parts[1]) : "")
        }
        return fields
    }

    func loginForm(_ request: Request, _ context: AppRequestContext, message: String? = nil, status: HTTPResponse.Status = .ok) async throws
        -> Response
    {
        let token = DashboardSessions.randomToken()
        let secure = secureCookies(request, context)
        let cookie = DashboardCookies.setCookie(DashboardSessions.loginCookieName, token, maxAge: 3600, secure: secure)
        var data: [String: Any] = ["loginToken": token]
        if let message { data["message"] = message }
        return page("login", data, title: "Sign in", for: nil, status: status, cookies: [cookie])
    }

    /// Checks the staff credentials with the JSON sign-in's code (its rate limiter, audit entries
    /// and timing), then opens a session.
    func login(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let body = try await request.body.collect(upTo: service.config.maxJSONBodyBytes)
        let fields = Self.fields(String(buffer: body))
        guard let sent = fields["_login"]?.first, let cookie = DashboardCookies.value(DashboardSessions.loginCookieName, in: request),
            DashboardSessions.same(sent, cookie)
        else {
            return try await loginForm(request, context, message: "The sign-in form expired; try again.", status: .forbidden)
        }
        let email = fields["email"]?.first ?? ""
        let password = fields["password"]?.first ?? ""
        do {
            _ = try await service.staffLogin(.init(body: .json(.init(email: email, password: password))))
        } catch let error as APIError where error.status == .unauthorized {
            if try await isCampaignAccount(email: email, password: password) {
                return try await loginForm(request, context, message: "Campaign accounts cannot use the dashboard.", status: .forbidden)
            }
            return try await loginForm(request, context, message: "Invalid email or password.", status: .unauthorized)
        } catch {
            let (status, message) = Self.describe(error)
            return try await loginForm(request, context, message: message, status: status)
        }
        let staff = email.lowercased().trimmingCharacters(in: .whitespaces)
        let account = service.config.staff.first { $0.email == staff }?.email ?? staff
        let token = try await sessions.open(for: account)
        let secure = secureCookies(request, context)
        return Self.redirect(
            "/dashboard",
            cookies: [
                DashboardCookies.setCookie(
                    DashboardSessions.cookieName,
                    token,
                    maxAge: Int(DashboardSessions.lifetime.components.seconds),
                    secure: secure
                ),
                DashboardCookies.setCookie(DashboardSessions.loginCookieName, "", maxAge: 0, secure: secure),
            ]
        )
    }

    /// Whether these are a campaign user's valid credentials (they get 403, not "invalid").
    private func isCampaignAccount(email: String, password: String) async throws -> Bool {
        guard let found = try await service.users.credentials(email: email, on: service.db), let hash = found.passwordHash else { return false }
        return try await service.passwordMatches(password, hash: hash)
    }

    func logout(_ call: DashboardCall) async throws -> Response {
        if let token = DashboardCookies.value(DashboardSessions.cookieName, in: call.request) { try await sessions.close(token: token) }
        let secure = secureCookies(call.request, call.context)
        return Self.redirect("/dashboard/login", cookies: [DashboardCookies.setCookie(DashboardSessions.cookieName, "", maxAge: 0, secure: secure)])
    }
}
