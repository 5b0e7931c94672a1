/// Every kind of error a cycle counts: in the summary, the report, the journal and the metrics; and what a
/// provider's request met (`ProviderError.Kind` is this type). Closed, so a misspelt kind is a compile error
/// rather than a metric series no alert watches.
public enum ErrorKind: String, Sendable, Hashable, CaseIterable, Comparable {
  // What a request to a provider met.
  /// NoSuchUpload, or NoSuchKey on parts: completed or aborted elsewhere. An outcome, never counted as an error.
  case gone
  case accessDenied = "access-denied"
  /// 5xx, SlowDown, 429, transport failures that outlasted their retries.
  case retryable
  case invalidArgument = "invalid-argument"
  /// A body that is not the expected JSON or XML, or a record in it that cannot be read or is implausible.
  case malformedResponse = "malformed-response"
  /// A well-formed answer about something other than what was asked: another bucket, key, upload or folder.
  case inconsistentResponse = "inconsistent-response"
  /// The server's data cannot address one upload safely (an empty key or id, a dot segment in a path).
  case unaddressable
  /// NoSuchBucket and other 404s that are not about the upload.
  case notFound = "not-found"
  case conflict
  case other
  // The cycle's own.
  /// A target's credentials are missing or unusable.
  case credentials
  /// The cycle outlasted `cycle_timeout`.
  case timeout
  /// An upload in the future of the clock ages are measured on: the target aborts nothing.
  case clock
  /// The cycle's report could not be written or pruned.
  case report
  /// The metrics textfile could not be written.
  case metrics

  public static func < (lhs: ErrorKind, rhs: ErrorKind) -> Bool { lhs.rawValue < rhs.rawValue }

  /// The kinds that are errors: every one but `gone`.
  public static let errors = allCases.filter { $0 != .gone }

  /// How a provider's failure counts: nil for `gone`.
  public var asError: ErrorKind? { self == .gone ? nil : self }
}
