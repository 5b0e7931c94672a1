import Foundation
import ReaperCore
import ReaperEngine
import ReaperProviders
import TestSupport
import Testing

@testable import ReaperConfig

/// Issue 20: `apply` aborts only what a reviewed plan names, each upload decided again now.
@Suite("Applying a plan")
struct PlanApplyTests {
  static let now = Date(timeIntervalSince1970: 1_800_000_000)
  static let day: TimeInterval = 86_400
  static let target = Target(
    name: "t", provider: .s3, endpoint: "http://127.0.0.1:1", region: "us-east-1", buckets: ["b", "c"],
    credentialsFile: nil)

  static func upload(_ index: Int, bucket: String = "b", age: TimeInterval = 20 * day, key: String? = nil) -> Upload {
    Upload(
      target: "t", bucket: bucket, key: key ?? "tmp/\(index).bin", uploadID: "u\(index)",
      initiated: now.addingTimeInterval(-age))
  }

  static func config(rules: [Rule] = [stale], maxAborts: Int = 1000, fraction: Double = 1) -> ReaperConfig {
    ReaperConfig(
      path: "plan.toml",
      daemon: DaemonSettings(
        interval: TimeSpan(seconds: 900), jitter: TimeSpan(seconds: 60), concurrency: 4, stateDirectory: "/tmp",
        dryRun: false),
      safety: SafetySettings(
        minAge: TimeSpan(seconds: 3600), maxAbortsPerCycle: maxAborts, maxAbortFraction: fraction,
        recheckBeforeAbort: true),
      targets: [target], rules: RuleSet(rules), credentialSources: ["t": .environment(prefix: "P_")])
  }

  static let stale = Rule(name: "stale", prefix: "tmp/", maxAge: TimeSpan(seconds: 7 * 86_400), action: .abort)

  static func provider(_ uploads: [Upload], at time: Date = now) -> MemoryProvider {
    var parts: [String: [Part]] = [:]
    for upload in uploads {
      parts[upload.uploadID] = [Part(number: 1, size: 1000, lastModified: upload.initiated.addingTimeInterval(60))]
    }
    return MemoryProvider(
      target: target, uploads: Dictionary(grouping: uploads, by: \.bucket), parts: parts, serverNow: time, pageSize: 3)
  }

  /// A dry run's plannable would-aborts, as `scan --plan` collects them.
  static func plan(_ uploads: [Upload], config: ReaperConfig = config()) async -> [PlanEntry] {
    let (_, records) = await MemoryCycle.run(
      config, provider: provider(uploads), now: now, options: CycleOptions(mode: .dryRun))
    let collector = PlanCollector()
    for record in records { await collector.emit(record) }
    return await collector.sortedEntries
  }

  static func apply(
    _ entries: [PlanEntry], to uploads: [Upload], config: ReaperConfig = config(), at time: Date = now
  ) async -> (CycleSummary, MemoryProvider, [UploadRecord]) {
    var options = CycleOptions()
    options.plan = PlanSet(entries)
    let provider = provider(uploads, at: time)
    let (summary, records) = await MemoryCycle.run(config, provider: provider, now: time, options: options)
    return (summary, provider, records)
  }

  static func record(_ id: String, in records: [UploadRecord]) -> UploadRecord? {
    records.first { $0.upload.uploadID == id }
  }

  @Test func applyAbortsExactlyThePlannedUploadsStillStale() async throws {
    let world = (0..<8).map { Self.upload($0) } + [Self.upload(50, age: 3600)]
    let entries = await Self.plan(world)
    #expect(Set(entries.map(\.uploadID)) == Set((0..<8).map { "u\($0)" }), "the young upload is not planned")
    #expect(entries.allSatisfy { $0.rule == "stale" && $0.bytes == 1000 })
    // u1 completes, a new stale u9 appears, u2's id comes back for another upload.
    var later = world.filter { $0.uploadID != "u1" && $0.uploadID != "u2" } + [Self.upload(9)]
    later.append(Self.upload(2, age: 10 * Self.day))
    let (summary, provider, records) = await Self.apply(entries, to: later, at: Self.now.addingTimeInterval(600))
    let aborted = Set(provider.abortedUploads.map(\.uploadID))
    #expect(aborted == ["u0", "u3", "u4", "u5", "u6", "u7"])
    #expect(summary.aborted == 6)
    let new = try #require(Self.record("u9", in: records))
    #expect(new.outcome == .kept && new.reason.contains("outside the plan"))
    let reused = try #require(Self.record("u2", in: records))
    #expect(reused.outcome == .kept && reused.doubtful && reused.reason.contains("not the planned upload"))
    let gone = try #require(Self.record("u1", in: records))
    #expect(gone.outcome == .gone && gone.reason.contains("no longer listed"))
    #expect(summary.notices.contains { $0.contains("outside the plan") })
  }

  @Test func anUploadNotInThePlanIsNeverAbortedEvenIfStale() async {
    let world = (0..<5).map { Self.upload($0) }
    let entries = await Self.plan(Array(world.prefix(2)))
    let (summary, provider, records) = await Self.apply(entries, to: world)
    #expect(Set(provider.abortedUploads.map(\.uploadID)) == ["u0", "u1"])
    #expect(summary.aborted == 2)
    for id in ["u2", "u3", "u4"] {
      #expect(Self.record(id, in: records)?.decision == .keep)
    }
    // Not even a parts listing: only the planned uploads' re-checks.
    #expect(provider.partsListings == 2)
  }

  @Test func onlyTheBucketsThePlanNamesAreListed() async {
    let world = [Self.upload(0), Self.upload(1, bucket: "c")]
    let entries = await Self.plan([world[0]])
    let (summary, provider, records) = await Self.apply(entries, to: world)
    #expect(provider.abortedUploads.map(\.uploadID) == ["u0"])
    #expect(summary.uploadsSeen == 1)
    #expect(!records.contains { $0.upload.bucket == "c" })
  }

  @Test func aPlannedUploadThatCompletedIsSkipped() async throws {
    let world = [Self.upload(0), Self.upload(1)]
    let entries = await Self.plan(world)
    let (summary, provider, records) = await Self.apply(entries, to: [world[1]])
    #expect(provider.abortedUploads.map(\.uploadID) == ["u1"])
    #expect(summary.gone == 1)
    #expect(try #require(Self.record("u0", in: records)).outcome == .gone)
  }

  @Test func aChangedRuleSkipsTheUpload() async throws {
    let world = [Self.upload(0, key: "tmp/big/0.bin"), Self.upload(1)]
    let entries = await Self.plan(world)
    let narrower = Rule(name: "big", prefix: "tmp/big/", maxAge: TimeSpan(seconds: 86_400), action: .abort)
    let (_, provider, records) = await Self.apply(
      entries, to: world, config: Self.config(rules: [Self.stale, narrower]))
    #expect(provider.abortedUploads.map(\.uploadID) == ["u1"])
    let changed = try #require(Self.record("u0", in: records))
    #expect(changed.outcome == .kept)
    #expect(changed.reason == "now selected by rule big, planned under stale")
    let none = await Self.apply(entries, to: world, config: Self.config(rules: []))
    #expect(none.1.abortedUploads.isEmpty)
    #expect(Self.record("u1", in: none.2)?.reason == "now selected by no rule, planned under stale")
  }

  @Test func aPlannedUploadNoLongerStaleIsKept() async throws {
    let world = [Self.upload(0, age: 8 * Self.day)]
    let entries = await Self.plan(world)
    let longer = Rule(name: "stale", prefix: "tmp/", maxAge: TimeSpan(seconds: 30 * 86_400), action: .abort)
    let (_, provider, records) = await Self.apply(entries, to: world, config: Self.config(rules: [longer]))
    #expect(provider.abortedUploads.isEmpty)
    let kept = try #require(Self.record("u0", in: records))
    #expect(kept.outcome == .kept && kept.reason.hasPrefix("no longer stale: "))
  }

  @Test func anInitiatedMismatchKeepsTheUpload() async throws {
    let world = [Self.upload(0)]
    let entries = await Self.plan(world)
    // The same key and id, initiated one millisecond apart: not the planned upload.
    var moved = world[0]
    moved.initiated = moved.initiated.addingTimeInterval(0.001)
    let (summary, provider, records) = await Self.apply(entries, to: [moved])
    #expect(provider.abortedUploads.isEmpty)
    #expect(summary.aborted == 0)
    #expect(try #require(Self.record("u0", in: records)).doubtful)
  }

  @Test func theBudgetAndBreakerCountOverThePlan() async {
    let world = (0..<6).map { Self.upload($0) }
    let entries = await Self.plan(world)
    let budgeted = await Self.apply(entries, to: world, config: Self.config(maxAborts: 2))
    #expect(budgeted.1.abortedUploads.count == 2)
    #expect(budgeted.0.wouldAbort == 4)
    // Four planned and stale among six listed: more than half, the breaker trips.
    let (summary, provider, _) = await Self.apply(
      Array(entries.prefix(4)), to: world, config: Self.config(fraction: 0.5))
    #expect(provider.abortedUploads.isEmpty)
    #expect(summary.wouldAbort == 4)
  }

  @Test func aPlannedBucketNoLongerConfiguredIsNotListed() async throws {
    let world = [Self.upload(0), Self.upload(1, bucket: "c")]
    let entries = await Self.plan(world)
    var config = Self.config()
    config.targets[0].buckets = ["b"]
    let (_, provider, records) = await Self.apply(entries, to: world, config: config)
    #expect(provider.abortedUploads.map(\.uploadID) == ["u0"])
    let unlisted = try #require(Self.record("u1", in: records))
    #expect(unlisted.doubtful && unlisted.reason.contains("no longer configured"))
  }

  @Test func aTargetThatCannotBeListedKeepsItsPlannedUploadsAndSaysSo() async throws {
    let world = [Self.upload(0), Self.upload(1, bucket: "c")]
    let entries = await Self.plan(world)
    var config = Self.config()
    config.credentialSources = [:]
    let (summary, provider, records) = await Self.apply(entries, to: world, config: config)
    #expect(provider.abortedUploads.isEmpty)
    #expect(!summary.errors.isEmpty)
    #expect(Set(records.map(\.upload.uploadID)) == ["u0", "u1"], "every planned upload has its record")
    #expect(records.allSatisfy { $0.doubtful && $0.reason.contains("did not complete") })
  }

  @Test func forcingIsSaidInTheCycleNotices() async {
    var options = CycleOptions()
    options.plan = PlanSet([])
    options.notes = ["plan p applied under --force \"reviewed\""]
    let (summary, _) = await MemoryCycle.run(
      Self.config(), provider: Self.provider([Self.upload(0)]), now: Self.now, options: options)
    #expect(summary.notices.contains("plan p applied under --force \"reviewed\""))
    #expect(summary.aborted == 0)
  }
}
