import Foundation
import OpenAPIRuntime

/// RFC 3339 date-times, read with every field range-checked and every valid offset (hours
/// 00–23) accepted. The instant is computed from the fields themselves: Foundation's parser rolls
/// "12:99" over into the next hour and refuses offsets beyond about ±18:00. The text is read as
/// bytes in one pass: `POST /interactions/bulk` reads two dates per item, and a regular expression
/// there cost a fifth of the route's CPU.
public enum RFC3339 {
    /// The instant `text` names, or nil when it is not an RFC 3339 date-time with fields in range
    /// (`yyyy-mm-ddThh:mm:ss[.f{1,9}](Z|±hh:mm)`, `T` and `Z` in either case).
    /// A leap second (`:60`) is the first instant of the next minute, as it always was here.
    public static func date(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { date(bytes: $0) }
    }

    static func date(bytes b: UnsafeBufferPointer<UInt8>) -> Date? {
        // The shortest form is 20 bytes (…:ssZ); the longest 35 (…:ss.nnnnnnnnn±hh:mm).
        guard (20...35).contains(b.count), b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
            b[10] | 0x20 == UInt8(ascii: "t"), b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
            let year = number(b, 0, 4), let month = number(b, 5, 2), let day = number(b, 8, 2),
            let hour = number(b, 11, 2), let minute = number(b, 14, 2), let second = number(b, 17, 2),
            (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
            hour <= 23, minute <= 59, second <= 60
        else { return nil }
        var at = 19
        var fraction = 0.0
        if b[at] == UInt8(ascii: ".") {
            var end = at + 1
            while end < b.count, isDigit(b[end]) { end += 1 }
            let digits = end - at - 1
            guard (1...9).contains(digits) else { return nil }
            fraction = Double("0" + String(decoding: UnsafeBufferPointer(rebasing: b[at..<end]), as: UTF8.self)) ?? 0
            at = end
        }
        guard at < b.count else { return nil }
        var offset = 0
        switch b[at] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            guard at + 1 == b.count else { return nil }
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard at + 6 == b.count, b[at + 3] == UInt8(ascii: ":"),
                let hours = number(b, at + 1, 2), let minutes = number(b, at + 4, 2), hours <= 23, minutes <= 59
            else { return nil }
            offset = (b[at] == UInt8(ascii: "-") ? -1 : 1) * (hours * 3600 + minutes * 60)
        default:
            return nil
        }
        let seconds = daysSinceEpoch(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// The decimal number of `count` ASCII digits at `start`, or nil if one is not a digit.
    private static func number(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ count: Int) -> Int? {
        var value = 0
        for byte in b[start..<start + count] {
            guard isDigit(byte) else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
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
