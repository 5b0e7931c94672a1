/// What one HTTP request to a target came to, as a concurrency window reads it.
public enum RequestOutcome: Sendable, Equatable {
  /// The server answered without refusing: a success, or an error about the request (403, 404 NoSuchUpload), which
  /// says nothing about load.
  case answered
  /// 503, 429 or a throttle code: the server asks for fewer requests.
  case throttled
  /// No answer within the read or request timeout. The latency it would have shown is at least the timeout, so
  /// it counts as congestion like a throttle.
  case timedOut
  /// Any other failure (a 500, a dropped connection, a body not to be trusted): no evidence either way.
  case failed

  /// How a reply that `classify` turned into `error` (nil: a success) counts.
  public static func of(status: Int, error: ProviderError?) -> RequestOutcome {
    guard let error else { return .answered }
    if error.isThrottle { return .throttled }
    return (500...599).contains(status) ? .failed : .answered
  }
}

/// Told of every request the transport sends, attempt by attempt, retries included: what a retry hides from the
/// caller (a SlowDown answered before the success) is exactly what a concurrency window must see.
public protocol RequestObserver: Sendable {
  func requestEnded(_ outcome: RequestOutcome, started: ContinuousClock.Instant, ended: ContinuousClock.Instant)
}

/// The observer of the requests a task makes. A task-local, like `WalkControl`, so that every provider's requests
/// are seen without each call carrying it; child tasks and the page fetched ahead inherit it.
public enum RequestObservation {
  @TaskLocal public static var observer: (any RequestObserver)?
}

extension ProviderError {
  /// Codes that mean "too many requests", whatever the status they come with: S3's and CDCS's SlowDown, PDS's
  /// QpsLimitExceeded and TooManyRequests.
  public static let throttleCodes: Set<String> = ["SlowDown", "QpsLimitExceeded", "TooManyRequests"]

  /// The server refused for load, and asks for fewer requests.
  public var isThrottle: Bool {
    status == 503 || status == 429 || code.map(Self.throttleCodes.contains) ?? false
  }
}
