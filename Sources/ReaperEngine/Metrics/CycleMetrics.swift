import Foundation
import Prometheus
import ReaperConfig
import ReaperCore
import ReaperProviders

#if canImport(Glibc)
  import Glibc
#endif

/// The Prometheus figures, in a registry of our own (not the global one), so the text served on `/metrics` and
/// written to the textfile is exactly this process's reaper metrics. Series are registered straight with the
/// registry, from `MetricCatalog`, because swift-metrics' factory registers every series without HELP text.
public final class CycleMetrics: Sendable {
  public let registry: PrometheusCollectorRegistry

  /// Every state an upload can end a cycle in; each is set every cycle, zeros included, so no series goes stale.
  static let states = ["unmatched"] + Outcome.allCases.map(\.rawValue)
  static let abortOutcomes: [Outcome] = [.aborted, .wouldAbort, .skippedRecheck, .gone, .failed]
  /// Error kinds are created at zero, so `increase()` sees the first real error.
  static let errorKinds = ErrorKind.errors
  /// Cycles take seconds to an hour (the default cycle_timeout), not the milliseconds of a request.
  static let durationBuckets: [Duration] = [
    .seconds(1), .seconds(5), .seconds(15), .seconds(30), .seconds(60), .seconds(120), .seconds(300),
    .seconds(600), .seconds(1200), .seconds(1800), .seconds(3600),
  ]

  public init() {
    registry = PrometheusCollectorRegistry()
  }

  /// Creates every series at zero for the targets and buckets this process scans, before the first cycle ends,
  /// so a scrape right after start shows them.
  public func prepare(_ config: ReaperConfig) {
    for target in config.targets {
      for kind in Self.errorKinds {
        counter(MetricCatalog.errorsTotal, ["target": target.name, "kind": kind.rawValue]).increment(by: Int64(0))
      }
      counter(MetricCatalog.throttledTotal, ["target": target.name]).increment(by: Int64(0))
      for bucket in target.buckets where config.daemon.shard.owns(target: target.name, bucket: bucket) {
        let labels = ["target": target.name, "bucket": bucket]
        for outcome in Self.abortOutcomes {
          counter(MetricCatalog.abortsTotal, labels.merging(["outcome": outcome.rawValue]) { $1 })
            .increment(by: Int64(0))
        }
        counter(MetricCatalog.bytesReclaimedTotal, labels).increment(by: Int64(0))
      }
    }
  }

  /// Records one finished cycle.
  public func record(_ summary: CycleSummary, config: ReaperConfig, finished: Date) {
    prepare(config)
    let scanned = Set(summary.targetNames)
    for target in config.targets where scanned.contains(target.name) {
      for bucket in target.buckets where config.daemon.shard.owns(target: target.name, bucket: bucket) {
        let labels = ["target": target.name, "bucket": bucket]
        for state in Self.states {
          let count =
            summary.outcomes[CycleSummary.OutcomeKey(target: target.name, bucket: bucket, outcome: state)] ?? 0
          gauge(MetricCatalog.uploads, labels.merging(["state": state]) { $1 }).record(Int64(count))
        }
        let holdings = summary.holdings.filter { $0.key.target == target.name && $0.key.bucket == bucket }
        gauge(MetricCatalog.bytesHeld, labels).record(holdings.values.reduce(Int64(0)) { $0.saturatingAdd($1.bytes) })
        gauge(MetricCatalog.staleBytesHeld, labels).record(
          holdings.values.reduce(Int64(0)) { $0.saturatingAdd($1.staleBytes) })
        for outcome in Self.abortOutcomes {
          let count =
            summary.abortOutcomes[
              CycleSummary.OutcomeKey(target: target.name, bucket: bucket, outcome: outcome.rawValue)] ?? 0
          counter(MetricCatalog.abortsTotal, labels.merging(["outcome": outcome.rawValue]) { $1 })
            .increment(by: Int64(count))
        }
        let reclaimed = summary.reclaimedByBucket[HoldingKey(target: target.name, bucket: bucket, rule: nil)] ?? 0
        counter(MetricCatalog.bytesReclaimedTotal, labels).increment(by: reclaimed)
        // Only when the lifecycle was read: an unknown one leaves the last known count.
        if let conflicts = summary.serverSweepConflicts[HoldingKey(target: target.name, bucket: bucket, rule: nil)] {
          gauge(MetricCatalog.serverSweepConflicts, labels).record(Int64(conflicts))
        }
      }
      if let concurrency = summary.concurrency[target.name] {
        gauge(MetricCatalog.concurrencyWindow, ["target": target.name]).record(Int64(concurrency.window))
        counter(MetricCatalog.throttledTotal, ["target": target.name]).increment(by: Int64(concurrency.throttled))
      }
      if !summary.timedOut, !summary.failedTargets.contains(target.name) {
        gauge(MetricCatalog.lastSuccess, ["target": target.name]).record(finished.timeIntervalSince1970)
      }
    }
    for (key, count) in summary.errorKinds {
      counter(MetricCatalog.errorsTotal, ["target": key.target, "kind": key.kind.rawValue]).increment(by: Int64(count))
    }
    registry.makeDurationHistogram(
      descriptor: MetricCatalog.cycleDuration.descriptor, labels: [], buckets: Self.durationBuckets
    )
    .record(.nanoseconds(Int64(summary.durationSeconds * 1e9)))
  }

  /// A failure outside a cycle (writing the report or the textfile) still counts as an error.
  public func countError(target: String, kind: ErrorKind) {
    counter(MetricCatalog.errorsTotal, ["target": target, "kind": kind.rawValue]).increment(by: Int64(1))
  }

  /// The Prometheus text exposition format.
  public func text() -> String { registry.emitToString() }

  func counter(_ metric: MetricCatalog.Metric, _ labels: [String: String]) -> Prometheus.Counter {
    registry.makeCounter(
      descriptor: metric.descriptor, labels: labels.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
  }

  func gauge(_ metric: MetricCatalog.Metric, _ labels: [String: String]) -> Prometheus.Gauge {
    registry.makeGauge(
      descriptor: metric.descriptor, labels: labels.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
  }
}

/// The node_exporter textfile collector's file, replaced atomically: node_exporter reads only `*.prom`, so the
/// temporary name is invisible to it, and the rename means it never reads half a file.
public enum MetricsTextfile {
  public static func write(_ text: String, to path: String) throws {
    let directory = (path as NSString).deletingLastPathComponent
    let temporary = (directory as NSString).appendingPathComponent(
      ".\((path as NSString).lastPathComponent).\(getpid()).tmp")
    let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else { throw failure(path, "cannot create \(temporary)") }
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
      let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
      if written < 0, errno == EINTR { continue }
      guard written > 0 else {
        let error = failure(path, "writing \(temporary)")
        close(descriptor)
        unlink(temporary)
        throw error
      }
      bytes = bytes.dropFirst(written)
    }
    // umask may have narrowed the mode; node_exporter runs as another user and must read it.
    fchmod(descriptor, 0o644)
    guard fsync(descriptor) == 0 else {
      let error = failure(path, "syncing \(temporary)")
      close(descriptor)
      unlink(temporary)
      throw error
    }
    close(descriptor)
    guard rename(temporary, path) == 0 else {
      let error = failure(path, "renaming \(temporary) into place")
      unlink(temporary)
      throw error
    }
  }

  static func failure(_ path: String, _ what: String) -> ReportWriteError {
    ReportWriteError(path: path, message: "\(what): \(String(cString: strerror(errno)))")
  }
}
