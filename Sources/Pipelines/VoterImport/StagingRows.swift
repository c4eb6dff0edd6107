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
            // One call per field, not an array of them: this runs for every field of every row of a file.
            field(r.externalId, to: &buffer)
            field(r.firstName, to: &buffer)
            field(r.middleName, to: &buffer)
            field(r.lastName, to: &buffer)
            field(r.suffix, to: &buffer)
            field(r.birthYear.map(String.init), to: &buffer)
            field(r.sex, to: &buffer)
            field(r.race, to: &buffer)
            field(r.party, to: &buffer)
            field(r.houseNumber, to: &buffer)
            field(r.houseFraction, to: &buffer)
            field(r.streetDirection, to: &buffer)
            field(r.streetName, to: &buffer)
            field(r.unit, to: &buffer)
            field(r.city, to: &buffer)
            field(r.state, to: &buffer)
            field(r.zip5, to: &buffer)
            field(r.zip4, to: &buffer)
            field(r.parish, to: &buffer)
            field(r.ward, to: &buffer)
            field(r.precinct, to: &buffer)
            field(r.congressionalDistrict, to: &buffer)
            field(r.senateDistrict, to: &buffer)
            field(r.houseDistrict, to: &buffer)
            field(r.registrationDate, to: &buffer)
            field(r.status, to: &buffer)
            field(r.phone, to: &buffer)
            field(r.extra.isEmpty ? "{}" : String(decoding: (try? encoder.encode(r.extra)) ?? Data("{}".utf8), as: UTF8.self), to: &buffer)
            buffer.writeInteger(UInt8(ascii: "\n"))
        }
        return buffer
    }

    /// A tab, then the field: `\N` for nil; backslash, tab, line feed and carriage return escaped; NUL (which Postgres
    /// text cannot hold) dropped. One write into the buffer per field (byte by byte, `ByteBuffer`'s checks were a third of
    /// a re-import's worker time).
    static func field(_ value: String?, to buffer: inout ByteBuffer) {
        guard var value else {
            buffer.writeStaticString("\t\\N")
            return
        }
        value.withUTF8 { bytes in
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 1 + 2 * bytes.count) { out in
                out[0] = UInt8(ascii: "\t")
                var n = 1
                for byte in bytes {
                    let escaped: UInt8
                    switch byte {
                    case UInt8(ascii: "\\"): escaped = UInt8(ascii: "\\")
                    case UInt8(ascii: "\t"): escaped = UInt8(ascii: "t")
                    case UInt8(ascii: "\n"): escaped = UInt8(ascii: "n")
                    case UInt8(ascii: "\r"): escaped = UInt8(ascii: "r")
                    case 0: continue
                    default:
                        out[n] = byte
                        n += 1
                        continue
                    }
                    out[n] = UInt8(ascii: "\\")
                    out[n + 1] = escaped
                    n += 2
                }
                return n
            }
        }
    }
}
