import Foundation
import NIOCore
import Pipelines
import Testing

/// Everything one run of the parser over a whole file produced, to compare runs fed in different chunkings.
struct VoterFileParse: Equatable {
    var header: VoterFileHeader?
    var records: [VoterRecord] = []
    var rejections: [RowRejection] = []
    var failure: NotAVoterFile?
    var endOffset: Int64 = 0
    var nextRow = 0
    /// Every checkpoint the parser reported, by the number of bytes fed when it reported it.
    var checkpoints: [(offset: Int64, row: Int)] = []

    /// A refused file is equal by its reason alone: how far the parser got before refusing depends on the chunking.
    static func == (lhs: VoterFileParse, rhs: VoterFileParse) -> Bool {
        if lhs.failure != nil || rhs.failure != nil { return lhs.failure == rhs.failure }
        return lhs.header == rhs.header && lhs.records == rhs.records && lhs.rejections == rhs.rejections && lhs.failure == rhs.failure
            && lhs.endOffset == rhs.endOffset && lhs.nextRow == rhs.nextRow
    }

    /// Parses `bytes` fed in pieces cut at `cuts` (offsets into the file).
    init(_ bytes: [UInt8], format: VoterFileFormat = .louisiana, cuts: [Int] = []) {
        var parser = VoterFileParser(format: format)
        var start = 0
        do throws(NotAVoterFile) {
            for end in cuts.filter({ $0 > 0 && $0 < bytes.count }).sorted() + [bytes.count] where end >= start {
                take(try parser.parse(ByteBuffer(bytes: bytes[start..<end])))
                start = end
            }
            take(try parser.finish())
        } catch {
            failure = error
        }
        header = parser.header
    }

    /// Parses `bytes` in pieces of `size` bytes.
    init(_ bytes: [UInt8], format: VoterFileFormat = .louisiana, chunkSize size: Int) {
        self.init(bytes, format: format, cuts: Array(stride(from: size, to: bytes.count, by: size)))
    }

    init(_ text: String, format: VoterFileFormat = .louisiana, chunkSize size: Int = 1 << 20) {
        self.init(Array(text.utf8), format: format, chunkSize: size)
    }

    mutating func take(_ rows: ParsedRows) {
        records += rows.records
        rejections += rows.rejections
        endOffset = rows.endOffset
        nextRow = rows.nextRow
        checkpoints.append((rows.endOffset, rows.nextRow))
    }

    /// Rejections other than the header note.
    var rowRejections: [RowRejection] { rejections.filter { $0.row != header?.row } }
}

/// Files of the test corpus (`Tests/Corpus/voter-files`), read by path.
enum VoterFileCorpus {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Corpus/voter-files")

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
    }
}

/// The helpers above are themselves checked, so a broken helper cannot make the parser tests pass vacuously.
@Suite struct VoterFileParserSupportTests {
    @Test func cutsFeedEveryByteOnce() {
        let text = "REG_NUMBER,LAST_NAME\n1,Ng\n2,Bo\n"
        let whole = VoterFileParse(text)
        #expect(whole.records.map(\.externalId) == ["1", "2"])
        #expect(VoterFileParse(Array(text.utf8), cuts: [3, 3, 9, 50]) == whole)
        #expect(VoterFileParse(text, chunkSize: 1) == whole)
        #expect(whole.endOffset == Int64(text.utf8.count))
    }

    @Test func corpusDirectoryExists() {
        #expect(FileManager.default.fileExists(atPath: VoterFileCorpus.directory.appendingPathComponent("ragged.csv").path))
    }
}
