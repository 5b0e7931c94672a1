import Foundation
import Logging
import ReaperConfig
import ReaperCore

/// One cycle with what surrounds it, in the daemon and in `scan` alike: a report file opened before, and after it
/// the report put in place, expired reports pruned, the metrics recorded and the textfile rewritten. A failure in
/// any of these is logged and counted; it never stops the cycle or the daemon.
public struct CycleRunner: Sendable {
  let config: ReaperConfig
  /// nil: no metrics are recorded (`scan` without a textfile to write).
  let metrics: CycleMetrics?
  /// False for `list` and `scan --no-records`: no report in state_dir, no metrics.
  let keepRecords: Bool
  let logger: Logger

  public init(config: ReaperConfig, metrics: CycleMetrics?, keepRecords: Bool = true, logger: Logger) {
    self.config = config
    self.metrics = keepRecords ? metrics : nil
    self.keepRecords = keepRecords
    self.logger = logger
  }

  /// Runs one cycle. Its records go to `output` (the terminal, for `scan`) and to the cycle report.
  public func run(
    options: CycleOptions, environment: [String: String], makeProvider: @escaping ProviderMaker,
    output: (any RecordSink)? = nil
  ) async -> CycleSummary {
    let report = keepRecords ? openReport(started: Date()) : nil
    let sinks: [any RecordSink] = [output, report].compactMap { $0 }
    let cycle = Cycle(
      config: config, options: options, environment: environment, makeProvider: makeProvider,
      sink: TeeSink(sinks), logger: logger)
    let summary = await cycle.run()
    if keepRecords { await close(report, summary: summary, finished: Date()) }
    return summary
  }

  /// The report for a cycle starting now, or nil (logged) when `state_dir` is not writable.
  func openReport(started: Date) -> ReportFile? {
    do {
      return try ReportFile(
        directory: config.daemon.stateDirectory, started: started, detail: config.daemon.reportDetail)
    } catch {
      logger.error(
        "cannot write a cycle report in \(config.daemon.stateDirectory): \(ReportStore.reason(error)); the cycle runs without one",
        metadata: ["state_dir": "\(config.daemon.stateDirectory)"])
      metrics?.countError(target: "all", kind: .report)
      return nil
    }
  }

  /// Returns the report's final path, when it was written.
  @discardableResult
  func close(_ report: ReportFile?, summary: CycleSummary, finished: Date) async -> String? {
    var path: String?
    if let report {
      do {
        path = try await report.finish(summary)
      } catch {
        logger.error(
          "writing the cycle report failed: \(error)", metadata: ["state_dir": "\(config.daemon.stateDirectory)"])
        metrics?.countError(target: "all", kind: .report)
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
          metrics.countError(target: "all", kind: .metrics)
        }
      }
    }
    return path
  }
}
