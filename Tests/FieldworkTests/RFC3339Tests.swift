import APIEdge
import Foundation
import PropertyBased
import Testing

/// RFC 3339 date-times: every valid offset (hours 00–23) gives the right UTC instant; fields out of range are refused.
@Suite struct RFC3339Tests {
    static func utc(_ text: String) -> Date { try! Date(text, strategy: .iso8601) }

    @Test func offsetsGiveTheUTCInstant() {
        #expect(RFC3339.date("2026-11-23T10:00:00-19:37") == Self.utc("2026-11-24T05:37:00Z"))
        #expect(RFC3339.date("2026-11-23T10:00:00+23:59") == Self.utc("2026-11-22T10:01:00Z"))
        #expect(RFC3339.date("2026-11-23T10:00:00-00:00") == Self.utc("2026-11-23T10:00:00Z"))
        #expect(RFC3339.date("2026-11-23T10:00:00+00:00") == Self.utc("2026-11-23T10:00:00Z"))
        #expect(RFC3339.date("2026-11-23T10:00:00Z") == Self.utc("2026-11-23T10:00:00Z"))
        #expect(RFC3339.date("2026-11-23t10:00:00z") == Self.utc("2026-11-23T10:00:00Z"), "RFC 3339 allows lower-case T and Z")
        #expect(RFC3339.date("2026-01-01T00:30:00+01:00") == Self.utc("2025-12-31T23:30:00Z"), "across a year boundary")
        #expect(RFC3339.date("1969-12-31T23:59:59Z") == Date(timeIntervalSince1970: -1), "before the epoch")
        #expect(RFC3339.date("2024-02-29T12:00:00Z") == Self.utc("2024-02-29T12:00:00Z"), "a leap day")
        #expect(RFC3339.date("2000-02-29T12:00:00Z") == Self.utc("2000-02-29T12:00:00Z"), "a leap day of a 400th year")
    }

    @Test func fractionalAndLeapSeconds() throws {
        let base = Self.utc("2026-11-23T10:00:00Z").timeIntervalSince1970
        let fraction = try #require(RFC3339.date("2026-11-23T10:00:00.25Z")).timeIntervalSince1970
        #expect(fraction == base + 0.25)
        let nanos = try #require(RFC3339.date("2026-11-23T10:00:00.123456789-19:37")).timeIntervalSince1970
        #expect(abs(nanos - (base + 19 * 3600 + 37 * 60 + 0.123456789)) < 1e-6)
        // A leap second is the first instant of the next minute, as Foundation's parser made it before.
        #expect(RFC3339.date("2026-12-31T23:59:60Z") == Self.utc("2027-01-01T00:00:00Z"))
    }

    @Test func outOfRangeFieldsAreRefused() {
        for text in [
            "2026-11-23T24:00:00Z", "2026-11-23T12:99:00Z", "2026-02-30T10:00:00Z", "2025-02-29T10:00:00Z", "1900-02-29T10:00:00Z",
            "2026-04-31T10:00:00Z", "2026-13-01T10:00:00Z", "2026-00-01T10:00:00Z", "2026-11-00T10:00:00Z", "2026-11-23T10:00:61Z",
            "2026-11-23T10:00:00+24:00", "2026-11-23T10:00:00+25:00", "2026-11-23T10:00:00-19:60", "2026-11-23T10:00:00",
            "2026-11-23 10:00:00Z", "2026-11-23T10:00Z", "2026-11-23T10:00:00.Z", "2026-11-23T10:00:00.1234567890Z", "yesterday", "",
        ] {
            #expect(RFC3339.date(text) == nil, "\(text)")
        }
    }

    /// The byte reader agrees with the regular expression it replaced (kept here as the reference) on
    /// valid date-times and on every one-character change of them: a digit, a separator, a case, a
    /// length, a stray byte.
    @Test func theByteReaderAgreesWithTheRegularExpression() async {
        let alphabet = Array("0123456789-+:.TtZz xé٣")
        await propertyCheck(count: 3000, input: Gen.int(in: 0...Int.max)) { seed in
            var random = SplitMix(seed: UInt64(seed))
            let year = random.int(0...9999), month = random.int(0...13), day = random.int(0...32)
            let hour = random.int(0...25), minute = random.int(0...61), second = random.int(0...61)
            var text = String(format: "%04d-%02d-%02d%@%02d:%02d:%02d", year, month, day, random.chance(0.5) ? "T" : "t", hour, minute, second)
            if random.chance(0.5) { text += "." + String((0..<random.int(0...11)).map { _ in Character(String(random.int(0...9))) }) }
            text += random.chance(0.4) ? (random.chance(0.5) ? "Z" : "z")
                : String(format: "%@%02d:%02d", random.chance(0.5) ? "+" : "-", random.int(0...25), random.int(0...61))
            var characters = Array(text)
            switch random.int(0...3) {
            case 0: characters[random.int(0...(characters.count - 1))] = alphabet[random.int(0...(alphabet.count - 1))]
            case 1: characters.remove(at: random.int(0...(characters.count - 1)))
            case 2: characters.insert(alphabet[random.int(0...(alphabet.count - 1))], at: random.int(0...characters.count))
            default: break
            }
            let candidate = String(characters)
            #expect(RFC3339.date(candidate) == Self.reference(candidate), "\(candidate)")
        }
    }

    nonisolated(unsafe) static let shape =
        #/
        ^ ([0-9]{4}) - (0[1-9]|1[0-2]) - (0[1-9]|[12][0-9]|3[01])
        [Tt] ([01][0-9]|2[0-3]) : ([0-5][0-9]) : ([0-5][0-9]|60) (\.[0-9]{1,9})?
        (?: ([Zz]) | ([+-]) ([01][0-9]|2[0-3]) : ([0-5][0-9]) ) $
        /#

    /// The regular-expression reader the byte reader replaced. Its `\d` also matched non-ASCII digits (a `٣` in the
    /// fraction was accepted and the fraction dropped); RFC 3339's digits are ASCII, as here and in the byte reader.
    static func reference(_ text: String) -> Date? {
        guard let m = text.wholeMatch(of: shape), let year = Int(m.1), let month = Int(m.2), let day = Int(m.3),
            day <= daysIn(month: month, year: year), let hour = Int(m.4), let minute = Int(m.5), let second = Int(m.6)
        else { return nil }
        let fraction = m.7.flatMap { Double("0" + $0) } ?? 0
        var offset = 0
        if let sign = m.9, let hours = m.10.flatMap({ Int($0) }), let minutes = m.11.flatMap({ Int($0) }) {
            offset = (sign == "-" ? -1 : 1) * (hours * 3600 + minutes * 60)
        }
        let seconds = days(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    /// Days since 1970-01-01 in the proleptic Gregorian calendar, counted by leap years (not Hinnant's formula the reader uses).
    static func days(year: Int, month: Int, day: Int) -> Int {
        func floorDiv(_ a: Int, _ b: Int) -> Int { Int((Double(a) / Double(b)).rounded(.down)) }
        func leapsBefore(_ y: Int) -> Int { floorDiv(y - 1, 4) - floorDiv(y - 1, 100) + floorDiv(y - 1, 400) }
        let dayOfYear = (1..<month).reduce(0) { $0 + daysIn(month: $1, year: year) } + day - 1
        return 365 * (year - 1970) + leapsBefore(year) - leapsBefore(1970) + dayOfYear
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
