import Foundation
import Synchronization

extension UUID {
    /// A version 7 UUID (RFC 9562): 48 bits of Unix milliseconds, then a 12-bit counter that keeps
    /// ids made within one millisecond increasing in this process (method 1), then 62 random bits.
    /// Rows keyed by these land at the right edge of their B-tree indexes instead of at random
    /// pages, which is what makes a 100,000-row enqueue cheap.
    public static func timeOrdered(now: Date = Date()) -> UUID {
        let millis = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        let (ms, counter) = TimeOrderedClock.shared.next(millis)
        var random = SystemRandomNumberGenerator()
        let tail = random.next() as UInt64
        let bytes: [UInt8] = [
            UInt8(truncatingIfNeeded: ms >> 40), UInt8(truncatingIfNeeded: ms >> 32), UInt8(truncatingIfNeeded: ms >> 24),
            UInt8(truncatingIfNeeded: ms >> 16), UInt8(truncatingIfNeeded: ms >> 8), UInt8(truncatingIfNeeded: ms),
            0x70 | UInt8(truncatingIfNeeded: counter >> 8), UInt8(truncatingIfNeeded: counter),
            0x80 | UInt8(truncatingIfNeeded: tail >> 56) & 0x3F, UInt8(truncatingIfNeeded: tail >> 48),
            UInt8(truncatingIfNeeded: tail >> 40), UInt8(truncatingIfNeeded: tail >> 32), UInt8(truncatingIfNeeded: tail >> 24),
            UInt8(truncatingIfNeeded: tail >> 16), UInt8(truncatingIfNeeded: tail >> 8), UInt8(truncatingIfNeeded: tail),
        ]
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            )
        )
    }
}

/// The last (millisecond, counter) handed out. A clock that steps back keeps the last
/// millisecond; a counter that runs past 12 bits borrows the next millisecond.
final class TimeOrderedClock: Sendable {
    static let shared = TimeOrderedClock()
    private let state = Mutex<(ms: UInt64, counter: UInt16)>((0, 0))

    func next(_ millis: UInt64) -> (UInt64, UInt16) {
        state.withLock { last in
            if millis > last.ms {
                last = (millis, UInt16.random(in: 0..<0x400))
            } else if last.counter < 0xFFF {
                last.counter += 1
            } else {
                last = (last.ms + 1, 0)
            }
            return last
        }
    }
}
