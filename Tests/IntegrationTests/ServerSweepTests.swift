import Foundation
import Logging
import ReaperCore
import ReaperProviders
import ReaperSandbox
import TestSupport
import Testing

@testable import ReaperConfig
@testable import ReaperEngine

/// Issue 20: a bucket's lifecycle rule that aborts incomplete uploads before a reaper rule would is said every
/// cycle (journal, report, metric), through the sandbox's S3 dialect. Advice only: every abort still happens.
@Suite("Server-side sweeps")
struct ServerSweepTests {
  static let day: TimeInterval = 86_400

  static func lifecycle(
    days: String, prefix: String = "tmp/", id: String = "abort-\(UUID().uuidString.prefix(4))"
  )
    -> String
  {
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><LifecycleConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Rule><ID>\(id)</ID><Filter><Prefix>\(prefix)</Prefix></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>\(days)</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule></LifecycleConfiguration>"
  }

  /// One upload past every threshold and three fresh ones, so the circuit breaker lets the stale one through.
  static func bucket(_ name: String, lifecycle: SandboxLifecycle) -> SandboxBucket {
    var bucket = SandboxBucket(
      name: name,
      uploads: [SandboxUpload.aged("tmp/old.bin", id: "\(name)-old", age: 20 * day)]
        + (0..<3).map { SandboxUpload.aged("tmp/new-\($0).bin", id: "\(name)-new-\($0)", age: 600) })
    bucket.lifecycle = lifecycle
    return bucket
  }

  static func config(_ harness: SandboxHarness, buckets: [String], rules: [Rule]) -> ReaperConfig {
    let target = Target(
      name: "s3box", provider: .s3, endpoint: harness.endpoint, region: "us-east-1", buckets: buckets,
      credentialsFile: nil, pathStyle: true)
    return ReaperConfig(
      path: "test.toml",
      daemon: DaemonSettings(
        interval: TimeSpan(seconds: 900), jitter: TimeSpan(seconds: 60), concurrency: 4, stateDirectory: "/tmp",
        dryRun: false),
      safety: SafetySettings(), targets: [target], rules: RuleSet(rules),
      credentialSources: ["s3box": .environment(prefix: "T_")])
  }

  static func run(
    _ config: ReaperConfig, harness: SandboxHarness, logger: Logger, options: CycleOptions = CycleOptions()
  ) async -> CycleSummary {
    let cycle = Cycle(
      config: config, options: options, environment: CycleTests.environment,
      makeProvider: Providers.maker(transport: harness.transport), sink: CollectingSink(), logger: logger)
    return await cycle.run()
  }

  static let tmpRule = CycleTests.rule("tmp", prefix: "tmp/", maxAge: "7d")

  @Test func aShorterSweepIsSaidEveryCycleAndChangesNothing() async throws {
    let buckets = [
      Self.bucket("lc-short", lifecycle: .configuration(Self.lifecycle(days: "3", id: "abort-3d"))),
      Self.bucket("lc-long", lifecycle: .configuration(Self.lifecycle(days: "10"))),
      Self.bucket("lc-none", lifecycle: .none),
    ]
    try await SandboxHarness.with(buckets) { harness in
      let capture = LogCapture()
      let config = Self.config(harness, buckets: buckets.map(\.name), rules: [Self.tmpRule])
      let first = await Self.run(config, harness: harness, logger: capture.logger)
      #expect(first.errors.isEmpty)
      #expect(first.failedTargets.isEmpty)
      // Advice only: the stale upload of every bucket is aborted, the sweep's included.
      #expect(Set(harness.store.aborted.map(\.uploadID)) == ["lc-short-old", "lc-long-old", "lc-none-old"])
      #expect(harness.store.lifecycleReads == 3)

      let events = capture.withMessageID(ReaperEvent.serverSweepConflict.messageID)
      #expect(events.count == 1)
      let event = try #require(events.first)
      #expect(event.level == .warning)
      #expect(event.metadata["target"] == "s3box")
      #expect(event.metadata["bucket"] == "lc-short")
      #expect(event.metadata["lifecycle_rule"] == "abort-3d")
      #expect(event.metadata["lifecycle_prefix"] == "tmp/")
      #expect(event.metadata["lifecycle_days"] == "3")
      #expect(event.metadata["rule"] == "tmp")
      #expect(event.metadata["rule_max_age_seconds"] == "\(7 * 86_400)")
      #expect(event.metadata["coverage"] == "all")
      #expect(event.metadata["conflict"] == "preempted")

      let noticed = first.notices.filter { $0.contains("server-side sweep") }
      #expect(noticed.count == 1)
      #expect(noticed.first?.hasPrefix("target s3box, bucket lc-short: ") == true)
      #expect(noticed.first?.contains("lifecycle rule \"abort-3d\" aborts incomplete uploads 3 days") == true)
      #expect(ReportFormat.jsonSummary(first).contains("abort-3d"))
      #expect(ReportFormat.textSummary(first, dryRun: false).contains("abort-3d"))

      let metrics = CycleMetrics()
      metrics.record(first, config: config, finished: Date())
      let scraped = try PrometheusText(parsing: metrics.text())
      let name = "upload_reaper_server_sweep_conflicts"
      #expect(scraped.types[name] == "gauge")
      #expect(metrics.text().contains("# HELP \(name) \(MetricCatalog.serverSweepConflicts.help)"))
      #expect(scraped.value(name, ["target": "s3box", "bucket": "lc-short"]) == 1)
      #expect(scraped.value(name, ["target": "s3box", "bucket": "lc-long"]) == 0)
      #expect(scraped.value(name, ["target": "s3box", "bucket": "lc-none"]) == 0)

      // Once per cycle: the next cycle says it again.
      let second = await Self.run(config, harness: harness, logger: capture.logger)
      #expect(capture.withMessageID(ReaperEvent.serverSweepConflict.messageID).count == 2)
      #expect(second.notices.filter { $0.contains("server-side sweep") }.count == 1)
      #expect(harness.store.lifecycleReads == 6)
    }
  }

  /// Unknown is never a failure: access denied is said once per bucket for the life of the process, another failure
  /// every cycle, and neither touches the target's success, its errors or its aborts.
  @Test func anUnreadableLifecycleIsUnknownAndSaidNotFailed() async throws {
    let buckets = [Self.bucket("lc-denied", lifecycle: .denied), Self.bucket("lc-failing", lifecycle: .failing)]
    try await SandboxHarness.with(buckets) { harness in
      let capture = LogCapture()
      let config = Self.config(harness, buckets: buckets.map(\.name), rules: [Self.tmpRule])
      let first = await Self.run(config, harness: harness, logger: capture.logger)
      let second = await Self.run(config, harness: harness, logger: capture.logger)
      for summary in [first, second] {
        #expect(summary.errors.isEmpty)
        #expect(summary.errorKinds.isEmpty)
        #expect(summary.failedTargets.isEmpty)
        #expect(summary.serverSweepConflicts.isEmpty)
        #expect(summary.notices.filter { $0.contains("lc-failing") && $0.contains("unknown") }.count == 1)
      }
      #expect(first.notices.filter { $0.contains("lc-denied") && $0.contains("unknown (access denied)") }.count == 1)
      #expect(second.notices.filter { $0.contains("lc-denied") }.isEmpty)
      #expect(Set(harness.store.aborted.map(\.uploadID)) == ["lc-denied-old", "lc-failing-old"])
      #expect(capture.withMessageID(ReaperEvent.serverSweepConflict.messageID).isEmpty)
      #expect(capture.all.filter { $0.message.contains("access denied") }.count == 1)
      let metrics = CycleMetrics()
      metrics.record(second, config: config, finished: Date())
      let scraped = try PrometheusText(parsing: metrics.text())
      // No count for a lifecycle not read: absent, not a reassuring zero.
      #expect(scraped.samples(named: "upload_reaper_server_sweep_conflicts").isEmpty)
      #expect(scraped.value("upload_reaper_last_success_timestamp_seconds", ["target": "s3box"]) != nil)
    }
  }

  /// A lifecycle answer slower than its patience is unknown, and the aborts do not wait for it.
  @Test func aSlowLifecycleAnswerHoldsNothingBack() async throws {
    let buckets = [Self.bucket("lc-slow", lifecycle: .slow(milliseconds: 20_000))]
    try await SandboxHarness.with(buckets) { harness in
      let capture = LogCapture()
      let config = Self.config(harness, buckets: ["lc-slow"], rules: [Self.tmpRule])
      let started = ContinuousClock.now
      let summary = await ServerSweeps.$patience.withValue(.milliseconds(300)) {
        await Self.run(config, harness: harness, logger: capture.logger)
      }
      #expect(ContinuousClock.now - started < .seconds(10))
      #expect(summary.errors.isEmpty)
      #expect(harness.store.aborted.map(\.uploadID) == ["lc-slow-old"])
      #expect(summary.notices.contains { $0.contains("lc-slow") && $0.contains("no answer within") })
    }
  }

  /// A lifecycle that lies (unreadable days, a document that is something else) is said, never a conflict or error.
  @Test func aHostileLifecycleIsSaidNotBelieved() async throws {
    let listing = "<ListMultipartUploadsResult><IsTruncated>false</IsTruncated></ListMultipartUploadsResult>"
    let buckets = [
      Self.bucket("lc-minus", lifecycle: .configuration(Self.lifecycle(days: "-1", id: "minus"))),
      Self.bucket("lc-other", lifecycle: .configuration(listing)),
    ]
    try await SandboxHarness.with(buckets) { harness in
      let capture = LogCapture()
      let config = Self.config(harness, buckets: buckets.map(\.name), rules: [Self.tmpRule])
      let summary = await Self.run(config, harness: harness, logger: capture.logger)
      #expect(summary.errors.isEmpty)
      #expect(capture.withMessageID(ReaperEvent.serverSweepConflict.messageID).isEmpty)
      #expect(
        summary.notices.contains { $0.contains("lc-minus") && $0.contains("\"minus\"") && $0.contains("not compared") })
      #expect(summary.notices.contains { $0.contains("lc-other") && $0.contains("not a <LifecycleConfiguration>") })
      #expect(summary.serverSweepConflicts[HoldingKey(target: "s3box", bucket: "lc-minus", rule: nil)] == 0)
      #expect(summary.serverSweepConflicts[HoldingKey(target: "s3box", bucket: "lc-other", rule: nil)] == nil)
      #expect(harness.store.aborted.count == 2)
    }
  }

  /// `list` reads no lifecycle, nor does a bucket no rule reaches, nor a CDCS target.
  @Test func noLookupWhereItCannotMatter() async throws {
    let buckets = [Self.bucket("lc-short", lifecycle: .configuration(Self.lifecycle(days: "1")))]
    try await SandboxHarness.with(buckets) { harness in
      let capture = LogCapture()
      let config = Self.config(harness, buckets: ["lc-short"], rules: [Self.tmpRule])
      _ = await Self.run(
        config, harness: harness, logger: capture.logger, options: CycleOptions(mode: .list(parts: false)))
      let elsewhere = Rule(name: "x", bucket: "elsewhere", maxAge: TimeSpan(seconds: 86_400), action: .abort)
      let unruled = Self.config(harness, buckets: ["lc-short"], rules: [elsewhere])
      _ = await Self.run(unruled, harness: harness, logger: capture.logger)
      let cdcs = CycleTests.config(harness, buckets: ["lc-short"], rules: [Self.tmpRule])
      _ = await CycleTests.run(cdcs, harness: harness, logger: capture.logger)
      #expect(harness.store.lifecycleReads == 0)
      #expect(capture.withMessageID(ReaperEvent.serverSweepConflict.messageID).isEmpty)
    }
  }

  /// What `check-config --online` prints: conflicts, "unknown (access denied)", nothing for CDCS.
  @Test func serverSweepWarningsForOneBucket() async throws {
    let buckets = [
      Self.bucket("lc-short", lifecycle: .configuration(Self.lifecycle(days: "3", id: "abort-3d"))),
      Self.bucket("lc-denied", lifecycle: .denied), Self.bucket("lc-none", lifecycle: .none),
    ]
    try await SandboxHarness.with(buckets) { harness in
      let config = Self.config(harness, buckets: buckets.map(\.name), rules: [Self.tmpRule])
      let target = try #require(config.targets.first)
      let provider = try Providers.maker(transport: harness.transport)(target, SandboxHarness.credentials)
      let short = await serverSweepWarnings(target: target, bucket: "lc-short", rules: config.rules, provider: provider)
      #expect(short.count == 1)
      #expect(short.first?.isConflict == true)
      #expect(short.first?.description.hasPrefix("target s3box, bucket lc-short: server-side sweep: ") == true)
      // Said every time it is asked, unlike the daemon's once per process.
      for _ in 0..<2 {
        let denied = await serverSweepWarnings(
          target: target, bucket: "lc-denied", rules: config.rules, provider: provider)
        #expect(denied.count == 1)
        #expect(denied.first?.description.contains("unknown (access denied)") == true)
      }
      let none = await serverSweepWarnings(target: target, bucket: "lc-none", rules: config.rules, provider: provider)
      #expect(none.isEmpty)
      let cdcs = harness.provider(["lc-short"])
      let unsupported = await serverSweepWarnings(
        target: harness.target(["lc-short"]), bucket: "lc-short", rules: config.rules, provider: cdcs)
      #expect(unsupported.isEmpty)
      #expect(harness.store.lifecycleReads == 4)
    }
  }

  /// `GET /{bucket}?lifecycle` is not a listing: the sandbox answers it apart, and a listing is still a listing.
  @Test func theSandboxTellsALifecycleReadFromAListing() async throws {
    try await SandboxHarness.with([Self.bucket("lc-none", lifecycle: .none)]) { harness in
      let provider = S3SandboxTests.provider(harness, buckets: ["lc-none"])
      #expect(await provider.serverSweeps(bucket: "lc-none") == .read(.none))
      #expect(harness.store.requestLog.listUploads == 0)
      #expect(harness.store.requestLog.total == 0)
      harness.store.setLifecycle(.configuration(Self.lifecycle(days: "5", prefix: "a/", id: "five")), for: "lc-none")
      #expect(
        await provider.serverSweeps(bucket: "lc-none")
          == .read(LifecycleReading(sweeps: [ServerSweep(ruleID: "five", days: 5, prefix: "a/")])))
      let wrongSecret = S3SandboxTests.provider(harness, buckets: ["lc-none"], secret: "wrong")
      guard case .accessDenied(let message) = await wrongSecret.serverSweeps(bucket: "lc-none") else {
        Issue.record("a bad signature is not access denied")
        return
      }
      #expect(message.contains("SignatureDoesNotMatch"))
      guard case .failed(let missing) = await provider.serverSweeps(bucket: "no-such-bucket") else {
        Issue.record("a missing bucket is not a failure")
        return
      }
      #expect(missing.contains("NoSuchBucket"))
      #expect(harness.store.lifecycleReads == 4)
    }
  }
}
