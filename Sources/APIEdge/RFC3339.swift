import Foundation
import OpenAPIRuntime

/// RFC 3339 date-times, read with every field range-checked and every valid offset (hours
/// 00–23) accepted. The instant is computed from the fields themselves: Foundation's parser rolls
/// "12:99" over into the next hour and refuses offsets beyond about ±18:00.
public enum RFC3339 {
    /// (A regex literal is immutable; Swift 6 only lacks a Sendable conformance for it.)
    nonisolated(unsafe) static let shape =
        #/
        ^ (\d{4}) - (0[1-9]|1[0-2]) - (0[1-9]|[12]\d|3[01])
        [Tt] ([01]\d|2[0-3]) : ([0-5]\d) : ([0-5]\d|60) (\.\d{1,9})?
        (?: ([Zz]) | ([+-]) ([01]\d|2[0-3]) : ([0-5]\d) ) $
        /#

    /// The instant `text` names, or nil when it is not an RFC 3339 date-time with fields in range.
    /// A leap second (`:60`) is the first instant of the next minute, as it always was here.
    public static func date(_ text: String) -> Date? {
        guard let m = text.wholeMatch(of: shape), let year = Int(m.1), let month = Int(m.2), let day = Int(m.3),
            day <= daysIn(month: month, year: year), let hour = Int(m.4), let minute = Int(m.5), let second = Int(m.6)
        else { return nil }
        let fraction = m.7.flatMap { Double("0" + $0) } ?? 0
        var offset = 0
        if let sign = m.9, let hours = m.10.flatMap({ Int($0) }), let minutes = m.11.flatMap({ Int($0) }) {
            offset = (sign == "-" ? -1 : 1) * (hours * 3600 + minutes * 60)
        }
        let seconds = daysSinceEpoch(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

/// Writes ISO-8601 UTC with `Z` and whole seconds; reads any RFC 3339 date-time (`RFC3339.date`).
struct FlexibleISO8601: DateTranscoder {
    func encode(_ date: Date) throws -> String {
        date.formatted(.iso8601)
    }

    func decode(_ string: String) throws -> Date {
        guard let date = RFC3339.date(string) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "expected an RFC 3339 date-time, got \"\(string)\""))
        }
        return date
    }
}
