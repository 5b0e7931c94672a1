import ReaperCore
import ReaperProviders
import Synchronization

/// The permits for one target's parts listings, re-checks and aborts in a cycle, as many as its concurrency window
/// allows; and that window, fed by every request the transport sends to the target.
///
/// Only tasks holding a permit feed the window's latency and growth: they are the requests it governs, and alike
/// in size. The bucket walk's own pages (one at a time, and the one fetched ahead) run beside the window, as they
/// did beside the fixed limit; their throttles and timeouts still halve it, since the server refuses them for the
/// same load. A new window for every cycle: like TCP after an idle spell, what the server could take a cycle ago
/// says little about now, and slow start finds it again within a few dozen requests.
final class TargetLimiter: Sendable {
  let target: String
  private let origin: ContinuousClock.Instant
  private let state: Mutex<State>

  struct State {
    var window: ConcurrencyWindow
    var inFlight = 0
    /// Waiting for a permit, first come first served.
    var waiters: [CheckedContinuation<Void, Never>] = []
    var throttled = 0

    /// Takes the permits that are free for waiters; their continuations are resumed outside the lock.
    mutating func handOut() -> [CheckedContinuation<Void, Never>] {
      var woken: [CheckedContinuation<Void, Never>] = []
      while inFlight < window.size, !waiters.isEmpty {
        inFlight += 1
        woken.append(waiters.removeFirst())
      }
      return woken
    }
  }

  init(target: String, ceiling: Int, tuning: ConcurrencyWindow.Tuning = .init(), origin: ContinuousClock.Instant = .now)
  {
    self.target = target
    self.origin = origin
    state = Mutex(State(window: ConcurrencyWindow(ceiling: ceiling, tuning: tuning)))
  }

  /// A permit if one is free now.
  func tryAcquire() -> Bool {
    state.withLock { state in
      guard state.inFlight < state.window.size, state.waiters.isEmpty else { return false }
      state.inFlight += 1
      return true
    }
  }

  /// Waits for a permit. Never waits for ever: it waits only while every permit is held, and each is released
  /// when its task ends (cancelled or not), so cancellation needs no handling here.
  func acquire() async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      let granted = state.withLock { state in
        if state.inFlight < state.window.size, state.waiters.isEmpty {
          state.inFlight += 1
          return true
        }
        state.waiters.append(continuation)
        return false
      }
      if granted { continuation.resume() }
    }
  }

  func release() {
    let woken = state.withLock { state in
      state.inFlight -= 1
      return state.handOut()
    }
    for waiter in woken { waiter.resume() }
  }

  /// Waits for a permit while the tasks of `group` finish, handing each to `settle` as it does: a task's end frees
  /// its permit, and its result is dealt with at once rather than at the end of the group.
  func permit<Child: Sendable>(draining group: inout TaskGroup<Child>, settle: (Child) async -> Void) async {
    while !tryAcquire() {
      guard let finished = await group.next() else { return await acquire() }
      await settle(finished)
    }
  }

  /// What the requests of tasks holding a permit report to: everything they meet feeds the window. Tasks added to a
  /// task group take the observer of the task that adds them.
  var permitObserver: any RequestObserver { Observer(limiter: self, underPermit: true) }
  /// What the bucket walk's requests report to: throttles and timeouts only.
  var walkObserver: any RequestObserver { Observer(limiter: self, underPermit: false) }

  func record(
    _ outcome: RequestOutcome, started: ContinuousClock.Instant, ended: ContinuousClock.Instant, underPermit: Bool
  ) {
    let startedAt = started - origin
    let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
      switch outcome {
      case .answered where underPermit:
        state.window.answered(startedAt: startedAt, latency: ended - started, inFlight: state.inFlight)
      case .throttled:
        state.throttled += 1
        state.window.refused(startedAt: startedAt, at: ended - origin)
      case .timedOut:
        state.window.refused(startedAt: startedAt, at: ended - origin)
      case .answered, .failed:
        break
      }
      return state.handOut()
    }
    for waiter in woken { waiter.resume() }
  }

  /// Permits held, and tasks waiting for one.
  var inFlight: Int { state.withLock { $0.inFlight } }
  var waiting: Int { state.withLock { $0.waiters.count } }

  var report: ConcurrencyReport {
    state.withLock { state in
      ConcurrencyReport(
        window: state.window.size, ceiling: state.window.ceiling, smallest: state.window.smallest,
        largest: state.window.largest, decreases: state.window.decreases, throttled: state.throttled)
    }
  }

  struct Observer: RequestObserver {
    let limiter: TargetLimiter
    let underPermit: Bool

    func requestEnded(_ outcome: RequestOutcome, started: ContinuousClock.Instant, ended: ContinuousClock.Instant) {
      limiter.record(outcome, started: started, ended: ended, underPermit: underPermit)
    }
  }
}

/// A target's concurrency window as a cycle left it.
public struct ConcurrencyReport: Sendable, Equatable {
  /// Requests that may be in flight at the end of the cycle, and the configured `concurrency` it may reach.
  public var window: Int
  public var ceiling: Int
  /// The smallest and largest the window was during the cycle.
  public var smallest: Int
  public var largest: Int
  /// Times it was halved.
  public var decreases: Int
  /// Throttle answers the target gave (503, 429, SlowDown, ...), retries and walk pages included.
  public var throttled: Int

  public init(window: Int, ceiling: Int, smallest: Int, largest: Int, decreases: Int, throttled: Int) {
    self.window = window
    self.ceiling = ceiling
    self.smallest = smallest
    self.largest = largest
    self.decreases = decreases
    self.throttled = throttled
  }
}
