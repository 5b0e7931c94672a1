import TestSupport
import Testing

@testable import ReaperCore

/// Requests replayed one after another on a made-up clock: each starts when the one before ended.
struct WindowReplay {
  var window: ConcurrencyWindow
  var clock: Duration = .zero

  init(ceiling: Int) { window = ConcurrencyWindow(ceiling: ceiling) }

  /// `count` answers taking `latency` each, with the window in full use; the sizes after each.
  @discardableResult
  mutating func answer(_ count: Int, latency: Duration = .milliseconds(20)) -> [Int] {
    (0..<count).map { _ in
      window.answered(startedAt: clock, latency: latency, inFlight: window.size)
      clock += latency
      return window.size
    }
  }

  /// A throttle answer to a request sent now.
  @discardableResult
  mutating func throttle() -> Bool {
    clock += .milliseconds(1)
    return window.refused(startedAt: clock - .milliseconds(1), at: clock)
  }
}

@Suite("The AIMD concurrency window")
struct ConcurrencyWindowTests {
  @Test func slowStartDoublesToTheCeilingWhileLatencyHolds() {
    var replay = WindowReplay(ceiling: 64)
    #expect(replay.window.size == 4)
    let sizes = replay.answer(200)
    // One window's worth of answers doubles it: 4 answers to 8, 8 more to 16, then 32, then the ceiling.
    #expect(sizes[2] == 4 && sizes[3] == 8)
    #expect(sizes[10] == 8 && sizes[11] == 16)
    #expect(sizes[26] == 16 && sizes[27] == 32)
    #expect(sizes[58] == 32 && sizes[59] == 64)
    #expect(Array(Set(sizes)).sorted() == [4, 8, 16, 32, 64])
    #expect(replay.window.inSlowStart)
    #expect(replay.window.decreases == 0)
  }

  @Test func theFirstWindowIsNeverAboveTheCeiling() {
    #expect(ConcurrencyWindow(ceiling: 1).size == 1)
    #expect(ConcurrencyWindow(ceiling: 3).size == 3)
    #expect(ConcurrencyWindow(ceiling: 0).size == 1)
    var replay = WindowReplay(ceiling: 6)
    let sizes = replay.answer(100)
    #expect(sizes.allSatisfy { $0 <= 6 })
    #expect(replay.window.size == 6)
  }

  @Test func aThrottleHalvesAndEndsSlowStart() {
    var replay = WindowReplay(ceiling: 16)
    replay.answer(40)
    #expect(replay.window.size == 16)
    let halved = replay.throttle()
    #expect(halved)
    #expect(replay.window.size == 8)
    #expect(!replay.window.inSlowStart)
    #expect(replay.window.decreases == 1)
    #expect(replay.window.smallest == 4 && replay.window.largest == 16)
  }

  @Test func aBurstOfThrottlesInFlightHalvesOnce() {
    var replay = WindowReplay(ceiling: 32)
    replay.answer(100)
    #expect(replay.window.size == 32)
    // 32 requests were sent together; every one of them is refused, one after the other.
    let sent = replay.clock
    for index in 0..<32 {
      replay.window.refused(startedAt: sent, at: sent + .milliseconds(10 + index))
    }
    #expect(replay.window.size == 16)
    #expect(replay.window.decreases == 1)
    // A request sent after the halving and refused again says the halved window is still too much.
    let later = sent + .milliseconds(50)
    let halvedAgain = replay.window.refused(startedAt: later, at: later + .milliseconds(5))
    #expect(halvedAgain)
    #expect(replay.window.size == 8)
    // Answers to requests sent before that second halving neither grow the window nor count as latency.
    replay.window.answered(startedAt: later, latency: .milliseconds(1), inFlight: 8)
    #expect(replay.window.latency.samples == 0)
    #expect(replay.window.credit == 0)
  }

  @Test func growthIsAdditiveAfterADecrease() {
    var replay = WindowReplay(ceiling: 64)
    replay.answer(30)
    #expect(replay.window.size == 32)
    replay.throttle()
    #expect(replay.window.size == 16)
    let sizes = replay.answer(16 + 17 + 18)
    // One more per window's worth of answers: 16 answers to 17, 17 more to 18, 18 more to 19.
    #expect(sizes[14] == 16 && sizes[15] == 17)
    #expect(sizes[31] == 17 && sizes[32] == 18)
    #expect(sizes[49] == 18 && sizes[50] == 19)
    #expect(!replay.window.inSlowStart)
  }

  @Test func aLatencyJumpHalves() {
    var replay = WindowReplay(ceiling: 32)
    replay.answer(60, latency: .milliseconds(40))
    #expect(replay.window.size == 32)
    #expect(replay.window.baselineLatency == .milliseconds(40))
    // Four times slower: queues are building. The smoothed level passes twice the baseline within a dozen answers.
    var halvedAfter: Int?
    for index in 1...20 {
      let change = replay.window.answered(startedAt: replay.clock, latency: .milliseconds(160), inFlight: 32)
      replay.clock += .milliseconds(160)
      if change == .latency {
        halvedAfter = index
        break
      }
    }
    #expect(halvedAfter.map { (5...12).contains($0) } == true, "halved after \(String(describing: halvedAfter))")
    #expect(replay.window.size == 16)
    #expect(!replay.window.inSlowStart)
    // The level is learnt again from fresh answers before another jump is judged.
    #expect(replay.window.smoothedLatency == nil)
  }

  @Test func jitterOnAFastServerIsNoJump() {
    // Loopback: a millisecond, now and then thirty. Twice the baseline, but within the absolute margin.
    var replay = WindowReplay(ceiling: 16)
    for round in 0..<300 {
      replay.answer(1, latency: .milliseconds(round % 3 == 0 ? 30 : 1))
    }
    #expect(replay.window.decreases == 0)
    #expect(replay.window.size == 16)
  }

  @Test func aServerSlowerForGoodBecomesTheNewNormal() {
    var replay = WindowReplay(ceiling: 16)
    replay.answer(100, latency: .milliseconds(20))
    // Ten times slower for good, whatever the window: at first that halves the window, but within two baseline
    // lifetimes (30 s each) the slower level is the baseline: the halving stops and the window grows back.
    replay.answer(600, latency: .milliseconds(200))
    let decreases = replay.window.decreases
    #expect(decreases >= 1)
    #expect(replay.window.baselineLatency == .milliseconds(200))
    replay.answer(600, latency: .milliseconds(200))
    #expect(replay.window.decreases == decreases)
    #expect(replay.window.size == 16)
  }

  @Test func aWindowTheCycleDoesNotFillDoesNotGrow() {
    var window = ConcurrencyWindow(ceiling: 64)
    var clock = Duration.zero
    for _ in 0..<100 {
      window.answered(startedAt: clock, latency: .milliseconds(10), inFlight: 1)
      clock += .milliseconds(10)
    }
    #expect(window.size == 4)
    // Half in use is enough.
    for _ in 0..<4 {
      window.answered(startedAt: clock, latency: .milliseconds(10), inFlight: 2)
      clock += .milliseconds(10)
    }
    #expect(window.size == 8)
  }

  @Test func neverAboveTheCeilingNorBelowOne() {
    var random = SplitMix64(seed: 18)
    for ceiling in [1, 2, 3, 7, 16, 256] {
      var window = ConcurrencyWindow(ceiling: ceiling)
      var clock = Duration.zero
      for _ in 0..<5000 {
        let started = clock - .milliseconds(Int64(random.next() % 50))
        switch random.next() % 10 {
        case 0:
          window.refused(startedAt: started, at: clock)
        default:
          let latency = Duration.milliseconds(Int64(1 + random.next() % (random.next() % 20 == 0 ? 2000 : 60)))
          window.answered(
            startedAt: started, latency: latency, inFlight: Int(random.next() % UInt64(window.size + 1)) + 1)
        }
        clock += .milliseconds(Int64(random.next() % 30))
        #expect((1...ceiling).contains(window.size), "window \(window.size) of \(ceiling)")
        #expect(window.smallest >= 1 && window.largest <= ceiling)
      }
    }
  }

  @Test func halvingStopsAtOne() {
    var replay = WindowReplay(ceiling: 8)
    for _ in 0..<10 { replay.throttle() }
    #expect(replay.window.size == 1)
    #expect(replay.window.decreases == 10)
    // From one, growth is one more per window's worth again: 1 answer to 2, 2 more to 3.
    let sizes = replay.answer(3)
    #expect(sizes == [2, 2, 3])
  }
}
