import HTTPTypes
import OpenAPIRuntime

/// The operations the router serves, as (path template, method): what tells a method the path
/// does not declare (405, with `Allow`) from a path that does not exist (404), and which routes
/// take uploads. Filled while the generated handlers register.
struct RouteTable: Sendable {
    private(set) var routes: [(segments: [Substring], method: HTTPRequest.Method)] = []

    mutating func add(path: String, method: HTTPRequest.Method) {
        routes.append((Self.segments(path), method))
    }

    /// The methods declared for the path `path` matches; empty when no template matches it.
    func methods(for path: String) -> [HTTPRequest.Method] {
        let wanted = Self.segments(path)
        var found: [HTTPRequest.Method] = []
        for route in routes where Self.matches(route.segments, wanted) && !found.contains(route.method) {
            found.append(route.method)
        }
        return found
    }

    /// True when `path` fits `template` (`{name}` matches any one segment).
    static func matches(_ template: [Substring], _ path: [Substring]) -> Bool {
        guard template.count == path.count else { return false }
        for (pattern, segment) in zip(template, path) where pattern != segment {
            let isParameter = pattern.hasPrefix("{") || pattern.hasPrefix(":")
            if !isParameter { return false }
        }
        return true
    }

    static func segments(_ path: String) -> [Substring] {
        path.split(separator: "?", maxSplits: 1).first.map { $0.split(separator: "/") } ?? []
    }
}

extension RouteTable {
    /// The routes that take uploads (streamed `multipart/form-data` or `text/csv`), by template.
    static let uploadTemplates: [(path: String, method: HTTPRequest.Method)] = [("/api/v1/imports/voters", .post)]

    /// The declared routes that take uploads.
    var uploads: RouteTable {
        var table = RouteTable()
        for upload in Self.uploadTemplates where !methods(for: upload.path).isEmpty {
            table.add(path: upload.path, method: upload.method)
        }
        return table
    }

    /// The routes `service` declares (the generated `registerHandlers`, run against a recorder).
    static func declared(by service: some APIProtocol) throws -> RouteTable {
        let recorder = RouteRecorder()
        try service.registerHandlers(on: recorder)
        return recorder.table
    }
}

/// A transport that only writes down what the generated code registers.
private final class RouteRecorder: ServerTransport {
    var table = RouteTable()

    func register(
        _ handler: @escaping @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?),
        method: HTTPRequest.Method,
        path: String
    ) throws {
        table.add(path: path, method: method)
    }
}
