import Foundation
import Store

/// Criteria as a request sends them, checked into the store's `VoterCriteria` (unknown keys and wrong types
/// are refused by the generated decoder; the rest here). Every refusal is 400 naming the field.
enum VoterCriteriaValidation {
    /// Null (or absent) criteria select every voter, as criteria without filters do.
    static func criteria(_ input: Components.Schemas.VoterCriteriaInput?, _ path: String) throws -> VoterCriteria {
        guard let input else { return VoterCriteria() }
        let statuses = try input.statuses.map { values in
            try nonEmpty(values, "\(path).statuses").map { value in
                guard let status = VoterStatus(rawValue: value.rawValue) else {
                    throw APIError.validation("\(path).statuses: active or inactive", details: [("\(path).statuses", "active or inactive")])
                }
                return status
            }
        }
        for (year, name) in [(input.birthYearMin, "birthYearMin"), (input.birthYearMax, "birthYearMax")] {
            if let year, !(1800...2200).contains(year) {
                throw APIError.validation("\(path).\(name): 1800...2200", details: [("\(path).\(name)", "1800...2200")])
            }
        }
        if let min = input.birthYearMin, let max = input.birthYearMax, min > max {
            throw APIError.validation(
                "\(path).birthYearMin: may not exceed birthYearMax",
                details: [("\(path).birthYearMin", "may not exceed birthYearMax (\(max))")]
            )
        }
        return VoterCriteria(
            parishes: try values(input.parishes, "\(path).parishes"),
            wards: try values(input.wards, "\(path).wards"),
            precincts: try values(input.precincts, "\(path).precincts"),
            parties: try values(input.parties, "\(path).parties"),
            zip5: try values(input.zip5, "\(path).zip5"),
            statuses: statuses,
            birthYearMin: input.birthYearMin,
            birthYearMax: input.birthYearMax,
            excludeTerminal: input.excludeTerminal
        )
    }

    /// A population's criteria (an object, never null): checked as `VoterCriteriaInput` is.
    static func criteria(_ input: Components.Schemas.PopulationCriteria, _ path: String) throws -> VoterCriteria {
        try criteria(
            Components.Schemas.VoterCriteriaInput(
                parishes: input.parishes,
                wards: input.wards,
                precincts: input.precincts,
                parties: input.parties,
                zip5: input.zip5,
                statuses: input.statuses?.compactMap { .init(rawValue: $0.rawValue) },
                birthYearMin: input.birthYearMin,
                birthYearMax: input.birthYearMax,
                excludeTerminal: input.excludeTerminal
            ),
            path
        )
    }

    /// A filter's values: 1...1,000 of them, each 1...100 characters without NUL; duplicates dropped.
    static func values(_ values: [String]?, _ path: String) throws -> [String]? {
        guard let values else { return nil }
        guard values.count <= 1000 else { throw APIError.validation("\(path): at most 1000 values", details: [(path, "at most 1000 values")]) }
        for (index, value) in try nonEmpty(values, path).enumerated() {
            _ = try Validate.text(value, 1...100, "\(path)[\(index)]")
        }
        var seen = Set<String>()
        return values.filter { seen.insert($0).inserted }
    }

    /// An empty filter would select nobody: a request that sends one has a mistake in it.
    static func nonEmpty<T>(_ values: [T], _ path: String) throws -> [T] {
        guard !values.isEmpty else { throw APIError.validation("\(path): at least one value", details: [(path, "at least one value")]) }
        return values
    }
}
