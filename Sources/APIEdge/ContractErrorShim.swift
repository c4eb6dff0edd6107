import HTTPTypes
import Store

// Temporary: until `RequestMiddleware` renders every `ContractError` itself (being rewritten
// elsewhere), the campaign handlers pass theirs through here. Delete this file and unwrap the
// `contractErrors { }` calls when that lands.

extension APIService {
    /// Runs `body`, rethrowing a `ContractError` as the `APIError` the middleware knows how to render.
    func contractErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as any ContractError {
            throw APIError(status: .init(code: error.httpStatus), code: error.code, message: error.message)
        }
    }
}
