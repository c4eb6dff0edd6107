/// Looks at the first KiB of a file before it is read as CSV: skips a UTF-8 byte-order mark and refuses at once
/// what cannot be a voter file (binary data, UTF-16 text, an HTML or XML page).
struct VoterFileSniffer: Sendable {
    /// How far into the file the binary check looks.
    static let window: Int64 = 1024
    /// Control bytes other than tab, line breaks and form feed that text may still carry (a stray ^Z from DOS).
    private static let toleratedControls = 8

    private var sniffed: Int64 = 0
    private var controls = 0
    private var bomHandled = false
    private var sawText = false

    /// True once the whole window has been checked.
    var isDone: Bool { bomHandled && sniffed >= Self.window }

    /// Checks the new bytes of the window; false when more bytes are needed before rows can be read.
    mutating func sniff(_ tokenizer: inout CSVTokenizer, finishing: Bool) throws(NotAVoterFile) -> Bool {
        let bytes = tokenizer.buffer
        if !bomHandled {
            if tokenizer.base != 0 {
                bomHandled = true
            } else if bytes.count >= 3 || finishing {
                if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { tokenizer.skip(3) }
                if bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) {
                    throw NotAVoterFile("the file is UTF-16 text: save it as CSV in UTF-8 or Windows-1252")
                }
                bomHandled = true
            } else {
                return false
            }
        }
        let from = max(sniffed, tokenizer.base)
        if from >= Self.window {
            sniffed = Self.window
            return true
        }
        let to = min(Self.window, tokenizer.base + Int64(bytes.count))
        guard from < to else { return true }
        for offset in from..<to {
            let byte = bytes[Int(offset - tokenizer.base)]
            if offset < 3, tokenizer.base == 0, bytes.starts(with: [0xEF, 0xBB, 0xBF]) { continue }
            if byte == 0 { throw NotAVoterFile("binary data: a NUL byte at offset \(offset)") }
            if byte < 0x20, byte != 0x09, byte != 0x0A, byte != 0x0D, byte != 0x0C {
                controls += 1
                if controls > Self.toleratedControls { throw NotAVoterFile("binary data: control bytes in the first KiB") }
            }
            if !sawText, byte != 0x20, byte != 0x09, byte != 0x0A, byte != 0x0D {
                sawText = true
                if byte == UInt8(ascii: "<") { throw NotAVoterFile("an HTML or XML page, not a CSV voter file") }
            }
        }
        sniffed = to
        return true
    }
}
