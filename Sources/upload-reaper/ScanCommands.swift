import ArgumentParser
import Foundation
import Logging
import ReaperConfig
import ReaperCore
import ReaperEngine
import ReaperProviders

struct Scan: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run exactly one cycle over every target, then exit.",
    discussion:
      "Exit status: 0 the cycle completed; 1 some target or upload failed (the others still ran); 2 bad config.")
  @OptionGroup var options: ConfigOption
  @Flag(help: "Decide and report, but abort nothing.") var dryRun = false
  @Option(help: "Output format: text or json (one JSON object per line, then a summary line).")
  var format: OutputFormat = .text
  @Option(help: ArgumentHelp("Scan only this target.", valueName: "name")) var target: String?
  @Flag(help: "Write no cycle report to state_dir and no metrics textfile.") var noRecords = false

  func run() async throws {
    let config = try options.load().config
    try TargetFilter.check(target, in: config)
    let summary = await OneCycle.run(
      config: config, options: CycleOptions(dryRun: dryRun, targetFilter: target), format: format,
      dryRun: dryRun || config.daemon.dryRun, keepRecords: !noRecords)
    if !summary.errors.isEmpty { throw ExitCode(ExitStatus.targetFailed) }
  }
}

struct List: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List in-progress uploads with age, idle time, parts and bytes; decides nothing.")
  @OptionGroup var options: ConfigOption
  @Option(help: ArgumentHelp("List only this target.", valueName: "name")) var target: String?
  @Option(help: "Output format: text or json.") var format: OutputFormat = .text
  @Flag(help: "Only the uploads, one request per page: parts, bytes and idle time stay empty.") var noParts = false

  func run() async throws {
    let config = try options.load().config
    try TargetFilter.check(target, in: config)
    var cycleOptions = CycleOptions(targetFilter: target, listOnly: true)
    cycleOptions.listParts = !noParts
    let summary = await OneCycle.run(config: config, options: cycleOptions, format: format, dryRun: true)
    if !summary.errors.isEmpty { throw ExitCode(ExitStatus.targetFailed) }
  }
}

enum OneCycle {
  /// `keepRecords`: write the cycle report to state_dir, prune old ones, and rewrite the metrics textfile, as the
  /// daemon does after each cycle, so `scan` from cron leaves the same trail.
  static func run(
    config: ReaperConfig, options: CycleOptions, format: OutputFormat, dryRun: Bool, keepRecords: Bool = false
  ) async -> CycleSummary {
    let logger = Logs.bootstrap(defaultLevel: .warning)
    let transport = HTTPTransport(logger: logger)
    let output = StandardOutput(style: format == .json ? .json : .table)
    let records =
      keepRecords
      ? CycleRecords(config: config, metrics: config.metrics.textfile == nil ? nil : CycleMetrics(), logger: logger)
      : nil
    let report = records?.openReport(started: Date())
    let sink: any RecordSink = report.map { TeeSink(first: output, second: $0) } ?? output
    let cycle = Cycle(
      config: config, options: options, environment: ProcessInfo.processInfo.environment,
      makeProvider: Providers.maker(transport: transport, maximumPages: config.daemon.maxPagesPerBucket), sink: sink,
      logger: logger)
    let summary = await cycle.run()
    await transport.shutdown()
    await records?.close(report, summary: summary, finished: Date())
    if options.listOnly {
      if format == .text {
        let held = options.listParts ? "holding \(ByteCount.humanize(summary.bytesHeld))" : "(parts not listed)"
        await output.line("\n\(summary.uploadsSeen) uploads \(held); \(summary.errors.count) error(s)")
        for error in summary.errors { await output.line("  \(error)") }
      } else {
        await output.line(ReportFormat.jsonSummary(summary))
      }
    } else {
      await output.line(
        format == .json ? ReportFormat.jsonSummary(summary) : ReportFormat.textSummary(summary, dryRun: dryRun))
    }
    await output.flush()
    return summary
  }
}

/// Sends each record to two sinks: the terminal and the cycle report.
struct TeeSink: RecordSink {
  let first: any RecordSink
  let second: any RecordSink

  func emit(_ record: UploadRecord) async {
    await emit(record, jsonLine: ReportFormat.jsonLine(record))
  }

  func emit(_ record: UploadRecord, jsonLine: String) async {
    await first.emit(record, jsonLine: jsonLine)
    await second.emit(record, jsonLine: jsonLine)
  }
}
