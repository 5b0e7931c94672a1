import Foundation
import Logging
import ReaperCore
import ReaperEngine
import ReaperProviders
import ReaperSandbox
import Synchronization
import TestSupport
import Testing

@testable import ReaperConfig

/// Wraps a provider to change the sandbox at chosen moments: between the decision and the abort.
struct HookedProvider: UploadProvider {
  let inner: CDCSProvider
  /// Called before each parts listing, with how many listings of that upload came before.
  let beforeParts: @Sendable (Upload, Int) -> Void
  let beforeAbort: @Sendable (Upload) -> Void
  let partsCalls = Counter()

  var target: Target { inner.target }
  func uploads(bucket: String, prefix: String) -> Pages<UploadPage> { inner.uploads(bucket: bucket, prefix: prefix) }
  func parts(of upload: Upload) -> Pages<PartPage> {
    beforeParts(upload, partsCalls.next(upload.uploadID))
    return inner.parts(of: upload)
  }
  func abort(_ upload: Upload) async throws(ProviderError) -> AbortResult {
    beforeAbort(upload)
    return try await inner.abort(upload)
  }
}

final class Counter: Sendable {
  private let counts = Mutex<[String: Int]>([:])
  func next(_ key: String) -> Int {
    counts.withLock { counts in
      defer { counts[key, default: 0] += 1 }
      return counts[key, default: 0]
    }
  }
}

@Suite("One cycle against the sandbox")
struct CycleTests {
  static let hour: TimeInterval = 3600
  static let day: TimeInterval = 86_400

  static func rule(
    _ name: String, prefix: String = "", maxAge: String? = "1d", maxIdle: String? = nil, action: RuleAction = .abort
  ) -> Rule {
    Rule(
      name: name, prefix: prefix, maxAge: maxAge.map { try! TimeSpan.parse($0) },
      maxIdle: maxIdle.map { try! TimeSpan.parse($0) }, action: action)
  }

  static func config(
    _ harness: SandboxHarness, buckets: [String], rules: [Rule], safety: SafetySettings = SafetySettings(),
    dryRun: Bool = false, cycleTimeout: Int64 = 3600, maxPages: Int = 100_000
  ) -> ReaperConfig {
    ReaperConfig(
      path: "test.toml",
      daemon: DaemonSettings(
        interval: TimeSpan(seconds: 900), jitter: TimeSpan(seconds: 60), concurrency: 4, stateDirectory: "/tmp",
        dryRun: dryRun, cycleTimeout: TimeSpan(seconds: cycleTimeout), maxPagesPerBucket: maxPages),
      safety: safety, targets: [harness.target(buckets)], rules: RuleSet(rules),
      credentialSources: [
        "sandbox": .environment(prefix: "T_")
      ])
  }

  static let environment = [
    "T_ACCESS_KEY_ID": SandboxHarness.accessKey, "T_SECRET_ACCESS_KEY": SandboxHarness.secretKey,
  ]

  static func run(
    _ config: ReaperConfig, harness: SandboxHarness, options: CycleOptions = CycleOptions(),
    logger: Logger = Logger(label: "test"), wrap: (@Sendable (CDCSProvider) -> any UploadProvider)? = nil
  ) async -> (CycleSummary, [UploadRecord]) {
    let sink = CollectingSink()
    let transport = harness.transport
    let cycle = Cycle(
      config: config, options: options, environment: environment,
      makeProvider: { target, credentials in
        let provider = CDCSProvider(
          target: target, credentials: credentials, transport: transport,
          maximumPages: config.daemon.maxPagesPerBucket)
        return wrap?(provider) ?? provider
      }, sink: sink, logger: logger)
    let summary = await cycle.run()
    return (summary, await sink.records)
  }

  /// Half stale, half fresh, so the default circuit breaker (0.5) lets the stale half through.
  static func mixedBucket(_ name: String, stale: Int, fresh: Int) -> SandboxBucket {
    let uploads =
      (0..<stale).map { SandboxUpload.aged("old/\($0).bin", id: "\(name)-old-\($0)", age: 3 * day) }
      + (0..<fresh).map { SandboxUpload.aged("new/\($0).bin", id: "\(name)-new-\($0)", age: 2 * hour) }
    return SandboxBucket(name: name, uploads: uploads)
  }

  @Test func aForbiddenCofferDoesNotStopTheOthers() async throws {
    let buckets = [Self.mixedBucket("c-1", stale: 3, fresh: 4), Self.mixedBucket("c-2", stale: 2, fresh: 3)]
    try await SandboxHarness.with(buckets) { harness in
      harness.store.updateFaults { $0.denyBuckets = ["c-1"] }
      let config = Self.config(harness, buckets: ["c-1", "c-2"], rules: [Self.rule("old")])
      let (summary, records) = await Self.run(config, harness: harness)
      #expect(summary.errors.count == 1)
      #expect(summary.errors.first?.contains("bucket c-1") == true)
      #expect(summary.errors.first?.contains("AccessDenied") == true)
      #expect(summary.failedTargets == ["sandbox"])
      #expect(Set(harness.store.aborted.map(\.uploadID)) == ["c-2-old-0", "c-2-old-1"])
      #expect(records.filter { $0.upload.bucket == "c-2" }.count == 5)
    }
  }

  @Test func exactlyTheStaleUploadsAreAborted() async throws {
    let bucket = Self.mixedBucket("c-1", stale: 4, fresh: 5)
    try await SandboxHarness.with([bucket]) { harness in
      let config = Self.config(harness, buckets: ["c-1"], rules: [Self.rule("old")])
      let (summary, records) = await Self.run(config, harness: harness)
      #expect(summary.errors.isEmpty)
      #expect(summary.aborted == 4)
      #expect(summary.kept == 5)
      #expect(Set(harness.store.aborted.map(\.uploadID)) == Set((0..<4).map { "c-1-old-\($0)" }))
      #expect(
        Set(records.filter { $0.outcome == .aborted }.map(\.upload.uploadID)) == Set((0..<4).map { "c-1-old-\($0)" }))
      #expect(harness.store.uploads(in: "c-1").count == 5)
    }
  }

  @Test func dryRunAbortsNothing() async throws {
    for (configDry, flagDry) in [(true, false), (false, true)] {
      let bucket = Self.mixedBucket("c-1", stale: 4, fresh: 5)
      try await SandboxHarness.with([bucket]) { harness in
        let config = Self.config(harness, buckets: ["c-1"], rules: [Self.rule("old")], dryRun: configDry)
        let (summary, records) = await Self.run(
          config, harness: harness, options: CycleOptions(mode: flagDry ? .dryRun : .scan))
        #expect(summary.wouldAbort == 4)
        #expect(summary.aborted == 0)
        #expect(harness.store.aborted.isEmpty)
        #expect(harness.store.requestLog.aborts == 0)
        #expect(records.filter { $0.outcome == .wouldAbort }.allSatisfy { $0.reason.hasSuffix("; dry run") })
      }
    }
  }

  @Test func theAbortBudgetLeavesTheRestAsWouldAbort() async throws {
    let bucket = Self.mixedBucket("c-1", stale: 5, fresh: 6)
    try await SandboxHarness.with([bucket]) { harness in
      let safety = SafetySettings(maxAbortsPerCycle: 2)
      let config = Self.config(harness, buckets: ["c-1"], rules: [Self.rule("old")], safety: safety)
      let (summary, records) = await Self.run(config, harness: harness)
      #expect(summary.aborted == 2)
      #expect(summary.wouldAbort == 3)
      #expect(harness.store.aborted.count == 2)
      #expect(records.filter { $0.outcome == .wouldAbort }.allSatisfy { $0.reason.contains("abort budget of 2") })
    }
  }

  @Test func theCircuitBreakerStopsAMostlyStaleTarget() async throws {
    let bucket = Self.mixedBucket("c-1", stale: 6, fresh: 4)
    try await SandboxHarness.with([bucket]) { harness in
      let config = Self.config(harness, buckets: ["c-1"], rules: [Self.rule("old")])
      let (summary, records) = await Self.run(config, harness: harness)
      #expect(summary.aborted == 0)
      #expect(summary.wouldAbort == 6)
      #expect(harness.store.aborted.isEmpty)
      #expect(
        records.filter { $0.outcome == .wouldAbort }.allSatisfy { $0.reason.contains("circuit breaker: 6 of 10") })
    }
  }

  @Test func aNewPartAtRecheckSavesTheUpload() async throws {
    let now = Date()
    let uploads = [
      SandboxUpload.aged("slow.bin", id: "slow", age: 3 * Self.day, parts: [(size: 10, age: 2 * Self.day)]),
      .aged("a", id: "fresh-1", age: 60), .aged("b", id: "fresh-2", age: 60),
    ]
    try await SandboxHarness.with([SandboxBucket(name: "c-1", uploads: uploads)]) { harness in
      let store = harness.store
      let config = Self.config(harness, buckets: ["c-1"], rules: [Self.rule("idle", maxIdle: "1d")])
      let (summary, records) = await Self.run(config, harness: harness) { inner in
        HookedProvider(
          inner: inner,
          beforeParts: { upload, calls in
            // Between the decision and the recheck, the client uploads part 2.
            guard calls == 1, var changed = store.uploads(in: "c-1").first(where: { $0.uploadID == upload.uploadID })
            else { return }
            changed.parts.append(SandboxPart(number: 2, size: 20, lastModified: now))
            store.put([changed], in: "c-1")
          }, beforeAbort: { _ in })
      }
      #expect(summary.skippedRecheck == 1)
      #expect(summary.aborted == 0)
      #expect(store.aborted.isEmpty)
      #expect(records.first { $0.upload.uploadID == "slow" }?.reason.contains("recheck: new part uploaded") == true)
    }
  }

  @Test(arguments: [true, false])
  func anUploadCompletedBeforeTheAbortIsNotAborted(recheck: Bool) async throws {
    let uploads = [SandboxUpload.aged("done.bin", id: "done", age: 3 * Self.day), .aged("a", id: "f1", age: 60)]
    try await SandboxHarness.with([SandboxBucket(name: "c-1", uploads: uploads)]) { harness in
      let store = harness.store
      let safety = SafetySettings(maxAbortFraction: 1, recheckBeforeAbort: recheck)
      let config = Self.config(harness, buckets: ["c-1"], rules: [Self.rule("old")])
      let withSafety = ReaperConfig(
        path: config.path, daemon: config.daemon, safety: safety, targets: config.targets, rules: config.rules,
        credentialSources: config.credentialSources)
      let (summary, records) = await Self.run(withSafety, harness: harness) { inner in
        // The client completes its upload after the listing: before the recheck, or before the abort.
        HookedProvider(
          inner: inner,
          // A rule on age alone lists no parts to decide, so with the re-check on, listing 0 is the re-check's;
          // without it, listing 0 is the decision's and the completion comes before the abort.
          beforeParts: { upload, calls in
            if recheck && calls == 0 { store.complete(uploadID: upload.uploadID, in: "c-1") }
          },
          beforeAbort: { upload in store.complete(uploadID: upload.uploadID, in: "c-1") })
      }
      let record = try #require(records.first { $0.upload.uploadID == "done" })
      #expect(store.aborted.isEmpty)
      #expect(summary.aborted == 0)
      #expect(summary.errors.isEmpty)
      if recheck {
        #expect(record.outcome == .skippedRecheck)
        #expect(record.reason.contains("vanished"))
      } else {
        #expect(record.outcome == .gone)
        #expect(summary.gone == 1)
      }
    }
  }

  /// Clocks that disagree: ages are measured on the earlier one, so neither a proxy's fast `Date` nor a host
  /// that lost NTP makes an upload look older than it is. Said once per target, with its own MESSAGE_ID.
  @Test(arguments: [360.0, -360.0])
  func agesAreMeasuredOnTheEarlierClockAndSkewIsReported(serverAhead: TimeInterval) async throws {
    let earlierNow = { Date().addingTimeInterval(min(0, serverAhead)) }
    let laterNow = { Date().addingTimeInterval(max(0, serverAhead)) }
    // Stale by the later clock (1d 3m), not yet by the earlier one (1d - 3m).
    let edge = SandboxUpload(
      key: "edge.bin", uploadID: "edge", initiated: laterNow().addingTimeInterval(-Self.day - 180))
    // Stale by either clock.
    let old = SandboxUpload(key: "old.bin", uploadID: "old", initiated: earlierNow().addingTimeInterval(-3 * Self.day))
    let filler = (0..<4).map { SandboxUpload.aged("f\($0)", id: "f\($0)", age: 60) }
    let serverClock: @Sendable () -> Date = { Date().addingTimeInterval(serverAhead) }
    try await SandboxHarness.with([SandboxBucket(name: "c-1", uploads: [edge, old] + filler)], clock: serverClock) {
      harness in
      let capture = LogCapture()
      let config = Self.config(harness, buckets: ["c-1"], rules: [Self.rule("old")])
      let (summary, records) = await Self.run(config, harness: harness, logger: capture.logger)
      #expect(harness.store.aborted.map(\.uploadID) == ["old"])
      #expect(records.first { $0.upload.uploadID == "edge" }?.outcome == .kept)
      #expect(summary.errors.isEmpty)
      #expect(summary.notices.count == 1)
      #expect(summary.notices.first?.contains(serverAhead > 0 ? "this host's" : "the server's") == true)
      #expect(capture.withMessageID(ReaperEvent.clockSuspect.messageID).isEmpty)
      let events = capture.withMessageID(ReaperEvent.clockSkew.messageID)
      #expect(events.count == 1)
      #expect(
        events.first?.metadata["skew_seconds"].flatMap(Int.init).map { abs($0 - Int(serverAhead)) < 5 } == true)
    }
  }

  @Test func uploadsInTheServersFutureStopAllAbortsOnTheTarget() async throws {
    var quirks = CDCSQuirks()
    // The server writes zone-less times in +08:00; the target reads them as UTC: 8 hours in the future.
    quirks.serverZoneSeconds = 8 * 3600
    let uploads = [
      SandboxUpload.aged("old-1", id: "old-1", age: 10 * Self.day), .aged("new", id: "new", age: 600),
      .aged("f1", id: "f1", age: 60), .aged("f2", id: "f2", age: 60),
    ]
    try await SandboxHarness.with([SandboxBucket(name: "c-1", quirks: quirks, uploads: uploads)]) { harness in
      let capture = LogCapture()
      let config = Self.config(harness, buckets: ["c-1"], rules: [Self.rule("old")])
      let (summary, records) = await Self.run(config, harness: harness, logger: capture.logger)
      #expect(harness.store.aborted.isEmpty)
      #expect(summary.aborted == 0)
      #expect(records.first { $0.upload.uploadID == "old-1" }?.outcome == .wouldAbort)
      #expect(summary.errors.contains { $0.contains("clock or timezone suspect") })
      #expect(!capture.withMessageID(ReaperEvent.clockSuspect.messageID).isEmpty)
    }
  }

  @Test func aServerThatNeverAnswersFailsTheTargetWithinTheReadTimeout() async throws {
    var settings = SandboxHarness.fastSettings()
    settings.readTimeout = .milliseconds(300)
    settings.maxAttempts = 2
    let bucket = Self.mixedBucket("c-1", stale: 2, fresh: 3)
    try await SandboxHarness.with([bucket], settings: settings) { harness in
      harness.store.updateFaults { $0.hang = true }
      let started = ContinuousClock.now
      let config = Self.config(harness, buckets: ["c-1"], rules: [Self.rule("old")])
      let (summary, _) = await Self.run(config, harness: harness)
      #expect(ContinuousClock.now - started < .seconds(10))
      #expect(summary.failedTargets == ["sandbox"])
      #expect(summary.errors.first?.contains("read timeout") == true, "\(summary.errors)")
      #expect(harness.store.aborted.isEmpty)
    }
  }

  @Test func theCycleTimeoutStopsASlowServer() async throws {
    var quirks = CDCSQuirks()
    quirks.pageLimit = 1
    let uploads = (0..<30).map { SandboxUpload.aged("old/\($0)", id: "o\($0)", age: 3 * Self.day) }
    try await SandboxHarness.with([SandboxBucket(name: "c-1", quirks: quirks, uploads: uploads)]) { harness in
      harness.store.updateFaults { $0.latencyMilliseconds = 200 }
      let safety = SafetySettings(maxAbortFraction: 1)
      let config = Self.config(harness, buckets: ["c-1"], rules: [Self.rule("old")], safety: safety, cycleTimeout: 1)
      let started = ContinuousClock.now
      let (summary, _) = await Self.run(config, harness: harness)
      #expect(ContinuousClock.now - started < .seconds(5))
      #expect(summary.errors.contains { $0.contains("cycle timeout of 1s reached") })
      #expect(harness.store.aborted.isEmpty)
      #expect(summary.uploadsSeen < 30)
    }
  }

  @Test func thePageCapEndsAnEndlessWalk() async throws {
    var quirks = CDCSQuirks()
    quirks.pageLimit = 1
    let uploads = (0..<10).map { SandboxUpload.aged("k\($0)", id: "k\($0)", age: 60) }
    try await SandboxHarness.with([SandboxBucket(name: "c-1", quirks: quirks, uploads: uploads)]) { harness in
      let config = Self.config(harness, buckets: ["c-1"], rules: [Self.rule("old")], maxPages: 4)
      let (summary, _) = await Self.run(config, harness: harness)
      #expect(summary.errors.first?.contains("page limit 4 reached") == true, "\(summary.errors)")
      #expect(harness.store.requestLog.listUploads == 4)
    }
  }

  @Test func shardsSplitTheBucketsWithoutOverlap() async throws {
    let names = (0..<6).map { "c-\($0)" }
    let buckets = names.map { Self.mixedBucket($0, stale: 0, fresh: 2) }
    try await SandboxHarness.with(buckets) { harness in
      var seen: [String] = []
      for index in 1...3 {
        var config = Self.config(harness, buckets: names, rules: [Self.rule("old")])
        config.daemon.shard = Shard(index: index, count: 3)
        let (_, records) = await Self.run(config, harness: harness)
        seen += Set(records.map(\.upload.bucket)).sorted()
      }
      #expect(seen.sorted() == names)
    }
  }
}
