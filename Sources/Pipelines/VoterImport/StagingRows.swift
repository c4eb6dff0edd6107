import Foundation
import NIOCore

/// Voter records in `COPY … FROM STDIN` text format, one line per record, in `VoterStaging.columns` order.
enum StagingRows {
    /// Encodes `records` into one buffer (a batch is at most a few MB).
    static func encode(_ records: [VoterRecord]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(records.count * 200)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for r in records {
            buffer.writeString(String(r.row))
            for value in [
                r.externalId, r.firstName, r.middleName, r.lastName, r.suffix, r.birthYear.map(String.init), r.sex, r.race, r.party,
                r.houseNumber, r.houseFraction, r.streetDirection, r.streetName, r.unit, r.city, r.state, r.zip5, r.zip4,
                r.parish, r.ward, r.precinct, r.congressionalDistrict, r.senateDistrict, r.houseDistrict, r.registrationDate,
                r.status, r.phone,
            ] {
                buffer.writeInteger(UInt8(ascii: "\t"))
                write(value, to: &buffer)
            }
            buffer.writeInteger(UInt8(ascii: "\t"))
            let extra = r.extra.isEmpty ? "{}" : String(decoding: (try? encoder.encode(r.extra)) ?? Data("{}".utf8), as: UTF8.self)
            write(extra, to: &buffer)
            buffer.writeInteger(UInt8(ascii: "\n"))
        }
        return buffer
    }

    /// A field: `\N` for nil; backslash, tab, line feed and carriage return escaped; NUL (which Postgres text cannot hold) dropped.
    static func write(_ value: String?, to buffer: inout ByteBuffer) {
        guard let value else {
            buffer.writeStaticString("\\N")
            return
        }
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
            case UInt8(ascii: "\t"): buffer.writeStaticString("\\t")
            case UInt8(ascii: "\n"): buffer.writeStaticString("\\n")
            case UInt8(ascii: "\r"): buffer.writeStaticString("\\r")
            case 0: continue
            default: buffer.writeInteger(byte)
            }
        }
    }
}
