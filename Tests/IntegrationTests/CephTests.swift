import Foundation
import Logging
import ReaperCore
import ReaperEngine
import ReaperProviders
import TestSupport
import Testing

@testable import ReaperConfig

/// The s3 provider against a real Ceph RGW (started by scripts/test). These must run in CI: a missing
/// cluster fails them rather than skipping them.
@Suite("S3 provider against Ceph RGW", .serialized, .enabled(if: !CephEnvironment.explicitlySkipped))
struct CephTests {
  static let day: TimeInterval = 86_400

  struct Context {
    let ceph: CephEnvironment
    let transport: HTTPTransport
    let client: S3TestClient
    let aged: S3TestClient
  }

  static func with(_ body: (Context) async throws -> Void) async throws {
    guard let ceph = CephEnvironment.current else {
      Issue.record(Comment(rawValue: CephEnvironment.missingMessage))
      return
    }
    let transport = HTTPTransport()
    let context = Context(
      ceph: ceph, transport: transport,
      client: S3TestClient(endpoint: ceph.endpoint, credentials: ceph.credentials, transport: transport),
      aged: S3TestClient(
        endpoint: ceph.agedEndpoint, credentials: ceph.credentials, transport: transport, clockOffset: -10 * day))
    do {
      try await body(context)
    } catch {
      await transport.shutdown()
      throw error
    }
    await transport.shutdown()
  }

  static func freshBucket(_ context: Context, _ label: String) async throws -> String {
    let name = "reaper-\(label)-\(UUID().uuidString.prefix(8).lowercased())"
    try await context.client.createBucket(name)
    return name
  }

  static func provider(
    _ context: Context, bucket: String, pageSize: Int = 1000, credentials: Credentials? = nil
  )
    -> S3Provider
  {
    S3Provider(
      target: context.ceph.target(buckets: [bucket]), credentials: credentials ?? context.ceph.credentials,
      transport: context.transport, pageSize: pageSize)
  }

  static func listAll(
    _ provider: S3Provider, bucket: String, prefix: String = ""
  ) async throws -> (
    uploads: [Upload], pageSizes: [Int]
  ) {
    var uploads: [Upload] = []
    var sizes: [Int] = []
    for try await page in provider.uploads(bucket: bucket, prefix: prefix) {
      uploads += page.uploads
      sizes.append(page.uploads.count)
    }
    return (uploads, sizes)
  }

  static func cycle(_ context: Context, bucket: String, rules: [Rule], secret: String? = nil) async -> CycleSummary {
    let target = context.ceph.target(buckets: [bucket])
    let config = ReaperConfig(
      path: "ceph.toml",
      daemon: DaemonSettings(
        interval: TimeSpan(seconds: 900), jitter: TimeSpan(seconds: 60), concurrency: 16, stateDirectory: "/tmp",
        dryRun: false),
      safety: SafetySettings(), targets: [target], rules: RuleSet(rules),
      credentialSources: ["ceph": .environment(prefix: "C_")])
    let environment = [
      "C_ACCESS_KEY_ID": context.ceph.accessKey, "C_SECRET_ACCESS_KEY": secret ?? context.ceph.secretKey,
    ]
    let cycle = Cycle(
      config: config, options: CycleOptions(), environment: environment,
      makeProvider: Providers.maker(transport: context.transport), sink: NullSink(), logger: Logger(label: "ceph-test"))
    return await cycle.run()
  }

  struct NullSink: RecordSink {
    func emit(_ record: UploadRecord) async {}
  }

  @Test func thousandsOfUploadsAcrossShortTruncatedPages() async throws {
    try await Self.with { context in
      let bucket = try await Self.freshBucket(context, "many")
      let keys = (0..<2600).map { String(format: "many/%05d.bin", $0 / 2) }  // two uploads per key
      let created = try await context.client.initiateMany(bucket: bucket, keys: keys, concurrency: 16)
      let (listed, sizes) = try await Self.listAll(Self.provider(context, bucket: bucket), bucket: bucket)
      #expect(listed.count == 2600)
      #expect(Set(listed.map(\.uploadID)) == Set(created.map(\.1)))
      #expect(sizes.count >= 3)
      // Small pages: a walk of hundreds of requests that must neither skip nor repeat an upload.
      let (small, smallSizes) = try await Self.listAll(
        Self.provider(context, bucket: bucket, pageSize: 7), bucket: bucket, prefix: "many/000")
      #expect(small.count == 200)
      #expect(Set(small.map(\.uploadID)).count == 200)
      #expect(Set(small.map(\.uploadID)).isSubset(of: Set(created.map(\.1))))
      #expect(smallSizes.count >= 29)
      #expect(smallSizes.dropLast().allSatisfy { $0 <= 7 })
    }
  }

  @Test func keysThatNeedEncoding() async throws {
    try await Self.with { context in
      let bucket = try await Self.freshBucket(context, "keys")
      let keys = [
        "a b.bin", "a+b.bin", "100%.bin", "this&that=1?.bin", "上传/文件 1.bin", "tmp/é/ü.bin", "~tilde", "semi;colon",
      ]
      let created = try await context.client.initiateMany(bucket: bucket, keys: keys)
      let provider = Self.provider(context, bucket: bucket)
      let (listed, _) = try await Self.listAll(provider, bucket: bucket)
      #expect(Set(listed.map(\.key)) == Set(keys))
      for upload in listed {
        #expect(created.contains { $0.0 == upload.key && $0.1 == upload.uploadID })
        #expect(try await provider.abort(upload) == .aborted)
      }
      #expect(try await Self.listAll(provider, bucket: bucket).uploads.isEmpty)
    }
  }

  @Test func tenDayOldUploadsAreAbortedAndFreshOnesKept() async throws {
    try await Self.with { context in
      let bucket = try await Self.freshBucket(context, "aged")
      let old = try await context.aged.initiateMany(bucket: bucket, keys: (0..<12).map { "tmp/old-\($0).bin" })
      let fresh = try await context.client.initiateMany(bucket: bucket, keys: (0..<12).map { "tmp/new-\($0).bin" })
      let provider = Self.provider(context, bucket: bucket)
      let (before, _) = try await Self.listAll(provider, bucket: bucket)
      let ages = Dictionary(uniqueKeysWithValues: before.map { ($0.uploadID, Date().timeIntervalSince($0.initiated)) })
      #expect(old.allSatisfy { (ages[$0.1] ?? 0) > 9.9 * Self.day })
      #expect(fresh.allSatisfy { (ages[$0.1] ?? .infinity) < 3600 })

      let rule = Rule(name: "week", prefix: "tmp/", maxAge: try TimeSpan.parse("7d"), action: .abort)
      let summary = await Self.cycle(context, bucket: bucket, rules: [rule])
      #expect(summary.errors.isEmpty, "\(summary.errors)")
      #expect(summary.aborted == 12)
      #expect(summary.kept == 12)
      let (after, _) = try await Self.listAll(provider, bucket: bucket)
      #expect(Set(after.map(\.uploadID)) == Set(fresh.map(\.1)))
    }
  }

  @Test func partSizesAndIdleTime() async throws {
    try await Self.with { context in
      let bucket = try await Self.freshBucket(context, "parts")
      let uploadID = try await context.aged.initiate(bucket: bucket, key: "big.bin")
      for (number, size) in [(1, 1024), (2, 2048), (3, 3072)] {
        try await context.aged.uploadPart(
          bucket: bucket, key: "big.bin", uploadID: uploadID, number: number, size: size)
      }
      let provider = Self.provider(context, bucket: bucket)
      let upload = try #require(try await Self.listAll(provider, bucket: bucket).uploads.first)
      let summary = try await provider.partsSummary(of: upload)
      #expect(summary.count == 3)
      #expect(summary.bytes == 6144)
      #expect(summary.highestPartNumber == 3)
      let idle = Date().timeIntervalSince(try #require(summary.newestModified))
      #expect(idle > 9.9 * Self.day && idle < 10.1 * Self.day)
    }
  }

  @Test func aDoubleAbortIsGone() async throws {
    try await Self.with { context in
      let bucket = try await Self.freshBucket(context, "double")
      _ = try await context.client.initiate(bucket: bucket, key: "once.bin")
      let provider = Self.provider(context, bucket: bucket)
      let upload = try #require(try await Self.listAll(provider, bucket: bucket).uploads.first)
      #expect(try await provider.abort(upload) == .aborted)
      #expect(try await provider.abort(upload) == .gone)
      // Ceph answers NoSuchKey for the parts of an aborted upload: gone too.
      let error = await #expect(throws: ProviderError.self) { _ = try await provider.partsSummary(of: upload) }
      #expect(error?.kind == .gone)
    }
  }

  @Test func wrongCredentialsFailTheTargetAndAbortNothing() async throws {
    try await Self.with { context in
      let bucket = try await Self.freshBucket(context, "creds")
      let created = try await context.aged.initiateMany(bucket: bucket, keys: ["tmp/a.bin", "tmp/b.bin"])
      let rule = Rule(name: "any", maxAge: try TimeSpan.parse("1d"), action: .abort)
      let summary = await Self.cycle(context, bucket: bucket, rules: [rule], secret: "wrong-secret-value")
      #expect(summary.aborted == 0)
      #expect(summary.failedTargets == ["ceph"])
      let error = try #require(summary.errors.first)
      #expect(error.contains("target ceph, bucket \(bucket)"))
      #expect(error.contains("SignatureDoesNotMatch") || error.contains("AccessDenied"))
      #expect(!error.contains("wrong-secret-value"))
      let (left, _) = try await Self.listAll(Self.provider(context, bucket: bucket), bucket: bucket)
      #expect(Set(left.map(\.uploadID)) == Set(created.map(\.1)))
    }
  }
}
