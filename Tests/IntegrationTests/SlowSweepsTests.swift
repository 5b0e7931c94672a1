import Foundation
import Logging
import ReaperCore
import ReaperProviders
import ReaperSandbox
import TestSupport
import Testing

@testable import ReaperConfig
@testable import ReaperEngine

/// Lifecycle lookups are advice and must not delay the aborts. Each waits up to its patience beside its
/// bucket's listing, and the buckets are walked one after another: an endpoint that never answers them would
/// add one patience per bucket (30 s each, so a `*` over a few hundred buckets runs into cycle_timeout and
/// aborts nothing). Once one lookup on a target went unanswered, the rest of its buckets are not asked this cycle.
@Suite("Slow lifecycle answers across many buckets")
struct SlowSweepsTests {
  @Test func oneUnansweredLookupPerTargetIsWaitedFor() async throws {
    let names = (1...6).map { "lc-slow-\($0)" }
    let buckets = names.map { ServerSweepTests.bucket($0, lifecycle: .slow(milliseconds: 20_000)) }
    try await SandboxHarness.with(buckets) { harness in
      let config = ServerSweepTests.config(harness, buckets: names, rules: [ServerSweepTests.tmpRule])
      let summary = await ServerSweeps.$patience.withValue(.seconds(1)) {
        await ServerSweepTests.run(
          config, harness: harness, logger: Logger(label: "slow") { _ in SwiftLogNoOpLogHandler() })
      }
      // Each lookup asked is waited for up to its patience, one bucket after another: one, not six.
      #expect(harness.store.lifecycleReads == 1)
      #expect(Set(harness.store.aborted.map(\.uploadID)) == Set(names.map { "\($0)-old" }))
      #expect(summary.notices.contains { $0.contains("no answer within") })
    }
  }
}
