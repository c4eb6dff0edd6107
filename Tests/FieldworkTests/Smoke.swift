import Testing
import HummingbirdTesting
import CHiredis
@Test func smoke() { #expect(Bool(true)) }
