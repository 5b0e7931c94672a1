/// How many requests to one target may be in flight at once: an AIMD window, as TCP sizes its congestion window
/// and as S3's guidance on request rates asks of clients (ramp up gradually; on 503 Slow Down, back off). A fixed
/// `concurrency` is either too timid for a big cluster or too much for a small gateway that is also serving
/// users; the server's own answers say which, so `concurrency` is only the ceiling.
///
/// Pure: no clock is read here. Times are durations since an origin the caller chose, so tests can replay any
/// sequence of answers exactly.
///
/// - Slow start: the window begins small and doubles with each window's worth of answered requests, until the
///   first sign of congestion.
/// - Additive increase: afterwards it grows by one per window's worth of answered requests, while latency holds.
/// - Multiplicative decrease: a throttle answer (503, 429, SlowDown, QpsLimitExceeded, ...), a timeout or a latency
///   jump halves it, never below one. Answers to requests sent before the last decrease are ignored: they describe
///   the load before it, so a burst of throttles already in flight halves the window once, not down to one.
public struct ConcurrencyWindow: Sendable, Equatable {
  public struct Tuning: Sendable, Equatable {
    /// Where a window starts: small enough that a server already busy is not met with the whole ceiling at
    /// once, large enough that the default ceiling (8) is reached after four answers.
    public var initial = 4
    /// A smoothed latency more than this many times the baseline is a jump: queues are building at the server.
    public var latencyFactor = 2.0
    /// ...and more than this above it, so that the jitter of a fast server (a millisecond on loopback) is no jump.
    public var latencyMargin: Duration = .milliseconds(50)
    /// Latency samples averaged before a level is trusted, after the start and after every decrease: one early
    /// outlier must not set the baseline or halve the window.
    public var warmupSamples = 8
    /// The baseline is the lowest smoothed latency of the last one to two such periods. A server that became
    /// slower for good (not because of us) is then the new normal within this time, rather than a reason to
    /// halve again and again.
    public var baselineLifetime: Duration = .seconds(30)

    public init() {}
  }

  /// Why the window was halved.
  public enum Congestion: Sendable, Equatable {
    /// The server refused for load (503, 429, a throttle code) or did not answer in time.
    case refused
    /// Smoothed latency jumped above the baseline.
    case latency
  }

  /// The configured `concurrency`: the window never exceeds it.
  public let ceiling: Int
  public let tuning: Tuning
  /// Requests that may be in flight now: 1 to `ceiling`.
  public private(set) var size: Int
  /// True until the first sign of congestion.
  public private(set) var inSlowStart = true
  /// Times the window was halved, for the operator: a target that keeps throttling shows here.
  public private(set) var decreases = 0
  /// The smallest and largest the window has been.
  public private(set) var smallest: Int
  public private(set) var largest: Int
  /// Answered requests counted towards the next growth.
  var credit = 0
  /// When the window was last halved: answers to requests sent before then are about the old load.
  var lastDecrease: Duration?
  var latency = LatencyLevel()

  public init(ceiling: Int, tuning: Tuning = Tuning()) {
    self.ceiling = max(1, ceiling)
    self.tuning = tuning
    size = max(1, min(tuning.initial, self.ceiling))
    smallest = size
    largest = size
  }

  /// The smoothed latency, once enough samples have come in since the start or the last decrease.
  public var smoothedLatency: Duration? { latency.samples >= tuning.warmupSamples ? latency.smoothed : nil }
  /// The latency a jump is measured from.
  public var baselineLatency: Duration? { latency.baseline }

  /// A request that the server answered without refusing it (any answer but a throttle or a 5xx).
  /// - Parameters:
  ///   - startedAt: when it was sent.
  ///   - inFlight: requests holding a permit when it ended, itself included. The window grows only while it is at
  ///     least half used: a window the cycle does not fill says nothing about what the server could take.
  /// - Returns: the congestion it revealed, when it halved the window.
  @discardableResult
  public mutating func answered(startedAt: Duration, latency elapsed: Duration, inFlight: Int) -> Congestion? {
    guard !predatesDecrease(startedAt) else { return nil }
    let now = startedAt + elapsed
    latency.add(elapsed, at: now, tuning: tuning)
    if latencyJumped {
      decrease(at: now)
      return .latency
    }
    guard inFlight * 2 >= size else { return nil }
    credit += 1
    if credit >= size {
      credit = 0
      grow(to: inSlowStart ? size * 2 : size + 1)
    }
    return nil
  }

  /// A throttle answer or a timeout.
  /// - Returns: whether it halved the window (it does not when the request was sent before the last decrease).
  @discardableResult
  public mutating func refused(startedAt: Duration, at now: Duration) -> Bool {
    guard !predatesDecrease(startedAt) else { return false }
    decrease(at: now)
    return true
  }

  var latencyJumped: Bool {
    guard let smoothed = smoothedLatency, let baseline = latency.baseline else { return false }
    return smoothed > max(baseline * tuning.latencyFactor, baseline + tuning.latencyMargin)
  }

  func predatesDecrease(_ startedAt: Duration) -> Bool {
    guard let lastDecrease else { return false }
    return startedAt < lastDecrease
  }

  mutating func grow(to wanted: Int) {
    size = min(ceiling, wanted)
    largest = max(largest, size)
  }

  mutating func decrease(at now: Duration) {
    size = max(1, size / 2)
    smallest = min(smallest, size)
    inSlowStart = false
    credit = 0
    decreases += 1
    lastDecrease = now
    // The samples so far were taken under the old load; the level is learnt again from the new one.
    latency.restart()
  }
}

/// A smoothed latency and the baseline it is compared with.
struct LatencyLevel: Sendable, Equatable {
  var smoothed: Duration?
  /// Samples since the start or the last restart.
  var samples = 0
  var epochStarted: Duration?
  var epochLowest: Duration?
  var previousEpochLowest: Duration?

  /// The lowest smoothed latency of this period and the one before: a windowed minimum, so it can rise again.
  var baseline: Duration? { [epochLowest, previousEpochLowest].compactMap { $0 }.min() }

  mutating func add(_ sample: Duration, at now: Duration, tuning: ConcurrencyWindow.Tuning) {
    samples += 1
    // The plain mean of the first samples, then RFC 6298's gain of 1/8 (TCP's smoothed round-trip time): the
    // level follows a lasting change within a few windows and shrugs off a single slow answer.
    let gain = 1.0 / Double(min(samples, 8))
    let level = smoothed.map { $0 + (sample - $0) * gain } ?? sample
    smoothed = level
    guard samples >= tuning.warmupSamples else { return }
    if let started = epochStarted, now - started < tuning.baselineLifetime {
      epochLowest = min(epochLowest ?? level, level)
    } else {
      previousEpochLowest = epochLowest
      epochLowest = level
      epochStarted = now
    }
  }

  /// Forgets the level, not the baseline.
  mutating func restart() {
    smoothed = nil
    samples = 0
  }
}
