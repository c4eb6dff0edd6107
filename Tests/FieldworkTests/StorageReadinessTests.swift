import Foundation
import Testing

/// `/ready` checks the configured object store: S3 on moto answers, an endpoint nobody listens on makes it 503.
@Suite struct StorageReadinessTests {
    @Test func readyChecksTheConfiguredS3Store() async throws {
        _ = TestStores.environment
        try await TestStores.bucket.value
        try await Harness.run({ $0.storageURL = TestStores.s3URL }) { h in
            let ready = try await h.call(.get, "/ready")
            #expect(ready.status == .ok, "\(ready.text)")
            #expect((ready.json["checks"] as? [String: String])?["storage"] == "ok")
        }
        try await Harness.run({ $0.storageURL = "s3://fieldwork-test?endpoint=http://127.0.0.1:9&region=us-east-1" }) { h in
            let down = try await h.call(.get, "/ready")
            #expect(down.status == .serviceUnavailable)
            let checks = down.json["checks"] as? [String: String]
            #expect(checks?["storage"]?.hasPrefix("failed") == true, "\(down.text)")
            #expect(checks?["database"] == "ok" && checks?["queue"] == "ok")
        }
    }
}
