import Foundation
import Logging
import ReaperCore
import ReaperEngine
import ReaperProviders
import TestSupport
import Testing

@testable import ReaperConfig

/// Issue 20 against the real RGW: a lifecycle rule put with PutBucketLifecycleConfiguration is read back and
/// compared. Only this test's own fresh buckets get a lifecycle, and it is deleted afterwards, so RGW's own
/// lifecycle worker never touches another test's uploads.
extension CephTests {
  static func lifecycle(days: Int, prefix: String) -> String {
    "<LifecycleConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Rule><ID>reaper-test-\(days)d</ID><Filter><Prefix>\(prefix)</Prefix></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>\(days)</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule></LifecycleConfiguration>"
  }

  static func sweepCycle(
    _ context: Context, buckets: [String], rules: [Rule], logger: Logger
  ) async -> (
    CycleSummary, ReaperConfig
  ) {
    let config = ReaperConfig(
      path: "ceph.toml",
      daemon: DaemonSettings(
        interval: TimeSpan(seconds: 900), jitter: TimeSpan(seconds: 60), concurrency: 4, stateDirectory: "/tmp",
        dryRun: false),
      safety: SafetySettings(), targets: [context.ceph.target(buckets: buckets)], rules: RuleSet(rules),
      credentialSources: ["ceph": .environment(prefix: "C_")])
    let environment = ["C_ACCESS_KEY_ID": context.ceph.accessKey, "C_SECRET_ACCESS_KEY": context.ceph.secretKey]
    let cycle = Cycle(
      config: config, options: CycleOptions(), environment: environment,
      makeProvider: Providers.maker(transport: context.transport), sink: NullSink(), logger: logger)
    return (await cycle.run(), config)
  }

  @Test func aLifecycleThatAbortsBeforeTheRuleIsWarnedOf() async throws {
    try await Self.with { context in
      let swept = try await Self.freshBucket(context, "lc")
      let plain = try await Self.freshBucket(context, "nolc")
      let uploadID = try await context.client.initiate(bucket: swept, key: "tmp/fresh.bin")
      let rule = Rule(name: "tmp-week", prefix: "tmp/", maxAge: TimeSpan(seconds: 7 * 86_400), action: .abort)
      try await context.client.putLifecycle(bucket: swept, Self.lifecycle(days: 3, prefix: "tmp/"))
      do {
        let capture = LogCapture()
        let (summary, config) = await Self.sweepCycle(
          context, buckets: [swept, plain], rules: [rule], logger: capture.logger)
        #expect(summary.errors.isEmpty)
        #expect(summary.kept == 1)
        let events = capture.withMessageID(ReaperEvent.serverSweepConflict.messageID)
        #expect(events.count == 1)
        #expect(events.first?.metadata["bucket"] == swept)
        #expect(events.first?.metadata["lifecycle_rule"] == "reaper-test-3d")
        #expect(events.first?.metadata["lifecycle_days"] == "3")
        #expect(events.first?.metadata["lifecycle_prefix"] == "tmp/")
        #expect(events.first?.metadata["rule"] == "tmp-week")
        #expect(events.first?.metadata["rule_max_age_seconds"] == "604800")
        let lines = summary.notices.filter { $0.contains("server-side sweep") }
        #expect(lines.count == 1)
        #expect(lines.first?.contains("bucket \(swept)") == true)
        #expect(ReportFormat.jsonSummary(summary).contains("reaper-test-3d"))
        let metrics = CycleMetrics()
        metrics.record(summary, config: config, finished: Date())
        let scraped = try PrometheusText(parsing: metrics.text())
        let name = "upload_reaper_server_sweep_conflicts"
        #expect(scraped.value(name, ["target": "ceph", "bucket": swept]) == 1)
        #expect(scraped.value(name, ["target": "ceph", "bucket": plain]) == 0)

        // Ten days: after the rule's seven, so nothing to say.
        try await context.client.putLifecycle(bucket: swept, Self.lifecycle(days: 10, prefix: "tmp/"))
        let later = LogCapture()
        let (quiet, _) = await Self.sweepCycle(context, buckets: [swept, plain], rules: [rule], logger: later.logger)
        #expect(quiet.errors.isEmpty)
        #expect(later.withMessageID(ReaperEvent.serverSweepConflict.messageID).isEmpty)
        #expect(quiet.notices.filter { $0.contains("server-side sweep") }.isEmpty)
        #expect(quiet.serverSweepConflicts[HoldingKey(target: "ceph", bucket: swept, rule: nil)] == 0)
        #expect(quiet.serverSweepConflicts[HoldingKey(target: "ceph", bucket: plain, rule: nil)] == 0)
        // The provider read the ten days back as written.
        let reading = await Self.provider(context, bucket: swept).serverSweeps(bucket: swept)
        #expect(
          reading == .read(LifecycleReading(sweeps: [ServerSweep(ruleID: "reaper-test-10d", days: 10, prefix: "tmp/")]))
        )
        #expect(await Self.provider(context, bucket: plain).serverSweeps(bucket: plain) == .read(.none))
      } catch {
        try? await context.client.deleteLifecycle(bucket: swept)
        throw error
      }
      try await context.client.deleteLifecycle(bucket: swept)
      #expect(await Self.provider(context, bucket: swept).serverSweeps(bucket: swept) == .read(.none))
      try await context.client.request(
        .DELETE, path: "/\(swept)/tmp/fresh.bin", query: [("uploadId", uploadID)])
    }
  }
}
