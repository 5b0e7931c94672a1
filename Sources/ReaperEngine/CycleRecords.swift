import Foundation
import Logging
import ReaperConfig
import ReaperCore

/// What surrounds every cycle, in the daemon and in `scan` alike: a report file opened before, and after it the
/// report put in place, expired reports pruned, the metrics recorded and the textfile rewritten. A failure in
/// any of these is logged and counted; it never stops the cycle or the daemon.
public struct CycleRecords: Sendable {
  let config: ReaperConfig
  let metrics: CycleMetrics?
  let logger: Logger

  public init(config: ReaperConfig, metrics: CycleMetrics?, logger: Logger) {
    self.config = config
    self.metrics = metrics
    self.logger = logger
  }

  /// The report for a cycle starting now, or nil (logged) when `state_dir` is not writable.
  public func openReport(started: Date) -> ReportFile? {
    do {
      return try ReportFile(directory: config.daemon.stateDirectory, started: started)
    } catch {
      logger.error(
        "cannot write a cycle report in \(config.daemon.stateDirectory): \(ReportStore.reason(error)); the cycle runs without one",
        metadata: ["state_dir": "\(config.daemon.stateDirectory)"])
      metrics?.countError(target: "all", kind: "report")
      return nil
    }
  }

  /// Returns the report's final path, when it was written.
  @discardableResult
  public func close(_ report: ReportFile?, summary: CycleSummary, finished: Date) async -> String? {
    var path: String?
    if let report {
      do {
        path = try await report.finish(summary)
      } catch {
        logger.error(
          "writing the cycle report failed: \(error)", metadata: ["state_dir": "\(config.daemon.stateDirectory)"])
        metrics?.countError(target: "all", kind: "report")
        await report.discard()
      }
      let store = ReportStore(directory: config.daemon.stateDirectory)
      let pruned = store.prune(config.daemon.keepReports, now: finished)
      if !pruned.removed.isEmpty {
        logger.debug(
          "removed \(pruned.removed.count) expired cycle report(s)",
          metadata: ["keep_reports": "\(config.daemon.keepReports)"])
      }
      for problem in pruned.problems { logger.warning("\(problem)") }
    }
    if let metrics {
      metrics.record(summary, config: config, finished: finished)
      if let textfile = config.metrics.textfile {
        do {
          try MetricsTextfile.write(metrics.text(), to: textfile)
        } catch {
          logger.error("writing the metrics textfile failed: \(error)", metadata: ["textfile": "\(textfile)"])
          metrics.countError(target: "all", kind: "metrics")
        }
      }
    }
    return path
  }
}
