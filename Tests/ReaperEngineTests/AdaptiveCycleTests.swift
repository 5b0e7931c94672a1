import Foundation
import ReaperCore
import ReaperEngine
import ReaperProviders
import Synchronization
import TestSupport
import Testing

@testable import ReaperConfig

/// A provider over memory that tells the task's observer what each parts listing came to, as the transport
/// does, and counts how many listings are under way at once.
struct ObservedProvider: UploadProvider {
  let inner: MemoryProvider
  let outcome: RequestOutcome
  let concurrency = ConcurrencyGauge()

  var target: Target { inner.target }
  func uploads(bucket: String, prefix: String) -> Pages<UploadPage> { inner.uploads(bucket: bucket, prefix: prefix) }
  func abort(_ upload: Upload) async throws(ProviderError) -> AbortResult { try await inner.abort(upload) }

  func parts(of upload: Upload) -> Pages<PartPage> {
    let inner = inner
    let outcome = outcome
    let concurrency = concurrency
    return Pages(
      stalled: { ProviderError(kind: .malformedResponse, target: "t", bucket: "", request: "", message: $0) },
      fetch: { (_: String?) async throws(ProviderError) -> (PartPage, next: String?) in
        let started = ContinuousClock.now
        concurrency.enter()
        // Long enough for the cycle to start every listing its permits allow before this one ends.
        try? await Task.sleep(for: .milliseconds(3))
        var parts: [Part] = []
        do {
          for try await page in inner.parts(of: upload) { parts += page.parts }
        } catch {}
        concurrency.leave()
        RequestObservation.observer?.requestEnded(outcome, started: started, ended: .now)
        return (PartPage(parts: parts), nil)
      })
  }
}

final class ConcurrencyGauge: Sendable {
  private let state = Mutex<(now: Int, most: Int)>((0, 0))
  var most: Int { state.withLock { $0.most } }
  func enter() {
    state.withLock { state in
      state.now += 1
      state.most = max(state.most, state.now)
    }
  }
  func leave() { state.withLock { $0.now -= 1 } }
}

@Suite("The cycle under an adaptive window")
struct AdaptiveCycleTests {
  static let now = Date(timeIntervalSince1970: 1_800_000_000)
  static let target = Target(
    name: "t", provider: .s3, endpoint: "http://127.0.0.1:1", region: "us-east-1", buckets: ["b1"],
    credentialsFile: nil)

  /// 30 stale uploads with a part each, and 30 fresh ones: the rule has `max_idle`, so every stale upload's parts
  /// are listed to decide it and again to re-check it.
  static func memory() -> MemoryProvider {
    var uploads: [Upload] = []
    var parts: [String: [Part]] = [:]
    for index in 0..<60 {
      let stale = index % 2 == 0
      let upload = Upload(
        target: "t", bucket: "b1", key: "k/\(index)", uploadID: "u\(index)",
        initiated: now.addingTimeInterval(stale ? -5 * 86_400 : -600))
      uploads.append(upload)
      parts[upload.uploadID] = [Part(number: 1, size: 10, lastModified: upload.initiated.addingTimeInterval(60))]
    }
    return MemoryProvider(target: target, uploads: ["b1": uploads], parts: parts, serverNow: now, pageSize: 1000)
  }

  static func run(_ provider: ObservedProvider, concurrency: Int) async -> (CycleSummary, [UploadRecord]) {
    let config = ReaperConfig(
      path: "adaptive.toml",
      daemon: DaemonSettings(
        interval: TimeSpan(seconds: 900), jitter: TimeSpan(seconds: 60), concurrency: concurrency,
        stateDirectory: "/tmp", dryRun: false),
      safety: SafetySettings(maxAbortFraction: 1), targets: [target],
      rules: RuleSet([
        Rule(name: "stale", maxAge: TimeSpan(seconds: 86_400), maxIdle: TimeSpan(seconds: 3600), action: .abort)
      ]),
      credentialSources: ["t": .environment(prefix: "P_")])
    return await MemoryCycle.run(config, provider: provider, now: now)
  }

  static func verdicts(_ records: [UploadRecord]) -> [String: String] {
    Dictionary(uniqueKeysWithValues: records.map { ($0.upload.uploadID, "\($0.decision) \($0.outcome)") })
  }

  @Test func answersGrowTheWindowToTheCeilingAndNoFurther() async throws {
    let provider = ObservedProvider(inner: Self.memory(), outcome: .answered)
    let (summary, records) = await Self.run(provider, concurrency: 8)
    let report = try #require(summary.concurrency["t"])
    #expect(report.largest == 8)
    #expect(report.throttled == 0)
    #expect(provider.concurrency.most <= 8)
    #expect(summary.aborted == 30)
    #expect(records.count == 60)
  }

  @Test func throttlesHalveTheWindowToOneAndChangeNoVerdict() async throws {
    let throttled = ObservedProvider(inner: Self.memory(), outcome: .throttled)
    let (summary, records) = await Self.run(throttled, concurrency: 8)
    let report = try #require(summary.concurrency["t"])
    // Every listing is refused: the window never grows past where it starts, and ends at one.
    #expect(report.window == 1)
    #expect(report.smallest == 1)
    #expect(report.largest == 4)
    #expect(report.decreases >= 2)
    #expect(report.throttled == 60)
    #expect(throttled.concurrency.most <= 4)

    let calm = ObservedProvider(inner: Self.memory(), outcome: .answered)
    let (calmSummary, calmRecords) = await Self.run(calm, concurrency: 8)
    #expect(Self.verdicts(records) == Self.verdicts(calmRecords))
    #expect(Set(throttled.inner.abortedUploads.map(\.uploadID)) == Set(calm.inner.abortedUploads.map(\.uploadID)))
    #expect(summary.aborted == calmSummary.aborted)
  }

  @Test func aCeilingOfOneIsOneAtATime() async throws {
    let provider = ObservedProvider(inner: Self.memory(), outcome: .answered)
    let (summary, _) = await Self.run(provider, concurrency: 1)
    #expect(
      summary.concurrency["t"]
        == ConcurrencyReport(window: 1, ceiling: 1, smallest: 1, largest: 1, decreases: 0, throttled: 0))
    #expect(provider.concurrency.most == 1)
    #expect(summary.aborted == 30)
  }
}
