#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns one tokenized data row into a `VoterRecord`, or a `RowRejection` naming the row, the column and the reason.
/// Only cells that fill a record field (or `extra`) become `String`s; type checks run on the bytes.
struct VoterRowReader: Sendable {
    let header: VoterFileHeader
    private let columns: [VoterFileColumn]
    // The per-cell loop reads these plain arrays, so it retains no column name on the way.
    private let fields: [VoterField?]
    private let types: [DeclaredType?]
    private var scratch: [UInt8] = []

    init(header: VoterFileHeader) {
        self.header = header
        self.columns = header.columns
        self.fields = header.columns.map(\.field)
        self.types = header.columns.map(\.declaredType)
    }

    /// Reads the row spanning `bytes[start..<end]` (`fieldEnds` are its commas relative to `start`) and appends
    /// its record or its rejection to `out`.
    mutating func read(row: Int, bytes: UnsafeBufferPointer<UInt8>, start: Int, end: Int, fieldEnds: [Int], into out: inout ParsedRows) {
        let rowBytes = UnsafeBufferPointer(rebasing: bytes[start..<end])
        func reject(_ column: String?, _ message: String) {
            out.rejections.append(RowRejection(row: row, column: column, message: message, rawText: FieldText.decode(rowBytes)))
        }
        if fieldEnds.count + 1 != columns.count {
            let found = fieldEnds.count + 1
            return reject(nil, "\(found < columns.count ? "too few" : "too many") fields: expected \(columns.count), found \(found)")
        }
        // Postgres text and jsonb cannot hold a NUL: such a row could never be stored.
        if let base = rowBytes.baseAddress, memchr(base, 0, rowBytes.count) != nil {
            return reject(nil, "the row contains a NUL byte")
        }
        // The record is built in place in the output array: a VoterRecord is about 500 bytes, too big to copy per row.
        out.records.append(VoterRecord(row: row, externalId: "", lastName: ""))
        if let (column, problem) = fill(&out.records[out.records.count - 1], rowBytes, fieldEnds) {
            out.records.removeLast()
            reject(column, problem)
        }
    }

    /// Fills `record` from the row's cells; on the first cell that does not fit, its column name and the reason.
    private mutating func fill(
        _ record: inout VoterRecord,
        _ rowBytes: UnsafeBufferPointer<UInt8>,
        _ fieldEnds: [Int]
    ) -> (String?, String)? {
        var scratch = self.scratch
        self.scratch = []
        defer { self.scratch = scratch }
        // Most rows are plain ASCII: one check per row spares one per cell.
        let ascii = FieldText.isASCII(rowBytes)
        var cellStart = 0
        for index in 0..<fields.count {
            let cellEnd = index < fieldEnds.count ? fieldEnds[index] : rowBytes.count
            let cell = FieldText.trim(UnsafeBufferPointer(rebasing: rowBytes[cellStart..<cellEnd]))
            cellStart = cellEnd + 1
            guard let first = cell.first else { continue }
            let problem =
                first == FieldText.quote
                ? FieldText.withContent(cell, scratch: &scratch) { take(index, $0, ascii: ascii, into: &record) }
                : take(index, cell, ascii: ascii, into: &record)
            if let problem { return (columns[index].name, problem) }
        }
        if record.externalId.isEmpty { return (name(of: .externalId), "no registration number") }
        if record.lastName.isEmpty { return (name(of: .lastName), "no last name") }
        return nil
    }

    /// Checks one cell's unquoted, trimmed value against its column and stores it; says why when it does not fit.
    private func take(_ index: Int, _ value: UnsafeBufferPointer<UInt8>, ascii: Bool, into record: inout VoterRecord) -> String? {
        guard !value.isEmpty else { return nil }
        if let declared = types[index], let problem = declared.problem(with: value) {
            return "\(problem): \(FieldText.decode(value))"
        }
        guard let field = fields[index] else {
            record.extra[columns[index].name] = ascii ? String(decoding: value, as: UTF8.self) : FieldText.decode(value)
            return nil
        }
        return Self.assign(field, value, ascii: ascii, to: &record)
    }

    private func name(of field: VoterField) -> String? {
        columns.first { $0.field == field }?.name
    }

    /// Sets one field from a non-blank value, or says why the value cannot be that field.
    private static func assign(
        _ field: VoterField,
        _ value: UnsafeBufferPointer<UInt8>,
        ascii: Bool,
        to record: inout VoterRecord
    ) -> String? {
        func text(_ value: UnsafeBufferPointer<UInt8>) -> String {
            ascii ? String(decoding: value, as: UTF8.self) : FieldText.decode(value)
        }
        switch field {
        case .externalId:
            guard value.count <= 64, !value.contains(where: { $0 == 0x20 || $0 == 0x09 || $0 < 0x20 }) else {
                return "a registration number has at most 64 characters and no spaces: \(FieldText.decode(value))"
            }
            record.externalId = text(value)
        case .lastName: record.lastName = text(value)
        case .firstName: record.firstName = text(value)
        case .middleName: record.middleName = text(value)
        case .suffix: record.suffix = text(value)
        case .birthYear:
            guard let year = CalendarDate.number(value), (1850...2100).contains(year) else {
                return "not a birth year (1850–2100): \(FieldText.decode(value))"
            }
            record.birthYear = year
        case .sex: record.sex = text(value)
        case .race: record.race = text(value)
        case .party: record.party = text(value)
        case .houseNumber: record.houseNumber = text(value)
        case .houseFraction: record.houseFraction = text(value)
        case .streetDirection: record.streetDirection = text(value)
        case .streetName: record.streetName = text(value)
        case .unit: record.unit = text(value)
        case .city: record.city = text(value)
        case .state: record.state = text(value)
        case .zip5: return assignZip(value, to: &record)
        case .zip4:
            guard value.count == 4, value.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                return "a ZIP+4 extension has 4 digits: \(FieldText.decode(value))"
            }
            record.zip4 = String(decoding: value, as: UTF8.self)
        case .parish: record.parish = text(value)
        case .ward: record.ward = text(value)
        case .precinct: record.precinct = text(value)
        case .congressionalDistrict: record.congressionalDistrict = text(value)
        case .senateDistrict: record.senateDistrict = text(value)
        case .houseDistrict: record.houseDistrict = text(value)
        case .registrationDate:
            guard let date = CalendarDate(any: value) else { return "not a date: \(FieldText.decode(value))" }
            record.registrationDate = date.iso
        case .status:
            if Self.equalsIgnoringCase(value, "A") || Self.equalsIgnoringCase(value, "ACTIVE") {
                record.status = "active"
            } else if Self.equalsIgnoringCase(value, "I") || Self.equalsIgnoringCase(value, "INACTIVE") {
                record.status = "inactive"
            } else {
                return "status is not active (A) or inactive (I): \(FieldText.decode(value))"
            }
        case .phone: record.phone = text(value)
        }
        return nil
    }

    /// `70801`, `70801-1234` or `708011234`: the extension fills `zip4` when the file has no ZIP4 value of its own.
    private static func assignZip(_ value: UnsafeBufferPointer<UInt8>, to record: inout VoterRecord) -> String? {
        let isDigit = { (byte: UInt8) in byte >= 0x30 && byte <= 0x39 }
        let plain = (value.count == 5 || value.count == 9) && value.allSatisfy(isDigit)
        let dashed = value.count == 10 && value[5] == UInt8(ascii: "-") && value[0..<5].allSatisfy(isDigit) && value[6...].allSatisfy(isDigit)
        guard plain || dashed else { return "a ZIP code has 5 digits: \(FieldText.decode(value))" }
        record.zip5 = String(decoding: UnsafeBufferPointer(rebasing: value[0..<5]), as: UTF8.self)
        if value.count > 5, record.zip4 == nil {
            record.zip4 = String(decoding: UnsafeBufferPointer(rebasing: value[(value.count - 4)...]), as: UTF8.self)
        }
        return nil
    }

    private static func equalsIgnoringCase(_ value: UnsafeBufferPointer<UInt8>, _ word: StaticString) -> Bool {
        guard value.count == word.utf8CodeUnitCount else { return false }
        let letters = word.utf8Start
        for index in 0..<value.count where value[index] & 0xDF != letters[index] { return false }
        return true
    }
}
