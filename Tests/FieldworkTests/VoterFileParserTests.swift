import Foundation
import NIOCore
import Pipelines
import Testing

/// The parser's rules (issue 11 §3): quoting, line breaks, encodings, the Louisiana header, row validation, refusals.
@Suite struct VoterFileParserTests {
    static let laHeader = "\"REG_NUMBER,N,10,0\",\"LAST_NAME,C,30\",\"FIRST_NAME,C,30\",\"BIRTH_YEAR,N,4,0\",\"REGISTRATION DATE,D,8\""

    @Test func readsQuotingAndRowNumbersLikeASpreadsheet() throws {
        let file = Self.laHeader + "\r\n"
            + "1001,\"O\"\"Brien, Jr\",\"Mary\r\nAnn\",1970,20200131\r\n"
            + "\n"
            + "1002,Smith,,,\r\n"
        let parse = VoterFileParse(file)
        #expect(parse.failure == nil)
        #expect(parse.records.count == 2)
        let first = try #require(parse.records.first)
        #expect(first.row == 2)
        #expect(first.externalId == "1001")
        #expect(first.lastName == "O\"Brien, Jr")
        #expect(first.firstName == "Mary\r\nAnn")
        #expect(first.birthYear == 1970)
        #expect(first.registrationDate == "2020-01-31")
        // The quoted line break does not start a row; the blank line is row 3 and holds no voter.
        #expect(parse.records[1].row == 4)
        #expect(parse.records[1].firstName == nil, "a blank cell is nil")
        #expect(parse.nextRow == 5)
        #expect(parse.rejections.isEmpty)
    }

    @Test func lineEndingsAndBOM() {
        for ending in ["\n", "\r\n", "\r"] {
            let file = "\u{FEFF}REG_NUMBER,LAST_NAME\(ending)1,Ng\(ending)2,Bo\(ending)3,\"Li\(ending)Wu\""
            let parse = VoterFileParse(file)
            #expect(parse.records.map(\.externalId) == ["1", "2", "3"], "ending \(Array(ending.utf8))")
            #expect(parse.records.map(\.row) == [2, 3, 4])
            #expect(parse.records.last?.lastName == "Li\(ending)Wu")
            #expect(parse.header?.columns.first?.name == "REG_NUMBER", "the BOM is not part of the first name")
        }
    }

    @Test func encodingIsDecidedPerField() {
        var bytes = Array("REG_NUMBER,LAST_NAME,FIRST_NAME\n1,".utf8)
        bytes += [0x4D, 0xFC, 0x6C, 0x6C, 0x65, 0x72]  // "Müller" in Windows-1252
        bytes += Array(",Jos\u{E9}\n2,".utf8)  // "José" in UTF-8
        bytes += [0x93, 0x44, 0x94, 0x2C, 0x80, 0x0A]  // “D” and € in Windows-1252
        let parse = VoterFileParse(bytes)
        #expect(parse.records.map(\.lastName) == ["Müller", "\u{201C}D\u{201D}"])
        #expect(parse.records.map(\.firstName) == ["José", "€"])
    }

    @Test func louisianaHeaderTypesQualifiersAndSynonyms() throws {
        let file = "\"LA LIST ID,N,10,0\",\"last_name,C,30\",\"RESIDENTIAL ADDRESS, LINE 1\",\"RESIDENTIAL ADDRESS, LINE 2\","
            + "\"ZIP CODE5,C,5\",\"PERSONAL NAME SUFFIX,C,3\",\"VOTER HISTORY,C,40\",\"STATUS,C,1\"\n"
            + "7,Doe,12 Main St,Apt 4,70801-1234,Jr,2020G,A\n"
        let parse = VoterFileParse(file)
        let header = try #require(parse.header)
        #expect(header.columns.map(\.name) == [
            "LA LIST ID", "last_name", "RESIDENTIAL ADDRESS LINE 1", "RESIDENTIAL ADDRESS LINE 2", "ZIP CODE5",
            "PERSONAL NAME SUFFIX", "VOTER HISTORY", "STATUS",
        ])
        #expect(header.columns[0].declaredType == .number(length: 10, decimals: 0))
        #expect(header.columns[2].declaredType == nil)
        #expect(header.unknownColumns == ["RESIDENTIAL ADDRESS LINE 1", "RESIDENTIAL ADDRESS LINE 2", "VOTER HISTORY"])
        let note = try #require(parse.rejections.first)
        #expect(note.row == 1)
        #expect(note.message.contains("RESIDENTIAL ADDRESS LINE 1") && note.message.contains("VOTER HISTORY"))
        #expect(parse.rejections.count == 1, "unknown columns are named once, not per row")
        let record = try #require(parse.records.first)
        #expect(record.externalId == "7")
        #expect(record.zip5 == "70801" && record.zip4 == "1234")
        #expect(record.suffix == "Jr")
        #expect(record.status == "active")
        #expect(record.extra == ["RESIDENTIAL ADDRESS LINE 1": "12 Main St", "RESIDENTIAL ADDRESS LINE 2": "Apt 4", "VOTER HISTORY": "2020G"])
    }

    @Test func plainCSVUsesTheContractNames() throws {
        let file = "externalId,firstName,lastName,residence.zip5,zip4,registrationDate,status,party\n"
            + "A-1,Bo,Ng,70802,,2021-02-28,inactive,DEM\n"
        let parse = VoterFileParse(file, format: .csv)
        let record = try #require(parse.records.first)
        #expect(record.externalId == "A-1" && record.firstName == "Bo" && record.lastName == "Ng")
        #expect(record.zip5 == "70802" && record.zip4 == nil)
        #expect(record.registrationDate == "2021-02-28" && record.status == "inactive" && record.party == "DEM")
        #expect(parse.header?.unknownColumns == [])
        #expect(parse.rejections.isEmpty)
    }

    @Test func rowsAreRejectedWithRowColumnReasonAndText() {
        let file = Self.laHeader + "\n"
            + "1,Ng,Bo,1980,20200101\n"  // 2: fine
            + "2,Ng,Bo,1980\n"  // 3: too few
            + "3,Ng,Bo,1980,20200101,x\n"  // 4: too many
            + ",Ng,Bo,1980,20200101\n"  // 5: no registration number
            + "6,  ,Bo,1980,20200101\n"  // 6: no last name
            + "7,Ng,Bo,19x0,20200101\n"  // 7: letters in an N column
            + "8,Ng,Bo,1980,20231345\n"  // 8: impossible date
            + "9,Ng,Bo,1980,20230229\n"  // 9: not a leap year
            + "1O,Ng,Bo,1980,20240229\n"  // 10: letter O in the registration number
            + "11,Ng,Bo,1980,20240229\n"  // 11: fine (leap day)
        let parse = VoterFileParse(file)
        #expect(parse.failure == nil)
        #expect(parse.records.map(\.row) == [2, 11])
        let got = parse.rejections.map { "\($0.row) \($0.column ?? "-")" }
        #expect(got == ["3 -", "4 -", "5 REG_NUMBER", "6 LAST_NAME", "7 BIRTH_YEAR", "8 REGISTRATION DATE", "9 REGISTRATION DATE", "10 REG_NUMBER"])
        #expect(parse.rejections[0].message.contains("too few"))
        #expect(parse.rejections[1].message.contains("too many"))
        #expect(parse.rejections[4].message.contains("number"))
        #expect(parse.rejections[5].message.contains("20231345"))
        #expect(parse.rejections[0].rawText == "2,Ng,Bo,1980")
    }

    @Test func notAVoterFileFailsAtOnce() throws {
        func failure(_ bytes: [UInt8], finish: Bool = false) -> NotAVoterFile? {
            var parser = VoterFileParser(format: .louisiana)
            do throws(NotAVoterFile) {
                _ = try parser.parse(ByteBuffer(bytes: bytes))
                if finish { _ = try parser.finish() }
                return nil
            } catch {
                return error
            }
        }
        // Refused by parse() itself, before the end of the file.
        #expect(failure([0x50, 0x4B, 0x03, 0x04, 0x00, 0x00] + Array(repeating: 0x41, count: 100))?.reason.contains("binary") == true)
        #expect(failure(Array("<!DOCTYPE html>\n<html><body>502 Bad Gateway</body></html>\n".utf8))?.reason.contains("HTML") == true)
        #expect(failure(Array("  \n<html>\n".utf8))?.reason.contains("HTML") == true)
        // The header is judged once the first KiB (the binary check's window) has arrived, long before the end.
        let rows = Array(String(repeating: "1,Bo\n", count: 300).utf8)
        #expect(failure(Array("NAME,CITY\n".utf8) + rows)?.reason.contains("registration number") == true)
        #expect(failure(Array("REG_NUMBER,FIRST_NAME\n".utf8) + rows)?.reason.contains("last name") == true)
        #expect(failure(Array("NAME,CITY\n".utf8), finish: true)?.reason.contains("registration number") == true)
        #expect(failure([0xFF, 0xFE] + Array("R\0E\0G\0".utf8))?.reason.contains("UTF-16") == true)
        #expect(failure(Array(repeating: 0x41, count: (1 << 20) + 10))?.reason.contains("line break") == true)
        // Only the end of the file can tell these.
        #expect(failure([], finish: true)?.reason.contains("empty") == true)
        #expect(failure(Array("\u{FEFF}\n\n".utf8), finish: true)?.reason.contains("empty") == true)
        #expect(failure(Array("REG_NUMBER,LAST_NAME\n".utf8), finish: true)?.reason.contains("header") == true)
        #expect(failure(Array("REG_NUMBER,LAST_NAME".utf8), finish: true)?.reason.contains("header") == true)
        #expect(failure(Array("REG_NUMBER,LAST_NAME\n\n\n".utf8), finish: true)?.reason.contains("header") == true)
        #expect(failure(Array("\"REG_NUMBER,LAST_NAME\n1,Ng\n".utf8), finish: true)?.reason.contains("quote") == true)
        #expect(failure(Array("REG_NUMBER,LAST_NAME\n1,Ng".utf8), finish: true) == nil)
    }

    @Test func aNULAfterTheFirstKiBRejectsOnlyItsRow() {
        var bytes = Array(("REG_NUMBER,LAST_NAME\n" + (1...200).map { "\($0),Name\($0)\n" }.joined()).utf8)
        bytes += Array("201,Bad".utf8) + [0] + Array("Name\n202,Ok\n".utf8)
        let parse = VoterFileParse(bytes)
        #expect(parse.failure == nil)
        #expect(parse.records.count == 201)
        #expect(parse.rejections.map(\.row) == [202])
        #expect(parse.rejections.first?.message.contains("NUL") == true)
    }

    @Test func unterminatedQuoteAtTheEndIsARejection() {
        let parse = VoterFileParse("REG_NUMBER,LAST_NAME\n1,Ng\n2,\"Bo\n3,Li\n")
        #expect(parse.failure == nil)
        #expect(parse.records.map(\.externalId) == ["1"])
        #expect(parse.rejections.map(\.row) == [3])
        #expect(parse.rejections.first?.rawText == "2,\"Bo\n3,Li\n")
        #expect(parse.endOffset == Int64("REG_NUMBER,LAST_NAME\n1,Ng\n2,\"Bo\n3,Li\n".utf8.count))
    }

    @Test func anOverlongRowIsSkippedAndReadingGoesOn() {
        let big = String(repeating: "x", count: (1 << 20) + 5)
        let file = "REG_NUMBER,LAST_NAME\n1,Ng\n2,\"\(big)\nstill, the same field\"\n3,Li\r\n"
        for size in [4096, 1 << 16, 3 << 20] {
            let parse = VoterFileParse(file, chunkSize: size)
            #expect(parse.failure == nil)
            #expect(parse.records.map(\.row) == [2, 4], "chunk \(size)")
            #expect(parse.rejections.map(\.row) == [3])
            #expect(parse.rejections.first?.message.contains("longer than") == true)
            #expect(parse.rejections.first.map { $0.rawText.count < 2000 } == true, "an overlong row's text is cut")
        }
    }

    @Test func resumeContinuesFromACheckpoint() throws {
        let file = Array((Self.laHeader + "\r\n" + (1...100).map { "\($0),Last\($0),\"F,\($0)\",1970,20200101\r\n" }.joined()).utf8)
        let whole = VoterFileParse(file)
        #expect(whole.records.count == 100)
        // Stop after some chunk, restart a new parser, read the header again, then resume at the checkpoint.
        var first = VoterFileParser(format: .louisiana)
        let done = try first.parse(ByteBuffer(bytes: file[0..<2000]))
        #expect(done.endOffset > 1500 && done.endOffset < 2000)
        var second = VoterFileParser(format: .louisiana)
        _ = try second.parse(ByteBuffer(bytes: file[0..<1100]))
        #expect(second.header != nil)
        second.resume(at: done.endOffset, row: done.nextRow)
        var records = done.records
        var offset = Int(done.endOffset)
        while offset < file.count {
            let end = min(offset + 33, file.count)
            records += try second.parse(ByteBuffer(bytes: file[offset..<end])).records
            offset = end
        }
        let last = try second.finish()
        records += last.records
        #expect(records == whole.records)
        #expect(last.endOffset == Int64(file.count))
        #expect(last.nextRow == 102)
    }
}
