import Foundation

/// Why a cron expression was refused.
public struct CronError: Error, Equatable {
    public let message: String
}

/// A cron expression: five fields (minute hour day-of-month month day-of-week) or six with a
/// leading seconds field; `*`, `?`, lists, ranges, steps, month and weekday names, and the
/// `@yearly @monthly @weekly @daily @midnight @hourly` macros. Day-of-month and day-of-week
/// combine as in Vixie cron: when both are restricted, either one matching is enough.
///
/// Time zones follow Vixie cron's rule: a fixed-time entry (hour field not `*`) whose wall time
/// falls in a daylight-saving gap runs at the first instant after the gap, and one whose wall
/// time occurs twice (clocks set back) runs once; a wildcard-hour entry follows the wall clock.
public struct CronExpression: Sendable, Equatable {
    var seconds: UInt64
    var minutes: UInt64
    var hours: UInt64
    var daysOfMonth: UInt64
    var months: UInt64
    var daysOfWeek: UInt64
    var domRestricted: Bool
    var dowRestricted: Bool
    var hourWildcard: Bool
    public let hasSeconds: Bool

    static let macros = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]
    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    public init(_ text: String) throws {
        var expression = text.trimmingCharacters(in: .whitespaces)
        if expression.hasPrefix("@") {
            guard let expanded = Self.macros[expression.lowercased()] else {
                throw CronError(message: "unknown macro \(expression) (known: \(Self.macros.keys.sorted().joined(separator: ", ")))")
            }
            expression = expanded
        }
        var fields = expression.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard fields.count == 5 || fields.count == 6 else {
            throw CronError(message: "expected 5 fields (minute hour day month weekday) or 6 (with seconds first), got \(fields.count)")
        }
        hasSeconds = fields.count == 6
        if !hasSeconds { fields.insert("0", at: 0) }
        seconds = try Self.field(fields[0], "second", 0...59, names: [])
        minutes = try Self.field(fields[1], "minute", 0...59, names: [])
        hours = try Self.field(fields[2], "hour", 0...23, names: [])
        daysOfMonth = try Self.field(fields[3], "day of month", 1...31, names: [])
        months = try Self.field(fields[4], "month", 1...12, names: Self.monthNames, nameBase: 1)
        var dow = try Self.field(fields[5], "day of week", 0...7, names: Self.dayNames)
        if dow & (1 << 7) != 0 { dow = (dow | 1) & ~(1 << 7) }  // 7 is Sunday too
        daysOfWeek = dow
        hourWildcard = Self.isWildcard(fields[2])
        domRestricted = !Self.isWildcard(fields[3])
        dowRestricted = !Self.isWildcard(fields[5])
    }

    static func isWildcard(_ field: String) -> Bool { field == "*" || field == "?" }

    /// Parses one field into a bit set of allowed values.
    static func field(_ text: String, _ name: String, _ range: ClosedRange<Int>, names: [String], nameBase: Int = 0) throws -> UInt64 {
        func value(_ token: String) throws -> Int {
            if let number = Int(token) {
                guard range.contains(number) else { throw CronError(message: "\(name) \(number) is outside \(range.lowerBound)-\(range.upperBound)") }
                return number
            }
            if let index = names.firstIndex(of: token.uppercased()) { return index + nameBase }
            throw CronError(message: "\(name) field: \"\(token)\" is not a number\(names.isEmpty ? "" : " or a name like \(names[0])")")
        }
        var bits: UInt64 = 0
        for part in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            guard !part.isEmpty else { throw CronError(message: "\(name) field \"\(text)\" has an empty list item") }
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard pieces.count <= 2 else { throw CronError(message: "\(name) field: \"\(part)\" has more than one /") }
            var step = 1
            if pieces.count == 2 {
                guard let parsed = Int(pieces[1]), parsed > 0, parsed <= range.upperBound else {
                    throw CronError(message: "\(name) field: step \"\(pieces[1])\" must be a whole number 1-\(range.upperBound)")
                }
                step = parsed
            }
            var low: Int
            var high: Int
            if isWildcard(pieces[0]) {
                (low, high) = (range.lowerBound, range.upperBound)
                if range.upperBound == 7 { high = 6 }
            } else if let dash = pieces[0].firstIndex(of: "-") {
                low = try value(String(pieces[0][..<dash]))
                high = try value(String(pieces[0][pieces[0].index(after: dash)...]))
                guard low <= high else { throw CronError(message: "\(name) range \(pieces[0]) runs backwards") }
            } else {
                low = try value(pieces[0])
                high = pieces.count == 2 ? range.upperBound : low
            }
            for v in stride(from: low, through: high, by: step) { bits |= 1 << UInt64(v) }
        }
        return bits
    }

    /// Wall-clock fields of a local time, computed from seconds since the epoch (plus offset).
    struct Wall {
        let year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, weekday: Int

        init(_ local: Int64) {
            let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
            let secondOfDay = Int(local - days * 86_400)
            // Howard Hinnant's civil-from-days.
            let z = days + 719_468
            let era = (z >= 0 ? z : z - 146_096) / 146_097
            let doe = z - era * 146_097
            let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
            let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
            let mp = (5 * doy + 2) / 153
            let d = doy - (153 * mp + 2) / 5 + 1
            let m = mp < 10 ? mp + 3 : mp - 9
            year = Int(yoe + era * 400 + (m <= 2 ? 1 : 0))
            month = Int(m)
            day = Int(d)
            hour = secondOfDay / 3600
            minute = secondOfDay / 60 % 60
            second = secondOfDay % 60
            weekday = Int(((days % 7) + 11) % 7)  // 1970-01-01 was a Thursday (4)
        }
    }

    func dayMatches(_ wall: Wall) -> Bool {
        let dom = daysOfMonth & (1 << UInt64(wall.day)) != 0
        let dow = daysOfWeek & (1 << UInt64(wall.weekday)) != 0
        if domRestricted && dowRestricted { return dom || dow }
        return dom && dow
    }

    func matches(_ wall: Wall) -> Bool {
        months & (1 << UInt64(wall.month)) != 0 && dayMatches(wall) && hours & (1 << UInt64(wall.hour)) != 0
            && minutes & (1 << UInt64(wall.minute)) != 0 && seconds & (1 << UInt64(wall.second)) != 0
    }

    /// The first firing strictly after `date`, in `zone`; nil if none within five years.
    public func next(after date: Date, in zone: TimeZone) -> Date? {
        func offset(_ t: Int64) -> Int64 { Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(t)))) }
        let start = Int64(date.timeIntervalSince1970.rounded(.down))
        let unit: Int64 = hasSeconds ? 1 : 60
        var t = (start / unit + 1) * unit
        let limit = start + 5 * 366 * 86_400
        var previousOffset = offset(t - unit)
        while t < limit {
            let off = offset(t)
            let local = t + off
            if off > previousOffset && !hourWildcard {
                // Clocks jumped forward since the last instant looked at: a fixed-time entry whose
                // wall time was skipped fires now.
                var skipped = local - (off - previousOffset)
                while skipped < local {
                    if matches(Wall(skipped)) { return Date(timeIntervalSince1970: TimeInterval(t)) }
                    skipped += unit
                }
            }
            previousOffset = off
            let wall = Wall(local)
            let toNextHour = 3600 - local % 3600
            if months & (1 << UInt64(wall.month)) == 0 || !dayMatches(wall) || hours & (1 << UInt64(wall.hour)) == 0 {
                t += toNextHour
                continue
            }
            if minutes & (1 << UInt64(wall.minute)) == 0 {
                if let nextMinute = (wall.minute + 1..<60).first(where: { minutes & (1 << UInt64($0)) != 0 }) {
                    t += Int64(nextMinute - wall.minute) * 60 - Int64(wall.second)
                } else {
                    t += toNextHour
                }
                continue
            }
            if seconds & (1 << UInt64(wall.second)) == 0 {
                if let nextSecond = (wall.second + 1..<60).first(where: { seconds & (1 << UInt64($0)) != 0 }) {
                    t += Int64(nextSecond - wall.second)
                } else {
                    t += 60 - Int64(wall.second)
                }
                continue
            }
            if !hourWildcard {
                // The second pass through a wall time the clocks were set back over: already fired.
                let earlier = offset(t - 3 * 3600)
                if earlier > off, offset(t - (earlier - off)) == earlier {
                    t += unit
                    continue
                }
            }
            return Date(timeIntervalSince1970: TimeInterval(t))
        }
        return nil
    }
}
