import ArgumentParser
import Foundation
import NIOCore
import Pipelines

/// `fieldwork bench-parse FILE`: times the voter-file parser alone on one core (the parser benchmark).
struct BenchParse: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-parse",
        abstract: "Time the voter-file parser alone on a file (no database, no server).",
        shouldDisplay: false
    )
    @Argument(help: "The voter file to parse.") var file: String
    @Option(help: "louisiana or csv.") var format: String = "louisiana"
    @Option(help: "Bytes fed per call.") var chunkBytes: Int = 1 << 20

    func run() throws {
        guard let format = VoterFileFormat(rawValue: format) else { throw ValidationError("--format must be louisiana or csv") }
        guard let handle = FileHandle(forReadingAtPath: file) else { throw ValidationError("cannot open \(file)") }
        defer { try? handle.close() }
        // The file is read before the clock starts so the figure is the parser's, not the disk's.
        var chunks: [ByteBuffer] = []
        while let data = try handle.read(upToCount: chunkBytes), !data.isEmpty { chunks.append(ByteBuffer(bytes: data)) }
        let bytes = chunks.reduce(0) { $0 + $1.readableBytes }
        var parser = VoterFileParser(format: format)
        var records = 0
        var rejections = 0
        let clock = ContinuousClock()
        let elapsed = try clock.measure {
            for chunk in chunks {
                let rows = try parser.parse(chunk)
                records += rows.records.count
                rejections += rows.rejections.count
            }
            let rows = try parser.finish()
            records += rows.records.count
            rejections += rows.rejections.count
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = Double(bytes) / seconds / 1_000_000
        let line = String(format: "%d bytes, %d records, %d rejections in %.3f s: %.1f MB/s\n", bytes, records, rejections, seconds, rate)
        FileHandle.standardOutput.write(Data(line.utf8))
    }
}
