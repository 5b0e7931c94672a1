import Foundation
import ReaperConfig
import ReaperCore
import ReaperProviders
import ReaperSandbox
import TestSupport
import Testing

/// A bucket a glob discovers is addressed as `name.endpoint` when the target is virtual-hosted. Host names ignore
/// case and hold no underscore or empty label, so a listed "Prod-Data" would be asked for as host
/// "Prod-Data.endpoint", which the server reads as bucket "prod-data": another bucket than the one the globs and
/// `exclude_buckets` were matched against. Such names are not walked, and the listing says why.
@Suite("Bucket discovery on a virtual-hosted target")
struct VirtualHostDiscoveryTests {
  static func provider(_ harness: SandboxHarness, pathStyle: Bool) -> S3Provider {
    let target = Target(
      name: "vh", provider: .s3, endpoint: harness.endpoint, region: "us-east-1", buckets: ["*"],
      credentialsFile: nil, pathStyle: pathStyle)
    let credentials = Credentials(accessKeyID: SandboxHarness.accessKey, secretAccessKey: SandboxHarness.secretKey)
    return S3Provider(target: target, credentials: credentials, transport: harness.transport)
  }

  static let names = ["Prod-Data", "a..b", "good.name", "ok-1", "under_score", "-dash", "dash-"]

  @Test func namesAHostCannotSpellAreNotWalkedVirtualHosted() async throws {
    try await SandboxHarness.with(Self.names.map { SandboxBucket(name: $0, uploads: []) }) { harness in
      var listed: [String] = []
      var unreadable: [String] = []
      for try await page in Self.provider(harness, pathStyle: false).bucketNames() {
        listed += page.names
        unreadable += page.unreadable
      }
      #expect(listed.sorted() == ["good.name", "ok-1"])
      #expect(unreadable.count == 5, "\(unreadable)")
      #expect(unreadable.contains { $0.contains("Prod-Data") && $0.contains("virtual") })
    }
  }

  @Test func pathStyleWalksThemAll() async throws {
    try await SandboxHarness.with(Self.names.map { SandboxBucket(name: $0, uploads: []) }) { harness in
      var listed: [String] = []
      for try await page in Self.provider(harness, pathStyle: true).bucketNames() { listed += page.names }
      #expect(listed.sorted() == Self.names.sorted())
    }
  }

  @Test func theHostProblemIsSaidPerName() {
    for name in ["prod-data", "a.b.c", "x1", "1-2"] { #expect(BucketPattern.problem(asVirtualHost: name) == nil) }
    for name in ["Prod", "a_b", "a..b", ".a", "a.", "-a", "a-", "a.-b", String(repeating: "a", count: 64)] {
      #expect(BucketPattern.problem(asVirtualHost: name) != nil, "\(name)")
    }
  }
}
