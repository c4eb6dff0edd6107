import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Mustache
import Store
import NIOCore

/// The operator dashboard at `/dashboard`: server-rendered pages over the same service code the
/// `/internal/*` JSON routes run (the page's actions are their JSON twins, audited the same), for
/// signed-in staff only. Not part of the frontend contract, so registered on the router beside the
/// generated routes; its errors are HTML pages, never the JSON envelope.
struct Dashboard: Sendable {
    let service: APIService
    let library: MustacheLibrary
    let sessions: DashboardSessions
    /// The script and style sheet, by file name, read once at start.
    let assets: [String: (type: String, body: ByteBuffer)]

    /// Loads the templates and assets shipped in `Resources/dashboard`.
    static func load(service: APIService) async throws -> Dashboard {
        guard let directory = Bundle.module.url(forResource: "dashboard", withExtension: nil, subdirectory: "Resources") else {
            throw DashboardError.missingResources
        }
        let library = try await MustacheLibrary(directory: directory.path)
        var assets: [String: (type: String, body: ByteBuffer)] = [:]
        for (name, type) in [("dashboard.js", "text/javascript; charset=utf-8"), ("dashboard.css", "text/css; charset=utf-8")] {
            let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            assets[name] = (type, ByteBuffer(string: text))
        }
        return Dashboard(service: service, library: library, sessions: DashboardSessions(db: service.db, logger: service.logger), assets: assets)
    }

    func register(on router: Router<AppRequestContext>) {
        router.get("/dashboard/assets/:file") { request, context in try self.asset(context) }
        router.get("/dashboard/login") { request, context in try await self.loginForm(request, context) }
        router.post("/dashboard/login") { request, context in try await self.login(request, context) }
        router.post("/dashboard/logout", use: signedIn(post: true) { try await self.logout($0) })
        router.get("/dashboard", use: signedIn { try await self.overview($0) })
        router.get("/dashboard/tenants", use: signedIn { try await self.tenants($0) })
        router.get("/dashboard/jobs", use: signedIn { try await self.jobsPage($0) })
        router.get("/dashboard/jobs/:id", use: signedIn { try await self.jobPage($0) })
        router.post("/dashboard/jobs/:id/:action", use: signedIn(post: true) { try await self.jobAction($0) })
        router.get("/dashboard/dead-letters", use: signedIn { try await self.deadLetters($0) })
        router.post("/dashboard/dead-letters/:action", use: signedIn(post: true) { try await self.bulkAction($0) })
        router.post("/dashboard/pipelines/:name/:action", use: signedIn(post: true) { try await self.pipelineAction($0) })
        router.get("/dashboard/history", use: signedIn { try await self.history($0) })
        router.get("/dashboard/schedules", use: signedIn { try await self.schedules($0) })
        router.post("/dashboard/schedules/:name/trigger", use: signedIn(post: true) { try await self.triggerSchedule($0) })
    }

    private func asset(_ context: AppRequestContext) throws -> Response {
        guard let name = context.parameters.get("file"), let asset = assets[name] else { return Self.text(.notFound, "not found") }
        var headers = Self.securityHeaders
        headers[.contentType] = asset.type
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: asset.body))
    }

    /// Headers of every dashboard response: no script but our own file (so an escaped value that
    /// slipped through could still not run), never framed, nothing cached.
    static let securityHeaders: HTTPFields = {
        var headers = HTTPFields()
        headers[HTTPField.Name("Content-Security-Policy")!] =
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
            + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        headers[.cacheControl] = "no-store"
        return headers
    }()

    static func text(_ status: HTTPResponse.Status, _ text: String) -> Response {
        var headers = securityHeaders
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func redirect(_ location: String, cookies: [String] = []) -> Response {
        var headers = securityHeaders
        headers[.location] = location
        for cookie in cookies { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return Response(status: .seeOther, headers: headers)
    }

    /// Renders `template` inside the layout (or alone, for the live refresh's `?fragment=1`).
    func page(
        _ template: String,
        _ data: [String: Any],
        title: String,
        for call: DashboardCall?,
        status: HTTPResponse.Status = .ok,
        cookies: [String] = []
    ) -> Response {
        var data = data
        if let call { data["csrf"] = call.session.csrfToken }
        let body = library.render(data, withTemplate: template) ?? ""
        let html: String
        if call?.fragment == true {
            html = body
        } else {
            var layout: [String: Any] = ["title": title, "body": body, "nav": call != nil]
            if let call {
                layout["staff"] = call.session.staffEmail
                layout["csrf"] = call.session.csrfToken
                layout["section_\(template.replacingOccurrences(of: "-", with: ""))"] = true
            }
            html = library.render(layout, withTemplate: "layout") ?? body
        }
        var headers = Self.securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        for cookie in cookies { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// An error of the service code as a page: its status and message (never a stack or SQL).
    func errorPage(_ error: any Error, for call: DashboardCall?) -> Response {
        let (status, message) = Self.describe(error)
        if status.code >= 500 {
            service.logger.error("dashboard request failed", metadata: ["error": .string(String(reflecting: error))])
        }
        return page("error", ["status": status.code, "message": message], title: "Error", for: call, status: status)
    }

    static func describe(_ error: any Error) -> (HTTPResponse.Status, String) {
        switch error {
        case let error as APIError: return (error.status, error.message)
        case let error as any ContractError: return (.init(code: error.httpStatus), error.message)
        default: return (.internalServerError, "something went wrong; the server log has the details")
        }
    }
}

enum DashboardError: Error {
    case missingResources
}
