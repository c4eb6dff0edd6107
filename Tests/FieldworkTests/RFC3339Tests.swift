import APIEdge
import Foundation
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
}
