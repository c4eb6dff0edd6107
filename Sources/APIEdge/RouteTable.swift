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

    /// The methods declared for the template `path` resolves to, as the router resolves it (a literal
    /// segment wins over a parameter: `/jobs/retry` is not `/jobs/{jobId}`); empty when none matches.
    func methods(for path: String) -> [HTTPRequest.Method] {
        let wanted = Self.segments(path)
        var best: [Bool]?
        var found: [HTTPRequest.Method] = []
        for route in routes {
            guard let literals = Self.match(route.segments, wanted) else { continue }
            if let current = best, literals.lexicographicallyPrecedes(current, by: { !$0 && $1 }) { continue }
            if best != literals {
                best = literals
                found = []
            }
            if !found.contains(route.method) { found.append(route.method) }
        }
        return found
    }

    /// Per segment, whether `template` matched `path` literally (true) or by a parameter; nil when it does not fit.
    static func match(_ template: [Substring], _ path: [Substring]) -> [Bool]? {
        guard template.count == path.count else { return nil }
        var literals: [Bool] = []
        for (pattern, segment) in zip(template, path) {
            if pattern == segment {
                literals.append(true)
            } else if pattern.hasPrefix("{") || pattern.hasPrefix(":") {
                literals.append(false)
            } else {
                return nil
            }
        }
        return literals
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
