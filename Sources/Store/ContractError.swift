/// An error that knows its place in the contract's error envelope: the HTTP status, the
/// contract's code and a message safe to show the caller. The API's error middleware renders
/// every such error in one place; domain code throws them without knowing about HTTP types.
public protocol ContractError: Error {
    /// The HTTP status code (400...599).
    var httpStatus: Int { get }
    /// The contract's error code (`NOT_FOUND`, `CONFLICT`, …).
    var code: String { get }
    /// What went wrong, for the caller.
    var message: String { get }
}
