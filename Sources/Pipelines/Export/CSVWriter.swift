import NIOCore

/// Writes CSV as RFC 4180 says (CRLF line ends; a field with a comma, quote, CR or LF quoted, its quotes doubled),
/// UTF-8 with a byte-order mark so Excel shows accents, and with spreadsheet formulas neutralised.
///
/// Formula injection (OWASP "CSV Injection"): a cell starting with `=`, `+`, `-`, `@`, tab or CR is prefixed with `'`
/// and quoted, so a spreadsheet shows it as text instead of running it. A plain decimal number (`-91.18`, `+3`) is left
/// alone: it cannot be a formula, and coordinates must stay numbers.
public struct CSVWriter: Sendable {
    /// The UTF-8 byte-order mark.
    public static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    public init() {}

    /// Appends one record (nil cells are empty) and its CRLF.
    public func writeRow<Cells: Sequence>(_ cells: Cells, into out: inout ByteBuffer) where Cells.Element == ByteBuffer? {
        var first = true
        for cell in cells {
            if !first { out.writeInteger(UInt8(ascii: ",")) }
            first = false
            if let cell { writeCell(cell.readableBytesView, into: &out) }
        }
        out.writeInteger(UInt16(0x0D0A))
    }

    /// Appends one record that arrived as a one-dimensional `text[]` in binary (`TextArrayCells`), and its CRLF.
    func writeRow(textArray: ByteBuffer, into out: inout ByteBuffer) throws {
        try textArray.withUnsafeReadableBytes { bytes in
            var first = true
            try TextArrayCells.forEach(in: bytes) { cell in
                if !first { out.writeInteger(UInt8(ascii: ",")) }
                first = false
                if let cell { writeCell(cell, into: &out) }
            }
        }
        out.writeInteger(UInt16(0x0D0A))
    }

    /// Appends one record of strings.
    public func writeRow(_ cells: [String], into out: inout ByteBuffer) {
        writeRow(cells.map { Optional(ByteBuffer(string: $0)) }, into: &out)
    }

    func writeCell<Bytes: Collection>(_ bytes: Bytes, into out: inout ByteBuffer) where Bytes.Element == UInt8 {
        let dangerous = bytes.first.map(Self.startsFormula) == true && !Self.isPlainNumber(bytes)
        let needsQuotes = dangerous || bytes.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 10 || $0 == 13 }
        guard needsQuotes else {
            out.writeBytes(bytes)
            return
        }
        out.writeInteger(UInt8(ascii: "\""))
        if dangerous { out.writeInteger(UInt8(ascii: "'")) }
        for byte in bytes {
            if byte == UInt8(ascii: "\"") { out.writeInteger(byte) }
            out.writeInteger(byte)
        }
        out.writeInteger(UInt8(ascii: "\""))
    }

    static func startsFormula(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "=") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "@") || byte == 9 || byte == 13
    }

    /// `[+-]digits[.digits]`: a number a spreadsheet reads as a number, never as a formula.
    static func isPlainNumber<Bytes: Collection>(_ bytes: Bytes) -> Bool where Bytes.Element == UInt8 {
        var digits = 0
        var dots = 0
        for (index, byte) in bytes.enumerated() {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digits += 1
            case UInt8(ascii: "."): dots += 1
            case UInt8(ascii: "+"), UInt8(ascii: "-"): if index != 0 { return false }
            default: return false
            }
        }
        return digits > 0 && dots <= 1
    }
}
