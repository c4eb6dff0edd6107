import NIOCore
import Testing

@testable import Pipelines

/// The import's `COPY` text: one line per record, fields in the staging table's order, escaped as `COPY` reads them.
struct StagingRowsTests {
    @Test func fieldsAreEscapedForCopyAndNilIsNull() {
        var record = VoterRecord(row: 7, externalId: #"A\B"#, lastName: "l\nm\r")
        record.firstName = "x\ty"
        record.birthYear = 1950
        record.city = "Montréal"
        record.phone = "55\u{0}5"
        record.extra = ["k": "v"]
        let text = String(buffer: StagingRows.encode([record, VoterRecord(row: 8, externalId: "9", lastName: "Z")]))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 3 && lines[2].isEmpty, "two lines, each ended: \(text.debugDescription)")
        let cells = lines[0].split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        #expect(cells.count == VoterBatchLoader.stagingColumns.count)
        #expect(cells[0] == "7" && cells[1] == #"A\\B"# && cells[2] == #"x\ty"# && cells[3] == #"\N"# && cells[4] == #"l\nm\r"#)
        #expect(cells[6] == "1950" && cells[15] == "Montréal" && cells[27] == "555" && cells[28] == #"{"k":"v"}"#)
        let second = lines[1].split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        #expect(second == ["8", "9", #"\N"#, #"\N"#, "Z"] + Array(repeating: #"\N"#, count: 23) + ["{}"])
    }
}
