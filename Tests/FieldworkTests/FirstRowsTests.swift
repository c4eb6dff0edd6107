import Testing

@testable import Pipelines

/// The importer's memory of each registration number's first row: exact for digits (kept as numbers) and for
/// anything else (kept as strings).
struct FirstRowsTests {
    @Test func digitsAreKeptExactlyWithTheirLeadingZeros() {
        #expect(FirstRows.numericKey("42") != nil)
        #expect(FirstRows.numericKey("0042") != FirstRows.numericKey("42"))
        #expect(FirstRows.numericKey("99999999999999999") != nil, "17 digits")
        #expect(FirstRows.numericKey("999999999999999999") == nil, "18 digits are kept as a string")
        #expect(FirstRows.numericKey("") == nil && FirstRows.numericKey("12A") == nil && FirstRows.numericKey("١٢") == nil)
    }

    @Test func aLaterRowWithTheSameNumberIsRejectedCitingTheFirst() {
        var rows = FirstRows()
        let first = rows.admit([
            VoterRecord(row: 2, externalId: "100", lastName: "A"), VoterRecord(row: 3, externalId: "0100", lastName: "B"),
            VoterRecord(row: 4, externalId: "LA-7", lastName: "C"),
        ])
        #expect(first.admitted.map(\.row) == [2, 3, 4] && first.duplicates.isEmpty)
        let later = rows.admit([
            VoterRecord(row: 5, externalId: "0100", lastName: "D"), VoterRecord(row: 6, externalId: "LA-7", lastName: "E"),
            VoterRecord(row: 7, externalId: "101", lastName: "F"), VoterRecord(row: 8, externalId: "101", lastName: "G"),
        ])
        #expect(later.admitted.map(\.row) == [7])
        #expect(later.duplicates.map(\.row) == [5, 6, 8])
        #expect(later.duplicates.map(\.message) == [
            "registration number 0100 is also on row 3; this later row is skipped",
            "registration number LA-7 is also on row 4; this later row is skipped",
            "registration number 101 is also on row 7; this later row is skipped",
        ])
    }
}
