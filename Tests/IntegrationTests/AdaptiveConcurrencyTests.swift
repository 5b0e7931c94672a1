import Foundation
import ReaperCore
import ReaperEngine
import ReaperProviders
import ReaperSandbox
import TestSupport
import Testing

@testable import ReaperConfig

/// The concurrency window against the sandbox: every request the transport sends feeds it, retries included, and
/// however it moves the cycle decides and aborts exactly as it would at any fixed concurrency.
@Suite("Adaptive concurrency against the sandbox")
struct AdaptiveConcurrencyTests {
  static func config(_ harness: SandboxHarness, ceiling: Int) -> ReaperConfig {
    var config = CycleTests.config(
      harness, buckets: ["c-1"], rules: [CycleTests.rule("old", prefix: "old/", maxIdle: "1h")],
      safety: SafetySettings(maxAbortFraction: 1))
    config.daemon.concurrency = ceiling
    return config
  }

  /// Stale uploads (with a part, so each is listed to decide it and again to re-check it) and fresh ones.
  static func bucket(stale: Int, fresh: Int) -> SandboxBucket {
    let day = CycleTests.day
    let uploads =
      (0..<stale).map { SandboxUpload.aged("old/\($0).bin", id: "old-\($0)", age: 3 * day, parts: [(64, 2 * day)]) }
      + (0..<fresh).map { SandboxUpload.aged("new/\($0).bin", id: "new-\($0)", age: 2 * CycleTests.hour) }
    return SandboxBucket(name: "c-1", uploads: uploads)
  }

  /// Every stale upload aborted and every fresh one kept, with nothing left over and nothing counted as an error.
  static func expectExactOutcomes(
    _ summary: CycleSummary, _ records: [UploadRecord], harness: SandboxHarness, stale: Int, fresh: Int
  ) {
    #expect(summary.errors.isEmpty, "\(summary.errors)")
    #expect(Set(harness.store.aborted.map(\.uploadID)) == Set((0..<stale).map { "old-\($0)" }))
    #expect(harness.store.aborted.count == stale, "an upload aborted twice")
    #expect(records.count == stale + fresh)
    for record in records {
      let expected: Outcome = record.upload.uploadID.hasPrefix("old-") ? .aborted : .kept
      #expect(record.outcome == expected, "\(record.upload.uploadID): \(record.outcome) \(record.reason)")
    }
  }

  @Test func aServerThatKeepsUpGrowsTheWindow() async throws {
    try await SandboxHarness.with([Self.bucket(stale: 40, fresh: 40)]) { harness in
      let (summary, records) = await CycleTests.run(Self.config(harness, ceiling: 16), harness: harness)
      Self.expectExactOutcomes(summary, records, harness: harness, stale: 40, fresh: 40)
      let report = try #require(summary.concurrency["sandbox"])
      #expect(report.throttled == 0)
      // Slow start from 4: the 120 listings, re-checks and aborts are answered, and the window grows. (Not to a
      // fixed size: a loaded test machine may slow the sandbox enough to count as a latency jump.)
      #expect(report.largest > 4)
      #expect(report.largest <= 16 && report.window <= 16)
    }
  }

  /// The walk's first page is refused three times, then answered: each refusal came to a request sent after the
  /// last halving, so the window halves from 4 to 2 to 1 (and stays there for the third), then grows back.
  @Test func throttlesHalveTheWindowAndShowInTheMetrics() async throws {
    try await SandboxHarness.with([Self.bucket(stale: 30, fresh: 30)]) { harness in
      harness.store.updateFaults { $0.failNext = 3 }
      let config = Self.config(harness, ceiling: 8)
      let (summary, records) = await CycleTests.run(config, harness: harness)
      Self.expectExactOutcomes(summary, records, harness: harness, stale: 30, fresh: 30)
      let report = try #require(summary.concurrency["sandbox"])
      #expect(report.throttled == 3)
      #expect(report.smallest == 1)
      #expect(report.decreases >= 3)
      #expect(report.ceiling == 8)
      #expect(report.window >= 1 && report.window <= 8)

      let metrics = CycleMetrics()
      metrics.record(summary, config: config, finished: Date())
      let scraped = try PrometheusText(parsing: metrics.text())
      #expect(scraped.types["upload_reaper_concurrency_window"] == "gauge")
      #expect(scraped.value("upload_reaper_concurrency_window", ["target": "sandbox"]) == Double(report.window))
      #expect(scraped.value("upload_reaper_throttled_total", ["target": "sandbox"]) == 3)
    }
  }

  /// One request in twenty answered 503 at random, on every kind of request: the window comes down, the
  /// transport and the abort rounds retry, and the cycle ends with exactly the outcomes it would have had.
  @Test func randomThrottlesBringTheWindowDownAndChangeNoOutcome() async throws {
    try await SandboxHarness.with([Self.bucket(stale: 60, fresh: 60)]) { harness in
      harness.store.updateFaults { $0.errorRate = 0.05 }
      let (summary, records) = await CycleTests.run(Self.config(harness, ceiling: 32), harness: harness)
      Self.expectExactOutcomes(summary, records, harness: harness, stale: 60, fresh: 60)
      let report = try #require(summary.concurrency["sandbox"])
      #expect(report.throttled >= 1)
      #expect(report.decreases >= 1)
      #expect(report.smallest < report.largest)
      #expect(report.largest <= 32)
    }
  }
}
