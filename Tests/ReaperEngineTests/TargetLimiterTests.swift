import ReaperCore
import ReaperProviders
import Testing

@testable import ReaperEngine

@Suite("A target's permits")
struct TargetLimiterTests {
  let origin = ContinuousClock.now

  func at(_ milliseconds: Int64) -> ContinuousClock.Instant { origin + .milliseconds(milliseconds) }

  @Test func permitsFollowTheWindow() {
    let limiter = TargetLimiter(target: "t", ceiling: 8, origin: origin)
    #expect((0..<4).map { _ in limiter.tryAcquire() } == [true, true, true, true])
    #expect(!limiter.tryAcquire())
    limiter.release()
    #expect(limiter.tryAcquire())
    #expect(limiter.inFlight == 4)
  }

  @Test func aThrottleShrinksTheWindowAndPermitsWaitForTheOverhangToDrain() {
    let limiter = TargetLimiter(target: "t", ceiling: 8, origin: origin)
    for _ in 0..<4 { #expect(limiter.tryAcquire()) }
    limiter.record(.throttled, started: at(1), ended: at(5), underPermit: false)
    // The other three were sent before the halving: their throttles are the same news.
    for _ in 0..<3 { limiter.record(.throttled, started: at(2), ended: at(6), underPermit: true) }
    #expect(
      limiter.report == ConcurrencyReport(window: 2, ceiling: 8, smallest: 2, largest: 4, decreases: 1, throttled: 4))
    limiter.release()
    limiter.release()
    #expect(!limiter.tryAcquire(), "two in flight in a window of two")
    limiter.release()
    #expect(limiter.tryAcquire())
  }

  @Test func timeoutsHalveButAreNoThrottles() {
    let limiter = TargetLimiter(target: "t", ceiling: 8, origin: origin)
    limiter.record(.timedOut, started: at(1), ended: at(30_001), underPermit: true)
    limiter.record(.failed, started: at(30_002), ended: at(30_010), underPermit: true)
    #expect(
      limiter.report == ConcurrencyReport(window: 2, ceiling: 8, smallest: 2, largest: 4, decreases: 1, throttled: 0))
  }

  @Test func theWalksAnswersNeitherGrowTheWindowNorSetItsLatency() {
    let limiter = TargetLimiter(target: "t", ceiling: 8, origin: origin)
    for _ in 0..<4 { #expect(limiter.tryAcquire()) }
    for index: Int64 in 0..<40 {
      limiter.record(.answered, started: at(index * 10), ended: at(index * 10 + 5), underPermit: false)
    }
    #expect(limiter.report.window == 4)
    for index: Int64 in 0..<4 {
      limiter.record(.answered, started: at(500 + index), ended: at(510 + index), underPermit: true)
    }
    #expect(limiter.report.window == 8)
  }

  @Test func growthHandsAPermitToAWaiter() async {
    let limiter = TargetLimiter(target: "t", ceiling: 8, origin: origin)
    for _ in 0..<4 { #expect(limiter.tryAcquire()) }
    let waiter = Task {
      await limiter.acquire()
      return limiter.inFlight
    }
    while limiter.waiting == 0 { await Task.yield() }
    // A window's worth of answers while it is full doubles it: the waiter gets a permit though none was released.
    for index in 0..<4 {
      limiter.record(.answered, started: at(Int64(index)), ended: at(Int64(index) + 10), underPermit: true)
    }
    #expect(await waiter.value == 5)
    #expect(limiter.report.window == 8)
    #expect(limiter.waiting == 0)
  }

  @Test func aReleaseHandsThePermitToAWaiter() async {
    let limiter = TargetLimiter(target: "t", ceiling: 1, origin: origin)
    #expect(limiter.tryAcquire())
    let first = Task { await limiter.acquire() }
    while limiter.waiting < 1 { await Task.yield() }
    limiter.release()
    await first.value
    #expect(limiter.inFlight == 1)
    #expect(limiter.waiting == 0)
  }
}
