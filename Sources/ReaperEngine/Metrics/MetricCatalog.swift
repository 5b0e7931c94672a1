import Prometheus

/// Every series upload-reaper exports, declared once with its HELP text, as node_exporter declares its own; the
/// registry adds TYPE. The README's metrics table documents the same list, and a test holds the two together.
public enum MetricCatalog {
  public static let namespace = "upload_reaper"

  public static let uploads = describe(
    "uploads", "Uploads seen in the last cycle, by the state each ended it in (kept, unmatched, aborted, ...).")
  public static let bytesHeld = describe(
    "bytes_held", "Bytes held by the uploads whose parts were listed in the last cycle.")
  public static let staleBytesHeld = describe(
    "stale_bytes_held", "Bytes held by the stale uploads among those whose parts were listed in the last cycle.")
  public static let abortsTotal = describe(
    "aborts", unit: "total", "Uploads decided abort, by what became of them (aborted, would-abort, gone, ...).")
  public static let bytesReclaimedTotal = describe(
    "bytes_reclaimed", unit: "total", "Bytes held by the uploads aborted.")
  public static let cycleDuration = describe("cycle_duration", unit: "seconds", "How long cycles take.")
  public static let lastSuccess = describe(
    "last_success_timestamp", unit: "seconds",
    "When a cycle last completed on the target with no target failure and no timeout (Unix time).")
  public static let errorsTotal = describe(
    "errors", unit: "total", "Errors by kind; target \"all\" for errors not tied to one target.")
  public static let concurrencyWindow = describe(
    "concurrency_window",
    "Requests the target's adaptive window let be in flight at the end of the last cycle (at most concurrency).")
  public static let throttledTotal = describe(
    "throttled", unit: "total", "Answers refusing for load (503, 429, SlowDown, QpsLimitExceeded), retries included.")
  public static let serverSweepConflicts = describe(
    "server_sweep_conflicts",
    "Lifecycle rules of the bucket that abort incomplete uploads before a reaper rule would, as of the last cycle that could read them."
  )

  public static let all = [
    uploads, bytesHeld, staleBytesHeld, abortsTotal, bytesReclaimedTotal, cycleDuration, lastSuccess, errorsTotal,
    concurrencyWindow, throttledTotal, serverSweepConflicts,
  ]

  /// One series' name and HELP text. (Prometheus' own descriptor type is not Sendable, so it is made on use.)
  public struct Metric: Sendable, Hashable {
    public let name: String
    public let unit: String
    public let help: String

    /// The full name, as scraped: `upload_reaper_aborts_total`.
    public var fullName: String { [MetricCatalog.namespace, name, unit].filter { !$0.isEmpty }.joined(separator: "_") }

    var descriptor: MetricNameDescriptor {
      MetricNameDescriptor(namespace: MetricCatalog.namespace, metricName: name, unitName: unit, helpText: help)
    }
  }

  static func describe(_ name: String, unit: String = "", _ help: String) -> Metric {
    Metric(name: name, unit: unit, help: help)
  }
}
