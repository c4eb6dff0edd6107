/// Refusals of campaign-domain changes, with the contract's status and code for each.
public enum CampaignError: ContractError, Equatable {
    case notFound(String)
    case conflict(String)
    case unprocessable(String)

    public var httpStatus: Int {
        switch self {
        case .notFound: 404
        case .conflict: 409
        case .unprocessable: 422
        }
    }

    public var code: String {
        switch self {
        case .notFound: "NOT_FOUND"
        case .conflict: "CONFLICT"
        case .unprocessable: "UNPROCESSABLE"
        }
    }

    public var message: String {
        switch self {
        case .notFound(let message), .conflict(let message), .unprocessable(let message): message
        }
    }
}
