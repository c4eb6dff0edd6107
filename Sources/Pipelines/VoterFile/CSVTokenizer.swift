import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One row the tokenizer found: byte positions in `CSVTokenizer.buffer`.
struct CSVRow: Sendable {
    enum Kind: Sendable {
        /// Ended by a line break or the end of the file.
        case complete
        /// Longer than `CSVTokenizer.maxRowBytes`: its bytes were dropped, `prefix` keeps its start for the report.
        case overlong
        /// A quote opened and never closed before the end of the file.
        case unterminated
    }

    var kind: Kind
    /// First byte of the row (for an overlong row, of what is left of it).
    var start: Int
    /// Past the row's last byte, before its line break.
    var end: Int
    /// Past the line break: where the next row starts.
    var next: Int
    var prefix: [UInt8] = []
}

/// Byte-level CSV scanning across chunks: quotes, doubled quotes, quoted commas and line breaks, CRLF, LF or a lone CR.
/// Keeps only the unfinished row between chunks, and never more than `maxRowBytes` of it.
struct CSVTokenizer: Sendable {
    /// A voter row is a few hundred bytes; past this a row is reported and skipped, so memory stays bounded.
    static let maxRowBytes = 1 << 20
    /// How much of an overlong row the report keeps.
    static let prefixBytes = 1024

    private enum State: Sendable { case fieldStart, unquoted, quoted, closingQuote }

    private static let comma: UInt8 = 0x2C
    private static let lineFeed: UInt8 = 0x0A
    private static let carriageReturn: UInt8 = 0x0D

    /// Bytes not yet handed out as rows.
    private(set) var buffer: [UInt8] = []
    /// File offset of `buffer[0]`.
    private(set) var base: Int64 = 0
    /// Where each field of the current row ends (at its comma), relative to the row's start; the last field ends at `end`.
    private(set) var fieldEnds: [Int] = []
    private var rowStart = 0
    private var scanned = 0
    private var state = State.fieldStart
    private var handedOut = false
    /// Set while the rest of an overlong row is being skipped.
    private var overlongPrefix: [UInt8]?

    /// File offset where the row being read starts (or where the next one will).
    var rowOffset: Int64 { base + Int64(rowStart) }

    /// Bytes buffered and not yet handed out as rows.
    var pendingBytes: Int { buffer.count - rowStart }

    /// True while the rest of an overlong row is being skipped.
    var isSkippingOverlongRow: Bool { overlongPrefix != nil }

    /// The bytes not yet scanned, for the parser's own sniffing of the file's start.
    var unscanned: ArraySlice<UInt8> { buffer[scanned...] }

    mutating func append(_ chunk: ByteBuffer) {
        buffer.append(contentsOf: chunk.readableBytesView)
    }

    /// Skips `count` bytes at the current position (a byte-order mark).
    mutating func skip(_ count: Int) {
        rowStart += count
        scanned = max(scanned, rowStart)
    }

    /// Forgets everything: the next bytes appended are at file offset `offset`.
    mutating func reset(at offset: Int64) {
        self = CSVTokenizer()
        base = offset
    }

    /// The next complete row, or nil when more bytes are needed (or, when `finishing`, at the end of the file).
    /// `fieldEnds` describes the returned row until the next call.
    mutating func nextRow(finishing: Bool) -> CSVRow? {
        if handedOut {
            fieldEnds.removeAll(keepingCapacity: true)
            handedOut = false
        }
        var ends = fieldEnds
        fieldEnds = []
        defer { fieldEnds = ends }
        var index = scanned
        var state = self.state
        let start = rowStart
        var terminator: (end: Int, next: Int)?
        buffer.withUnsafeBufferPointer { bytes in
            let count = bytes.count
            scan: while index < count {
                switch state {
                case .quoted:
                    guard let found = Self.firstQuote(bytes, from: index) else {
                        index = count
                        break scan
                    }
                    index = found + 1
                    state = .closingQuote
                case .closingQuote:
                    if bytes[index] == FieldText.quote {
                        state = .quoted
                        index += 1
                    } else {
                        state = .unquoted
                    }
                case .fieldStart:
                    if bytes[index] == FieldText.quote {
                        state = .quoted
                        index += 1
                    } else {
                        state = .unquoted
                    }
                case .unquoted:
                    // Field after field without going back to the outer switch: only a quote opening a field leaves.
                    while true {
                        index = Self.nextSpecial(bytes, from: index)
                        while index < count, !Self.isSpecial(bytes[index]) { index += 1 }
                        guard index < count else { break scan }
                        let byte = bytes[index]
                        if byte == Self.comma {
                            ends.append(index - start)
                            index += 1
                            guard index < count else {
                                state = .fieldStart
                                break scan
                            }
                            if bytes[index] == FieldText.quote {
                                state = .quoted
                                index += 1
                                continue scan
                            }
                            continue
                        }
                        if byte == Self.lineFeed {
                            terminator = (index, index + 1)
                        } else if index + 1 < count {
                            terminator = (index, bytes[index + 1] == Self.lineFeed ? index + 2 : index + 1)
                        } else if finishing {
                            terminator = (index, index + 1)
                        }
                        // A CR as the last byte waits for the next chunk: it may be the first half of a CRLF.
                        break scan
                    }
                }
            }
        }
        if let terminator {
            return handOut(end: terminator.end, next: terminator.next, kind: .complete)
        }
        scanned = index
        self.state = state
        if finishing {
            guard rowStart < buffer.count || overlongPrefix != nil else { return nil }
            return handOut(end: buffer.count, next: buffer.count, kind: state == .quoted ? .unterminated : .complete)
        }
        if overlongPrefix == nil, index - rowStart > Self.maxRowBytes {
            overlongPrefix = Array(buffer[rowStart..<rowStart + Self.prefixBytes])
            ends.removeAll()
        }
        return nil
    }

    /// Drops the bytes of rows already handed out (and of an overlong row being skipped).
    mutating func compact() {
        if overlongPrefix != nil {
            // Fields of a skipped row are never read: keep neither its bytes nor its field positions.
            fieldEnds.removeAll(keepingCapacity: true)
            rowStart = scanned
        }
        guard rowStart > 0 else { return }
        buffer.removeSubrange(0..<rowStart)
        base += Int64(rowStart)
        scanned -= rowStart
        rowStart = 0
    }

    private mutating func handOut(end: Int, next: Int, kind: CSVRow.Kind) -> CSVRow {
        var row = CSVRow(kind: kind, start: rowStart, end: end, next: next)
        if let prefix = overlongPrefix {
            row.kind = .overlong
            row.prefix = prefix
        } else if end - rowStart > Self.maxRowBytes {
            row.kind = .overlong
            row.prefix = Array(buffer[rowStart..<rowStart + Self.prefixBytes])
        }
        overlongPrefix = nil
        rowStart = next
        scanned = next
        state = .fieldStart
        handedOut = true
        return row
    }

    @inline(__always)
    private static func isSpecial(_ byte: UInt8) -> Bool {
        byte <= comma && (byte == comma || byte == lineFeed || byte == carriageReturn)
    }

    /// The first index at or after `index` that may hold a comma, LF or CR, eight bytes at a time
    /// (the classic "has a zero byte" test on the word XORed with each special byte); at most `bytes.count`.
    @inline(__always)
    private static func nextSpecial(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        guard let base = bytes.baseAddress else { return start }
        let raw = UnsafeRawPointer(base)
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        var index = start
        while index + 8 <= bytes.count {
            let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            let comma = word ^ (ones &* 0x2C)
            let lineFeed = word ^ (ones &* 0x0A)
            let carriageReturn = word ^ (ones &* 0x0D)
            let found =
                ((comma &- ones) & ~comma | (lineFeed &- ones) & ~lineFeed | (carriageReturn &- ones) & ~carriageReturn) & highs
            if found != 0 { return index + found.trailingZeroBitCount / 8 }
            index += 8
        }
        return index
    }

    private static func firstQuote(_ bytes: UnsafeBufferPointer<UInt8>, from index: Int) -> Int? {
        guard let base = bytes.baseAddress, index < bytes.count else { return nil }
        guard let found = memchr(base + index, Int32(FieldText.quote), bytes.count - index) else { return nil }
        return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
    }
}
