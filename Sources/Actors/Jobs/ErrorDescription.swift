import PostgresNIO

/// The text the job runtime records a job's failure with and logs its own errors with. PostgresNIO's `PSQLError`
/// describes itself as "Generic description to prevent accidental leakage of sensitive data" whatever happened, which
/// tells an operator nothing; its server error's primary message and SQLSTATE say what went wrong (the DETAIL field,
/// which can quote row values, is left out).
enum ErrorDescription {
    static func of(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return String(describing: error) }
        if let info = error.serverInfo, let message = info[.message] {
            return "Postgres error \(info[.sqlState] ?? "?"): \(message)"
        }
        return "Postgres client error: \(error.code)"
    }
}
