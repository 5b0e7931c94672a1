import Foundation
import Synchronization
import Testing

@testable import ReaperProviders

/// The page `Pages` fetches ahead belongs to the walk that asked for it: a loop that ends early (a `break`, a stop,
/// a timeout) must not leave a request running against the server, perhaps past the cycle that wanted it.
@Suite("Pages: the page fetched ahead")
struct PagesPrefetchTests {
  /// What the fetch of the second page saw. A class, so the `@Sendable` fetch can share the lock with the test.
  final class Probe: Sendable {
    let state = Mutex<(started: Bool, cancelled: Bool)>((false, false))
  }

  @Test func aBreakCancelsThePageFetchedAhead() async throws {
    let probe = Probe()
    let stalled: @Sendable (String) -> ProviderError = { marker in
      ProviderError(kind: .malformedResponse, target: "t", bucket: "b", request: "GET /b", message: marker)
    }
    let pages = Pages<Int>(stalled: stalled) { (marker: String?) async throws(ProviderError) -> (Int, next: String?) in
      guard marker != nil else { return (1, "2") }
      probe.state.withLock { $0.started = true }
      do {
        // Far longer than the test waits: only a cancellation ends it in time.
        try await Task.sleep(for: .seconds(600))
      } catch {
        probe.state.withLock { $0.cancelled = true }
      }
      return (2, nil)
    }
    var seen: [Int] = []
    for try await page in pages {
      seen.append(page)
      break
    }
    #expect(seen == [1])
    // Generous, for a machine busy with other suites: an uncancelled fetch would sleep for 600 s.
    let deadline = ContinuousClock.now + .seconds(20)
    while !probe.state.withLock({ $0.cancelled }), ContinuousClock.now < deadline {
      try await Task.sleep(for: .milliseconds(10))
    }
    let state = probe.state.withLock { $0 }
    #expect(state.started, "the second page was never fetched ahead, so there was nothing to cancel")
    #expect(state.cancelled, "the page fetched ahead was still running 20 s after its walk was dropped")
  }
}
