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
    private var scratch: [UInt8] = []

    init(header: VoterFileHeader) {
        self.header = header
        self.columns = header.columns
    }

    enum Outcome {
        case record(VoterRecord)
        case rejection(RowRejection)
    }

    /// `row` spans `bytes[start..<end]`; `fieldEnds` are its commas relative to `start`.
    mutating func read(row: Int, bytes: UnsafeBufferPointer<UInt8>, start: Int, end: Int, fieldEnds: [Int]) -> Outcome {
        let rowBytes = UnsafeBufferPointer(rebasing: bytes[start..<end])
        func reject(_ column: String?, _ message: String) -> Outcome {
            .rejection(RowRejection(row: row, column: column, message: message, rawText: FieldText.decode(rowBytes)))
        }
        if fieldEnds.count + 1 != columns.count {
            let found = fieldEnds.count + 1
            return reject(nil, "\(found < columns.count ? "too few" : "too many") fields: expected \(columns.count), found \(found)")
        }
        // Postgres text and jsonb cannot hold a NUL: such a row could never be stored.
        if let base = rowBytes.baseAddress, memchr(base, 0, rowBytes.count) != nil {
            return reject(nil, "the row contains a NUL byte")
        }
        var record = VoterRecord(row: row, externalId: "", lastName: "")
        var cellStart = 0
        for (index, column) in columns.enumerated() {
            let cellEnd = index < fieldEnds.count ? fieldEnds[index] : rowBytes.count
            let cell = UnsafeBufferPointer(rebasing: rowBytes[cellStart..<cellEnd])
            cellStart = cellEnd + 1
            let problem: String? = FieldText.withContent(cell, scratch: &scratch) { value in
                guard !value.isEmpty else { return nil }
                if let declared = column.declaredType, let problem = declared.problem(with: value) {
                    return "\(problem): \(FieldText.decode(value))"
                }
                guard let field = column.field else {
                    record.extra[column.name] = FieldText.decode(value)
                    return nil
                }
                return Self.assign(field, value, to: &record)
            }
            if let problem { return reject(column.name, problem) }
        }
        if record.externalId.isEmpty { return reject(name(of: .externalId), "no registration number") }
        if record.lastName.isEmpty { return reject(name(of: .lastName), "no last name") }
        return .record(record)
    }

    private func name(of field: VoterField) -> String? {
        columns.first { $0.field == field }?.name
    }

    /// Sets one field from a non-blank value, or says why the value cannot be that field.
    private static func assign(_ field: VoterField, _ value: UnsafeBufferPointer<UInt8>, to record: inout VoterRecord) -> String? {
        switch field {
        case .externalId:
            guard value.count <= 64, !value.contains(where: { $0 == 0x20 || $0 == 0x09 || $0 < 0x20 }) else {
                return "a registration number has at most 64 characters and no spaces: \(FieldText.decode(value))"
            }
            record.externalId = FieldText.decode(value)
        case .lastName: record.lastName = FieldText.decode(value)
        case .firstName: record.firstName = FieldText.decode(value)
        case .middleName: record.middleName = FieldText.decode(value)
        case .suffix: record.suffix = FieldText.decode(value)
        case .birthYear:
            guard value.count == 4, let year = Int(String(decoding: value, as: UTF8.self)), (1850...2100).contains(year) else {
                return "not a birth year (1850–2100): \(FieldText.decode(value))"
            }
            record.birthYear = year
        case .sex: record.sex = FieldText.decode(value)
        case .race: record.race = FieldText.decode(value)
        case .party: record.party = FieldText.decode(value)
        case .houseNumber: record.houseNumber = FieldText.decode(value)
        case .houseFraction: record.houseFraction = FieldText.decode(value)
        case .streetDirection: record.streetDirection = FieldText.decode(value)
        case .streetName: record.streetName = FieldText.decode(value)
        case .unit: record.unit = FieldText.decode(value)
        case .city: record.city = FieldText.decode(value)
        case .state: record.state = FieldText.decode(value)
        case .zip5: return assignZip(value, to: &record)
        case .zip4:
            guard value.count == 4, value.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                return "a ZIP+4 extension has 4 digits: \(FieldText.decode(value))"
            }
            record.zip4 = String(decoding: value, as: UTF8.self)
        case .parish: record.parish = FieldText.decode(value)
        case .ward: record.ward = FieldText.decode(value)
        case .precinct: record.precinct = FieldText.decode(value)
        case .congressionalDistrict: record.congressionalDistrict = FieldText.decode(value)
        case .senateDistrict: record.senateDistrict = FieldText.decode(value)
        case .houseDistrict: record.houseDistrict = FieldText.decode(value)
        case .registrationDate:
            guard let date = CalendarDate(any: value) else { return "not a date: \(FieldText.decode(value))" }
            record.registrationDate = date.iso
        case .status:
            switch String(decoding: value, as: UTF8.self).uppercased() {
            case "A", "ACTIVE": record.status = "active"
            case "I", "INACTIVE": record.status = "inactive"
            default: return "status is not active (A) or inactive (I): \(FieldText.decode(value))"
            }
        case .phone: record.phone = FieldText.decode(value)
        }
        return nil
    }

    /// `70801`, `70801-1234` or `708011234`: the extension fills `zip4` when the file has no ZIP4 value of its own.
    private static func assignZip(_ value: UnsafeBufferPointer<UInt8>, to record: inout VoterRecord) -> String? {
        let digits = value.filter { $0 != UInt8(ascii: "-") }
        let isDigits = digits.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
        let dashes = value.count - digits.count
        guard isDigits, digits.count == 5 && dashes == 0 || digits.count == 9 && (dashes == 0 || value[5] == UInt8(ascii: "-") && dashes == 1)
        else { return "a ZIP code has 5 digits: \(FieldText.decode(value))" }
        record.zip5 = String(decoding: digits[0..<5], as: UTF8.self)
        if digits.count == 9, record.zip4 == nil { record.zip4 = String(decoding: digits[5..<9], as: UTF8.self) }
        return nil
    }
}
