import Foundation
import Pipelines
import Testing

/// The corpus of nasty files (`Tests/Corpus/voter-files`, written by its `make-corpus.py`): each ends in a clean result
/// or a clean refusal, the same whatever the chunking, and small files give the same result cut at every byte offset.
@Suite struct VoterFileParserCorpusTests {
    /// Parses a corpus file several ways and checks every way agrees; returns the one-chunk result.
    func parse(_ name: String, format: VoterFileFormat = .louisiana) throws -> VoterFileParse {
        let bytes = try VoterFileCorpus.bytes(name)
        let whole = VoterFileParse(bytes, format: format, cuts: [])
        for size in [7, 4096, 65_536] where size < bytes.count {
            #expect(VoterFileParse(bytes, format: format, chunkSize: size) == whole, "\(name) in chunks of \(size)")
        }
        if bytes.count <= 4096 {
            for cut in 0...bytes.count {
                #expect(VoterFileParse(bytes, format: format, cuts: [cut]) == whole, "\(name) cut at \(cut)")
            }
            #expect(VoterFileParse(bytes, format: format, chunkSize: 1) == whole, "\(name) a byte at a time")
        }
        return whole
    }

    @Test func raggedRows() throws {
        let parse = try parse("ragged.csv")
        #expect(parse.records.map(\.row) == [2, 6, 8])
        #expect(parse.rejections.map(\.row) == [3, 4, 5, 7])
        #expect(parse.rejections.map(\.column) == [nil, nil, nil, "REG_NUMBER"])
        #expect(parse.records.last?.parish == nil)
    }

    @Test func unterminatedQuoteAtEndOfFile() throws {
        let parse = try parse("unterminated-quote.csv")
        #expect(parse.records.map(\.row) == [2])
        #expect(parse.rejections.map(\.row) == [3])
        #expect(parse.rejections.first?.message.contains("quote") == true)
    }

    @Test func nulBytesAreBinary() throws {
        let parse = try parse("nul-bytes.csv")
        #expect(parse.failure?.reason.contains("binary") == true)
        #expect(parse.records.isEmpty)
    }

    @Test func aOneMebibyteFieldIsSkippedNotBuffered() throws {
        let parse = try parse("huge-field.csv")
        #expect(parse.records.map(\.row) == [2, 4])
        #expect(parse.records.map(\.externalId) == ["1", "3"])
        #expect(parse.rejections.map(\.row) == [3])
    }

    @Test func tenThousandColumns() throws {
        let parse = try parse("ten-thousand-columns.csv")
        #expect(parse.failure == nil)
        #expect(parse.header?.columns.count == 10_000)
        #expect(parse.header?.unknownColumns.count == 9_998)
        #expect(parse.records.count == 3)
        #expect(parse.records.first?.extra.count == 10)
        #expect(parse.records.first?.extra["C05000"] == "5000")
        #expect(parse.rejections.count == 1, "one header note")
        #expect(parse.rejections.first?.message.contains("and 9948 more") == true)
    }

    @Test func mixedEncodings() throws {
        let parse = try parse("mixed-encodings.csv")
        #expect(parse.records.map(\.lastName) == ["Müller", "Müller", "Lefèvre", "Çafé"])
        #expect(parse.records.map(\.firstName) == ["José", "José", "Zoë", "\u{201C}Bo\u{201D}"])
    }

    @Test func loneCarriageReturns() throws {
        let parse = try parse("lone-cr.csv")
        #expect(parse.records.map(\.row) == [2, 3, 4])
        #expect(parse.records.map(\.lastName) == ["Ng", "Li\rWu", "Ray"])
    }

    @Test func byteOrderMark() throws {
        let parse = try parse("bom.csv")
        #expect(parse.header?.columns.first?.name == "REG_NUMBER")
        #expect(parse.records.map(\.externalId) == ["1"])
    }

    @Test func refusedFiles() throws {
        #expect(try parse("html-page.csv").failure?.reason.contains("HTML") == true)
        #expect(try parse("empty.csv").failure?.reason.contains("empty") == true)
        #expect(try parse("header-only.csv").failure?.reason.contains("header") == true)
    }
}
