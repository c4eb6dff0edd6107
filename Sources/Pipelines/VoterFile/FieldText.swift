/// Turns one CSV cell's bytes into text: trims, removes quoting, and decodes per field
/// (valid UTF-8 stays UTF-8, anything else is Windows-1252, so a stray high byte never fails and never becomes mojibake).
enum FieldText {
    static let quote: UInt8 = 0x22

    /// Calls `body` with the cell without surrounding blanks; a quoted cell is unquoted into `scratch` first
    /// (doubled quotes collapse).
    static func withContent<R>(
        _ cell: UnsafeBufferPointer<UInt8>,
        scratch: inout [UInt8],
        _ body: (UnsafeBufferPointer<UInt8>) -> R
    ) -> R {
        let trimmed = trim(cell)
        guard let first = trimmed.first, first == quote else { return body(trimmed) }
        scratch.removeAll(keepingCapacity: true)
        // The tokenizer's rule: a quote opens at the cell's start; inside, `""` is a quote and a lone `"` closes;
        // anything after the closing quote is kept as it is (a lenient reading of `"abc"def`).
        var inQuotes = true
        var index = trimmed.startIndex + 1
        while index < trimmed.endIndex {
            let byte = trimmed[index]
            if inQuotes, byte == quote {
                if index + 1 < trimmed.endIndex, trimmed[index + 1] == quote {
                    scratch.append(quote)
                    index += 2
                    continue
                }
                inQuotes = false
            } else {
                scratch.append(byte)
            }
            index += 1
        }
        return scratch.withUnsafeBufferPointer { body(trim($0)) }
    }

    /// Leading and trailing spaces and tabs removed.
    static func trim(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var lower = bytes.startIndex
        var upper = bytes.endIndex
        while lower < upper, bytes[lower] == 0x20 || bytes[lower] == 0x09 { lower += 1 }
        while upper > lower, bytes[upper - 1] == 0x20 || bytes[upper - 1] == 0x09 { upper -= 1 }
        return UnsafeBufferPointer(rebasing: bytes[lower..<upper])
    }

    /// The text of already unquoted bytes: UTF-8 when they are valid UTF-8, Windows-1252 otherwise.
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        if isASCII(bytes) { return String(decoding: bytes, as: UTF8.self) }
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        // Mixed files exist (a UTF-8 name pasted into a Windows-1252 export): decide run by run of non-ASCII bytes,
        // so neither half turns into mojibake.
        var scalars = String.UnicodeScalarView()
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            guard byte >= 0x80 else {
                scalars.append(Unicode.Scalar(byte))
                index += 1
                continue
            }
            var runEnd = index + 1
            while runEnd < bytes.endIndex, bytes[runEnd] >= 0x80 { runEnd += 1 }
            let run = UnsafeBufferPointer(rebasing: bytes[index..<runEnd])
            if let text = String(validating: run, as: UTF8.self) {
                scalars.append(contentsOf: text.unicodeScalars)
            } else {
                for high in run { scalars.append(Windows1252.scalar(high)) }
            }
            index = runEnd
        }
        return String(scalars)
    }

    static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let raw = UnsafeRawPointer(base)
        var index = 0
        let count = bytes.count
        // Eight bytes at a time: any byte with its high bit set makes the word's mask non-zero.
        while index + 8 <= count {
            if raw.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
            index += 8
        }
        while index < count {
            if base[index] & 0x80 != 0 { return false }
            index += 1
        }
        return true
    }
}

/// Windows-1252, the encoding of files saved by Excel and dBASE tools on Windows.
enum Windows1252 {
    /// 0x80–0x9F; the five bytes the code page leaves undefined map to their C1 controls, as browsers do.
    private static let high: [UInt32] = [
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
        0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
    ]

    static func scalar(_ byte: UInt8) -> Unicode.Scalar {
        if byte >= 0x80, byte < 0xA0 { return Unicode.Scalar(high[Int(byte) - 0x80])! }
        return Unicode.Scalar(byte)
    }
}
