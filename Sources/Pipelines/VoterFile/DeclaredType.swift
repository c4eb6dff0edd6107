/// The dBASE field definition a Louisiana header cell carries after its name (`N,10,0`, `C,30`, `D,8`, `L,1`),
/// used to validate every value of the column.
public enum DeclaredType: Sendable, Equatable {
    /// `C,len`. The length is not enforced: exports pad and count bytes, and a name one letter too long is still a voter.
    case text(length: Int)
    /// `N,len,dec` (or `F`): an optional sign, digits, an optional point and more digits.
    case number(length: Int, decimals: Int)
    /// `D,8`: a real calendar date as `YYYYMMDD`.
    case date
    /// `L,1`: T, F, Y, N or ?.
    case logical

    /// The type a header cell's text after its first comma declares, or nil when that text is not a type
    /// (then it is a qualifier such as ` LINE 1`).
    init?(declaration: Substring) {
        let parts = declaration.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingSpaces }
        guard let letter = parts.first, letter.count == 1 else { return nil }
        var sizes: [Int] = []
        for part in parts.dropFirst() {
            guard let size = Int(part), size >= 0 else { return nil }
            sizes.append(size)
        }
        switch letter.uppercased() {
        case "C" where sizes.count <= 1: self = .text(length: sizes.first ?? 0)
        case "N" where sizes.count <= 2: self = .number(length: sizes.first ?? 0, decimals: sizes.count == 2 ? sizes[1] : 0)
        case "F" where sizes.count <= 2: self = .number(length: sizes.first ?? 0, decimals: sizes.count == 2 ? sizes[1] : 0)
        case "D" where sizes.count <= 1: self = .date
        case "L" where sizes.count <= 1: self = .logical
        default: return nil
        }
    }

    /// Why a non-blank, trimmed, unquoted value does not fit, or nil when it fits.
    func problem(with value: UnsafeBufferPointer<UInt8>) -> String? {
        switch self {
        case .text:
            return nil
        case .number:
            return Self.isNumber(value) ? nil : "not a number (declared N)"
        case .date:
            return CalendarDate(compact: value) == nil ? "not a date YYYYMMDD (declared D)" : nil
        case .logical:
            guard value.count == 1 else { return "not a logical value T/F/Y/N (declared L)" }
            return "TtFfYyNn?".utf8.contains(value[0]) ? nil : "not a logical value T/F/Y/N (declared L)"
        }
    }

    private static func isNumber(_ value: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        if let first = value.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") { index = 1 }
        var digits = 0
        var fraction = -1
        while index < value.count {
            let byte = value[index]
            if byte >= 0x30, byte <= 0x39 {
                digits += 1
                if fraction >= 0 { fraction += 1 }
            } else if byte == UInt8(ascii: "."), fraction < 0 {
                fraction = 0
            } else {
                return false
            }
            index += 1
        }
        // The declared decimals are not enforced: "12.50" in an N,5,0 column is still a number, not a bad row.
        return digits > 0
    }
}

/// A calendar date read from a voter file, written back as `YYYY-MM-DD`.
struct CalendarDate: Sendable, Equatable {
    var year: Int
    var month: Int
    var day: Int

    /// `YYYYMMDD`, the dBASE date.
    init?(compact value: UnsafeBufferPointer<UInt8>) {
        guard value.count == 8, let year = Self.digits(value, 0, 4), let month = Self.digits(value, 4, 2),
            let day = Self.digits(value, 6, 2)
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    /// `YYYYMMDD`, `YYYY-MM-DD` or `MM/DD/YYYY` (the US spreadsheet habit).
    init?(any value: UnsafeBufferPointer<UInt8>) {
        if let date = CalendarDate(compact: value) {
            self = date
            return
        }
        let text = String(decoding: value, as: UTF8.self)
        let dashed = text.split(separator: "-", omittingEmptySubsequences: false)
        let slashed = text.split(separator: "/", omittingEmptySubsequences: false)
        if dashed.count == 3, dashed[0].count == 4, let year = Int(dashed[0]), let month = Int(dashed[1]), let day = Int(dashed[2]),
            dashed[1].count <= 2, dashed[2].count <= 2
        {
            self.init(year: year, month: month, day: day)
        } else if slashed.count == 3, slashed[2].count == 4, let month = Int(slashed[0]), let day = Int(slashed[1]),
            let year = Int(slashed[2]), slashed[0].count <= 2, slashed[1].count <= 2
        {
            self.init(year: year, month: month, day: day)
        } else {
            return nil
        }
    }

    init?(year: Int, month: Int, day: Int) {
        guard (1800...2200).contains(year), (1...12).contains(month), day >= 1 else { return nil }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard day <= lengths[month - 1] else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// `YYYY-MM-DD`.
    var iso: String {
        // Ten ASCII digits and dashes written straight into the string: this runs once per voter.
        String(unsafeUninitializedCapacity: 10) { out in
            out[0] = UInt8(0x30 + year / 1000 % 10)
            out[1] = UInt8(0x30 + year / 100 % 10)
            out[2] = UInt8(0x30 + year / 10 % 10)
            out[3] = UInt8(0x30 + year % 10)
            out[4] = UInt8(ascii: "-")
            out[5] = UInt8(0x30 + month / 10)
            out[6] = UInt8(0x30 + month % 10)
            out[7] = UInt8(ascii: "-")
            out[8] = UInt8(0x30 + day / 10)
            out[9] = UInt8(0x30 + day % 10)
            return 10
        }
    }

    /// A whole value of one to nine ASCII digits as a number.
    static func number(_ value: UnsafeBufferPointer<UInt8>) -> Int? {
        guard (1...9).contains(value.count) else { return nil }
        return digits(value, 0, value.count)
    }

    private static func digits(_ value: UnsafeBufferPointer<UInt8>, _ offset: Int, _ count: Int) -> Int? {
        var result = 0
        for index in offset..<offset + count {
            let byte = value[index]
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            result = result * 10 + Int(byte - 0x30)
        }
        return result
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }
}
