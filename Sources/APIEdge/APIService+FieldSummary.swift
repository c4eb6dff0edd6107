import Foundation
@_spi(TenantAuth) import Store

/// `GET /metrics/field/summary`: the org's field work over days in its time zone.
extension APIService {
    /// The longest range one request may ask for.
    static let fieldSummaryMaxDays = 366

    func getFieldSummary(_ input: Operations.GetFieldSummary.Input) async throws -> Operations.GetFieldSummary.Output {
        let caller = try await requireMember(Self.staffRoles)
        let repository = FieldSummaryRepository(logger: logger)
        let (zone, today) = try await repository.today(in: caller.scope, on: db)
        let range = try Self.fieldSummaryRange(from: input.query.from, to: input.query.to, today: today)
        let summary = try await repository.summary(range, zone: zone, in: caller.scope, on: db)
        return .ok(.init(body: .json(.init(summary))))
    }

    /// The asked range: `to` defaults to today, `from` to six days before `to`; 400 for a date that
    /// is not YYYY-MM-DD, `from` after `to`, or more than `fieldSummaryMaxDays` days.
    static func fieldSummaryRange(from: String?, to: String?, today: String) throws -> DayRange {
        func day(_ text: String, _ field: String) throws -> Date {
            guard let date = CalendarDay.parse(text) else {
                throw APIError.validation("\(field): not a date (YYYY-MM-DD)", details: [(field, "not a date (YYYY-MM-DD)")])
            }
            return date
        }
        let last = try day(to ?? today, "to")
        let first = try from.map { try day($0, "from") } ?? CalendarDay.adding(-6, to: last)
        let span = CalendarDay.distance(from: first, to: last)
        guard span >= 0 else { throw APIError.validation("from: must not be after to", details: [("from", "must not be after to")]) }
        guard span < fieldSummaryMaxDays else {
            throw APIError.validation(
                "from: the range may span at most \(fieldSummaryMaxDays) days",
                details: [("from", "at most \(fieldSummaryMaxDays) days before to")]
            )
        }
        return DayRange(from: CalendarDay.format(first), to: CalendarDay.format(last))
    }
}
