/// The events operators alert on, each with a fixed 128-bit MESSAGE_ID documented in the journal catalog.
public enum ReaperEvent: String, Sendable, CaseIterable {
  case uploadReported = "2b6f0e4c9d8a4f1e8b3c5a7d9e1f2a41"
  case uploadAborted = "7c1d3e5f9a2b4c6d8e0f1a3b5c7d9e52"
  case abortFailed = "a4e6c8d0f2b44a6c8e0a2c4e6a8c0e63"
  case circuitBreakerTripped = "d9b7f5e3c1a94b7d5f3e1c9a7b5d3f74"
  case targetFailed = "5e3a1c9f7d5b4e3a1c9f7d5b3e1a9c85"
  case cycleFinished = "f1e2d3c4b5a64978a1b2c3d4e5f6a796"
  case configReloadFailed = "3c5e7a9b1d2f4e6a8c0b2d4f6a8c0ea7"
  case clockSuspect = "8a6c4e2d0b9f4a7c5e3d1b9f7a5c3eb8"
  /// The server's clock and this host's disagree: ages are measured on the earlier of the two.
  case clockSkew = "6d2f8b4a0c1e4f93a7b5c3d1e9f0a2c4"
  /// A `buckets` glob now matches a bucket it did not, or no longer matches one it did (it was deleted, renamed or
  /// excluded): said once per change.
  case bucketsChanged = "4d54f99f0e674f0caa4fa3d37f9a4e70"
  /// `apply` carried out a reviewed plan (a warning when `--force` overrode a refusal).
  case planApplied = "818a45a4a3b50d1c530f7079ab6ca950"
  /// A bucket's lifecycle rule aborts incomplete uploads before a reaper rule would: advice, nothing changes.
  case serverSweepConflict = "397cf31f74f1ff6872bcad1f0de2d863"

  public var messageID: String { rawValue }
}
