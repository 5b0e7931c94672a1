import Foundation
import Logging
import ReaperCore
import ReaperEngine
import ReaperProviders
import ReaperSandbox
import TestSupport
import Testing

@testable import ReaperConfig

/// `buckets` globs against the sandbox's S3 dialect, which lists its buckets with ListBuckets and pages them by
/// continuation token: which buckets a cycle walks, what it never walks, and what the journal says once.
@Suite("Bucket discovery against the sandbox")
struct BucketDiscoveryTests {
  static let day: TimeInterval = 86_400

  static func bucket(_ name: String) -> SandboxBucket {
    SandboxBucket(name: name, uploads: [SandboxUpload.aged("data/\(name).bin", id: "up-\(name)", age: 3 * day)])
  }

  static let abortStale = Rule(name: "stale", prefix: "data/", maxAge: TimeSpan(seconds: 86_400), action: .abort)

  static func s3Config(
    _ harness: SandboxHarness, buckets: [String], exclude: [String] = [], rules: [Rule] = [abortStale]
  ) -> ReaperConfig {
    // Every bucket holds one stale upload: the breaker's share is not what these tests are about.
    var config = CycleTests.config(harness, buckets: buckets, rules: rules, safety: SafetySettings(maxAbortFraction: 1))
    config.targets[0].provider = .s3
    config.targets[0].region = "us-east-1"
    config.targets[0].excludeBuckets = exclude.map(Glob.init)
    return config
  }

  /// A provider whose bucket listing pages two names at a time, so every test walks the continuation tokens.
  struct SmallPages: UploadProvider {
    let inner: S3Provider
    var target: Target { inner.target }
    func uploads(bucket: String, prefix: String) -> Pages<UploadPage> { inner.uploads(bucket: bucket, prefix: prefix) }
    func parts(of upload: Upload) -> Pages<PartPage> { inner.parts(of: upload) }
    func abort(_ upload: Upload) async throws(ProviderError) -> AbortResult { try await inner.abort(upload) }
    func bucketNames() -> Pages<BucketNamePage> { inner.bucketNames(pageSize: 2) }
  }

  static func run(
    _ config: ReaperConfig, harness: SandboxHarness, options: CycleOptions = CycleOptions(),
    logger: Logger = Logger(label: "test")
  ) async -> CycleSummary {
    let transport = harness.transport
    let cycle = Cycle(
      config: config, options: options, environment: CycleTests.environment,
      makeProvider: { target, credentials -> any UploadProvider in
        SmallPages(inner: S3Provider(target: target, credentials: credentials, transport: transport))
      }, sink: CollectingSink(), logger: logger)
    return await cycle.run()
  }

  @Test func aGlobWalksEveryMatchingBucketLessTheExcludedOnes() async throws {
    let names = ["app-1", "app-2", "app-3-legal-hold", "app-4", "other", "zeta"]
    try await SandboxHarness.with(names.map(Self.bucket)) { harness in
      let config = Self.s3Config(harness, buckets: ["app-*", "zeta"], exclude: ["*-legal-hold"])
      let summary = await Self.run(config, harness: harness)
      #expect(summary.errors.isEmpty, "\(summary.errors)")
      #expect(Set(harness.store.aborted.map(\.bucket)) == ["app-1", "app-2", "app-4", "zeta"])
      #expect(harness.store.uploads(in: "app-3-legal-hold").count == 1)
      #expect(harness.store.uploads(in: "other").count == 1)
      // Six names, two a page: three listings, each one request.
      #expect(harness.store.requestLog.listBuckets == 3)
    }
  }

  @Test func aDiscoveredBucketNoRuleReachesCostsNoWalk() async throws {
    try await SandboxHarness.with(["logs-1", "logs-2", "media"].map(Self.bucket)) { harness in
      let onlyMedia = Rule(
        name: "media", bucket: "med*", maxAge: TimeSpan(seconds: 86_400), action: .abort)
      let config = Self.s3Config(harness, buckets: ["*"], rules: [onlyMedia])
      let summary = await Self.run(config, harness: harness)
      #expect(summary.errors.isEmpty, "\(summary.errors)")
      #expect(harness.store.aborted.map(\.bucket) == ["media"])
      // The two logs buckets, which no rule reaches, are not listed at all: one listing for the one bucket.
      #expect(harness.store.requestLog.listUploads == 1)
      // `list` still shows every upload everywhere.
      harness.store.clearRequestLog()
      _ = await Self.run(config, harness: harness, options: CycleOptions(mode: .list(parts: false)))
      #expect(harness.store.requestLog.listUploads == 3)
    }
  }

  @Test func bucketsThatAppearOrVanishAreSaidOnce() async throws {
    try await SandboxHarness.with(["b-1", "b-2"].map(Self.bucket)) { harness in
      let config = Self.s3Config(harness, buckets: ["b-*"], rules: [])
      let capture = LogCapture()
      var options = CycleOptions(mode: .dryRun)
      options.bucketMemory = BucketMemory()
      let changed = ReaperEvent.bucketsChanged.messageID
      _ = await Self.run(config, harness: harness, options: options, logger: capture.logger)
      #expect(capture.withMessageID(changed).isEmpty, "the first cycle says what matches, not what changed")
      #expect(capture.all.contains { $0.message.contains("bucket globs match 2 bucket(s)") })
      harness.store.add(Self.bucket("b-3"))
      harness.store.remove(bucket: "b-1")
      _ = await Self.run(config, harness: harness, options: options, logger: capture.logger)
      _ = await Self.run(config, harness: harness, options: options, logger: capture.logger)
      let said = capture.withMessageID(changed).map { "\($0.metadata["change"] ?? "")=\($0.metadata["bucket"] ?? "")" }
      #expect(said == ["appeared=b-3", "vanished=b-1"])
    }
  }

  @Test func aFailedBucketListingIsNeverSaidAsBucketsVanishing() async throws {
    try await SandboxHarness.with(["b-1", "named"].map(Self.bucket)) { harness in
      let config = Self.s3Config(harness, buckets: ["b-*", "named"])
      let capture = LogCapture()
      var options = CycleOptions(mode: .dryRun)
      options.bucketMemory = BucketMemory()
      _ = await Self.run(config, harness: harness, options: options, logger: capture.logger)
      harness.store.updateFaults { $0.denyBucketListing = true }
      let summary = await Self.run(config, harness: harness, options: options, logger: capture.logger)
      #expect(summary.failedTargets == ["sandbox"])
      #expect(summary.errors.contains { $0.contains("listing its buckets failed") && $0.contains("AccessDenied") })
      #expect(capture.withMessageID(ReaperEvent.bucketsChanged.messageID).isEmpty)
      // The bucket named outright is still walked; the glob's is not.
      #expect(summary.uploadsSeen == 1)
      harness.store.updateFaults { $0.denyBucketListing = false }
      _ = await Self.run(config, harness: harness, options: options, logger: capture.logger)
      #expect(capture.withMessageID(ReaperEvent.bucketsChanged.messageID).isEmpty)
    }
  }
}

/// PDS drives by glob: ListDrive (`/v2/drive/list`) pages its drive ids, 100 at a time, by `next_marker`.
@Suite("Drive discovery against the sandbox's PDS")
struct DriveDiscoveryTests {
  @Test func aGlobOverDriveIDsListsEveryDrivePageByPage() async throws {
    let ids = (1...230).map { String(format: "2%04d", $0) } + ["legal-1"]
    try await PDSFixture.with(ids.map { SandboxBucket(name: $0, uploads: []) }) { harness in
      let provider = harness.pdsProvider(["*"])
      var names: [String] = []
      for try await page in provider.bucketNames() { names += page.names }
      #expect(names == ids.sorted())
      #expect(harness.store.requestLog.listBuckets == 3)
      let resolution = BucketResolution.resolve(entries: ["2*"], listed: names, exclude: [Glob("2000?")])
      #expect(resolution.buckets.count == 221)
    }
  }

  @Test func aDeniedDriveListingIsAnError() async throws {
    try await PDSFixture.with([SandboxBucket(name: "1", uploads: [])]) { harness in
      harness.store.updateFaults { $0.denyBucketListing = true }
      await #expect(throws: ProviderError.self) {
        for try await _ in harness.pdsProvider(["*"]).bucketNames() {}
      }
    }
  }
}
