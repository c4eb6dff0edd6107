import Foundation
import NIOCore
import Pipelines
import PropertyBased
import Testing

/// Property tests (issue 11 §6): random valid files round-trip (records → CSV with random quoting, line endings,
/// encodings and chunking → the same records), and random byte soup always ends in a result or a clean refusal.
@Suite struct VoterFileParserPropertyTests {
    @Test func randomValidFilesRoundTrip() async {
        await propertyCheck(count: 150, input: Gen.int(in: 0...Int.max)) { seed in
            var random = SplitMix(seed: UInt64(seed))
            let windows1252 = random.chance(0.3)
            let records = (0..<random.int(0...40)).map { VoterFileWriter.record(row: 0, index: $0, latin1Only: windows1252, &random) }
            let file = VoterFileWriter.file(records, windows1252: windows1252, &random)
            let cuts = (0..<random.int(0...6)).map { _ in random.int(0...max(1, file.bytes.count)) }
            let parse = VoterFileParse(file.bytes, cuts: cuts)
            if records.isEmpty {
                #expect(parse.failure?.reason.contains("header") == true, "seed \(seed)")
                return
            }
            #expect(parse.failure == nil, "seed \(seed)")
            #expect(parse.rejections.isEmpty, "seed \(seed): \(parse.rejections.first.map { "\($0)" } ?? "")")
            #expect(parse.records == file.expected, "seed \(seed)")
            #expect(parse.endOffset == Int64(file.bytes.count), "seed \(seed)")
        }
    }

    @Test func byteSoupNeverCrashesAndAlwaysFinishes() async {
        await propertyCheck(count: 300, input: Gen.int(in: 0...Int.max)) { seed in
            var random = SplitMix(seed: UInt64(seed))
            // Half the soups start with a real header so the row reader is exercised, not just the refusals.
            var bytes = random.chance(0.5) ? Array("REG_NUMBER,LAST_NAME,FIRST_NAME,\"BIRTH_YEAR,N,4,0\"\n".utf8) : []
            let alphabet: [UInt8] = Array(",\"\r\n ab19\t".utf8) + [0x00, 0x80, 0xE9, 0xC3, 0xA9, 0xEF, 0xBB, 0xBF, 0xFF, 0x3C]
            for _ in 0..<random.int(0...3000) {
                bytes.append(random.chance(0.8) ? alphabet[random.int(0...(alphabet.count - 1))] : UInt8(random.int(0...255)))
            }
            let cuts = (0..<random.int(0...8)).map { _ in random.int(0...max(1, bytes.count)) }
            let whole = VoterFileParse(bytes)
            #expect(VoterFileParse(bytes, cuts: cuts) == whole, "seed \(seed): the chunking changed the result")
            if whole.failure == nil {
                #expect(whole.endOffset == Int64(bytes.count), "seed \(seed): every byte is accounted for")
                let rows = whole.records.map(\.row) + whole.rowRejections.map(\.row)
                #expect(Set(rows).count == rows.count, "seed \(seed): a row is a record or a rejection, never both")
            }
        }
    }
}

/// A small deterministic random source, so a failing seed reproduces.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    mutating func chance(_ probability: Double) -> Bool { Double(next() % 1_000_000) / 1_000_000 < probability }

    mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }
}

/// Writes records as a Louisiana-style file the way real exports vary: quoting, line endings, BOM, encoding.
enum VoterFileWriter {
    static let header = ["\"REG_NUMBER,N,10,0\"", "\"LAST_NAME,C,30\"", "\"FIRST_NAME,C,30\"", "\"BIRTH_YEAR,N,4,0\"",
                         "\"REGISTRATION DATE,D,8\"", "PARISH"]

    static func text(_ random: inout SplitMix, latin1Only: Bool, optional: Bool) -> String? {
        if optional, random.chance(0.3) { return nil }
        // In a Windows-1252 file only letters whose bytes are not UTF-8 continuation bytes: "é’" is E9 92, a valid
        // start of a UTF-8 sequence, and a file that happens to be valid UTF-8 is read as UTF-8 (the documented rule).
        let inner: [String] = ["a", "Z", "é", "ü", "Ç", ",", "\"", " ", "\n", "\r\n", "\r", "'", "-"]
            + (latin1Only ? ["ñ"] : ["ł", "漢", "🙂", "€"])
        let edge = ["a", "Q", "é", "\"", ",", "x", "ñ"]
        var value = random.pick(edge)
        for _ in 0..<random.int(0...8) { value += random.pick(inner) }
        value += random.pick(edge)  // never a trailing blank: values are trimmed
        return value
    }

    static func record(row: Int, index: Int, latin1Only: Bool, _ random: inout SplitMix) -> VoterRecord {
        var record = VoterRecord(row: row, externalId: String(100_000 + index), lastName: text(&random, latin1Only: latin1Only, optional: false)!)
        record.firstName = text(&random, latin1Only: latin1Only, optional: true)
        record.birthYear = random.chance(0.7) ? random.int(1900...2007) : nil
        if random.chance(0.7) {
            record.registrationDate = String(format: "%04d-%02d-%02d", random.int(1950...2025), random.int(1...12), random.int(1...28))
        }
        record.parish = text(&random, latin1Only: latin1Only, optional: true)
        return record
    }

    static func file(_ records: [VoterRecord], windows1252: Bool, _ random: inout SplitMix) -> (bytes: [UInt8], expected: [VoterRecord]) {
        let ending = random.pick(["\n", "\r\n", "\r"])
        var text = random.chance(0.3) && !windows1252 ? "\u{FEFF}" : ""
        text += header.joined(separator: ",") + ending
        var expected: [VoterRecord] = []
        var row = 2
        for var record in records {
            if random.chance(0.1) {
                text += ending  // a blank line is a row of its own
                row += 1
            }
            let cells = [record.externalId, record.lastName, record.firstName, record.birthYear.map(String.init),
                         record.registrationDate.map { $0.replacingOccurrences(of: "-", with: "") }, record.parish]
            text += cells.map { cell($0 ?? "", &random) }.joined(separator: ",")
            text += ending
            record.row = row
            expected.append(record)
            row += 1
        }
        if random.chance(0.3), text.hasSuffix(ending) { text.removeLast(ending.count) }
        // Every scalar the Windows-1252 generator uses is Latin-1, where the code page and Unicode agree.
        let bytes = windows1252 ? text.unicodeScalars.map { UInt8($0.value) } : Array(text.utf8)
        return (bytes, expected)
    }

    private static func cell(_ value: String, _ random: inout SplitMix) -> String {
        let mustQuote = value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
        guard mustQuote || random.chance(0.2) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
