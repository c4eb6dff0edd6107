import Logging
import NIOCore
import PostgresNIO
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

    /// An export row arrives as one `text[]` in Postgres's binary format; its cells are read in place and written as
    /// cells of strings would be (NULL and empty both empty).
    @Test func aTextArrayFromPostgresIsWrittenCellByCell() async throws {
        try await Harness.run { h in
            func array(_ sql: PostgresQuery) async throws -> ByteBuffer {
                for try await row in try await h.db.query(sql, logger: Logger(label: "t")) {
                    var cells = row.makeIterator()
                    return try #require(cells.next()?.bytes)
                }
                throw TestFailure("no row")
            }
            func written(_ bytes: ByteBuffer) throws -> String {
                var out = ByteBuffer()
                try CSVWriter().writeRow(textArray: bytes, into: &out)
                return String(buffer: out)
            }
            let cells: [String?] = ["plain", nil, "a,b", "say \"hi\"", "two\nlines", "=1+1", "", "M\u{fc}ller", "-91.18"]
            let text = try await array("SELECT ARRAY[\(cells[0]), \(cells[1]), \(cells[2]), \(cells[3]), \(cells[4]), \(cells[5]), \(cells[6]), \(cells[7]), \(cells[8])]::text[]")
            #expect(try written(text) == Self.row(cells))
            #expect(try written(try await array("SELECT '{}'::text[]")) == "\r\n")
            #expect(try written(try await array("SELECT ARRAY[NULL]::text[]")) == "\r\n")
            #expect(throws: TextArrayCells.Malformed.self) { try written(ByteBuffer(bytes: [0, 0, 0, 1])) }
            // One dimension of -1 elements: refused, not a trap.
            let negative: [UInt8] = [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 25, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 1]
            #expect(throws: TextArrayCells.Malformed.self) { try written(ByteBuffer(bytes: negative)) }
            let numbers = try await array("SELECT ARRAY[1, 2]::int4[]")
            #expect(throws: TextArrayCells.Malformed.self) { try written(numbers) }
            let grid = try await array("SELECT ARRAY[ARRAY['a'], ARRAY['b']]::text[]")
            #expect(throws: TextArrayCells.Malformed.self) { try written(grid) }
        }
    }
}
