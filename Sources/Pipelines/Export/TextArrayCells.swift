import NIOCore

/// The elements of a one-dimensional `text[]` in Postgres's binary format (`array_send`, which PostgresNIO asks for),
/// read in place: an export's row arrives as one such array, so the writer walks its cells as byte ranges of one
/// buffer instead of PostgresNIO building a `PostgresCell` (a buffer slice and a column name) per cell, which was
/// most of the export worker's time.
///
/// The format: dimensions, has-nulls flag and element type (three 32-bit big-endian integers); per dimension its
/// length and lower bound; then per element a 32-bit length (-1 for NULL) and that many bytes.
enum TextArrayCells {
    struct Malformed: Error, CustomStringConvertible {
        let reason: String
        var description: String { "an export row is not a one-dimensional text array: \(reason)" }
    }

    static let textOid: Int32 = 25

    /// Calls `body` with each element's bytes (nil for NULL), in order.
    static func forEach(in bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer?) throws -> Void) throws {
        var at = 0
        func int32() throws -> Int32 {
            guard at + 4 <= bytes.count else { throw Malformed(reason: "it ends early") }
            let value = Int32(bigEndian: bytes.loadUnaligned(fromByteOffset: at, as: Int32.self))
            at += 4
            return value
        }
        let dimensions = try int32()
        _ = try int32()  // has nulls
        let type = try int32()
        guard dimensions == 0 || dimensions == 1 else { throw Malformed(reason: "\(dimensions) dimensions") }
        guard type == textOid else { throw Malformed(reason: "element type \(type)") }
        guard dimensions == 1 else { return }
        let count = try int32()
        _ = try int32()  // lower bound
        guard count >= 0 else { throw Malformed(reason: "\(count) elements") }
        for _ in 0..<count {
            let length = Int(try int32())
            if length < 0 {
                try body(nil)
                continue
            }
            guard at + length <= bytes.count else { throw Malformed(reason: "an element runs past its end") }
            try body(UnsafeRawBufferPointer(rebasing: bytes[at..<at + length]))
            at += length
        }
    }
}
