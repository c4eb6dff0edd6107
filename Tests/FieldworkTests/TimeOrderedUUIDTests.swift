import Foundation
import Store
import Testing

@Suite struct TimeOrderedUUIDTests {
    /// Version 7 layout: the millisecond clock in the first 48 bits, version 7, RFC variant, and
    /// ids made one after another in this process sort in the order they were made.
    @Test func layoutAndOrder() {
        let before = UInt64(Date().timeIntervalSince1970 * 1000)
        let ids = (0..<5_000).map { _ in UUID.timeOrdered() }
        let after = UInt64(Date().timeIntervalSince1970 * 1000)
        for id in ids {
            let b = id.uuid
            #expect(b.6 >> 4 == 7, "version 7")
            #expect(b.8 >> 6 == 0b10, "RFC 9562 variant")
            let millis = [b.0, b.1, b.2, b.3, b.4, b.5].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            // Other tests make ids at the same time; a full 12-bit counter borrows the next millisecond.
            #expect(millis >= before && millis <= after + 1_000, "the clock")
        }
        let texts = ids.map { $0.uuidString.lowercased() }
        #expect(texts == texts.sorted(), "increasing within one millisecond (the counter) and across borrowed ones")
        #expect(Set(ids).count == ids.count)
    }
}
