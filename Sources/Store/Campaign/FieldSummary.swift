import Foundation

/// An org's field work over a range of days in its time zone (the contract's FieldSummary).
public struct FieldSummary: Sendable, Equatable {
    /// Totals over the range.
    public struct Totals: Sendable, Equatable {
        public var attempts: Int
        public var contacts: Int
        /// contacts / attempts (0 with no attempts).
        public var contactRate: Double
        /// Survey answers recorded with the range's interactions.
        public var surveyResponses: Int
        /// Distinct voters with an interaction in the range.
        public var votersAttempted: Int
        /// Distinct canvassers with an interaction in the range.
        public var activeCanvassers: Int
    }

    /// One day of the range (every day is present, zeros included).
    public struct Day: Sendable, Equatable, Decodable {
        public var date: String
        public var attempts: Int
        public var contacts: Int
    }

    /// One canvasser's work in the range.
    public struct Canvasser: Sendable, Equatable, Decodable {
        public var canvasserId: UUID
        public var name: String
        public var attempts: Int
        public var contacts: Int
        public var surveyResponses: Int
    }

    /// A list's progress: members attempted in the range, and completion (members with any
    /// result up to the range's end / members).
    public struct ListProgress: Sendable, Equatable, Decodable {
        public var listId: UUID
        public var name: String
        public var members: Int
        public var attempted: Int
        public var completion: Double
    }

    /// First and last day, YYYY-MM-DD.
    public var from: String
    public var to: String
    /// The newest `received_at` among the interactions counted (the query's time when there are none).
    public var asOf: Date
    public var totals: Totals
    /// Attempts per result; every result is present.
    public var byResult: [InteractionResult: Int]
    public var byDay: [Day]
    public var byCanvasser: [Canvasser]
    public var byList: [ListProgress]
}

/// A range of days in an org's zone; `from` ≤ `to`.
public struct DayRange: Sendable, Equatable {
    public let from: String
    public let to: String

    public init(from: String, to: String) {
        self.from = from
        self.to = to
    }
}

/// YYYY-MM-DD dates as the summary's range needs them: parsed strictly, shifted by days.
public enum CalendarDay {
    private static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    /// Midnight UTC of a real YYYY-MM-DD date from 1900 to 2200 (nil for anything else, 2026-02-30 included).
    public static func parse(_ text: String) -> Date? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.utf8.count == 10, parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]), (1900...2200).contains(year),
            let date = calendar.date(from: DateComponents(year: year, month: month, day: day))
        else { return nil }
        return format(date) == text ? date : nil
    }

    /// A date as YYYY-MM-DD.
    public static func format(_ date: Date) -> String {
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }

    /// `date` shifted by `days`.
    public static func adding(_ days: Int, to date: Date) -> Date {
        calendar.date(byAdding: .day, value: days, to: date)!
    }

    /// Days from `a` to `b` (negative when `b` is earlier).
    public static func distance(from a: Date, to b: Date) -> Int {
        calendar.dateComponents([.day], from: a, to: b).day!
    }
}
