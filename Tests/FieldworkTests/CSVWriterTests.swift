import NIOCore
import Testing

@testable import Pipelines

/// RFC 4180 quoting and OWASP formula neutralisation of the export writer.
@Suite struct CSVWriterTests {
    static func row(_ cells: [String?]) -> String {
        var out = ByteBuffer()
        CSVWriter().writeRow(cells.map { $0.map { ByteBuffer(string: $0) } }, into: &out)
        return String(buffer: out)
    }

    @Test func quotesWhatRFC4180Requires() {
        #expect(Self.row(["plain", "a,b", "say \"hi\"", "two\nlines", "cr\rhere", nil, "", "Müller"])
            == "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"cr\rhere\",,,Müller\r\n")
    }

    @Test func neutralisesFormulas() {
        #expect(Self.row(["=HYPERLINK(\"http://x\")", "+1 555 0100", "-2+3", "@SUM(A1)", "\tx", "\rx"])
            == "\"'=HYPERLINK(\"\"http://x\"\")\",\"'+1 555 0100\",\"'-2+3\",\"'@SUM(A1)\",\"'\tx\",\"'\rx\"\r\n")
        // Plain numbers stay numbers (coordinates, signed counts).
        #expect(Self.row(["-91.18", "+3", "30.5", "-", "1-2"]) == "-91.18,+3,30.5,\"'-\",1-2\r\n")
    }

    /// The rejected-rows file of an import holds the uploader's own text: its cells are neutralised the same way.
    @Test func rejectedRowsCellsAreNeutralisedToo() {
        typealias Pages = RejectedRowsFile.Pages
        #expect(Pages.field("=HYPERLINK(\"http://x\")") == "\"'=HYPERLINK(\"\"http://x\"\")\"")
        #expect(Pages.field("@SUM(A1)") == "\"'@SUM(A1)\"")
        #expect(Pages.field("-91.18") == "-91.18")
        #expect(Pages.field("Boudreaux, Ren\u{e9}e") == "\"Boudreaux, Ren\u{e9}e\"")
        #expect(Pages.field("plain") == "plain")
    }
}
