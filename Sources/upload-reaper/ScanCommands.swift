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
  @Option(
    help: ArgumentHelp(
      "Run a dry run and write the uploads it would abort to this file, for review and `apply`.", valueName: "file"))
  var plan: String?

  func run() async throws {
    let config = try options.load().config
    try TargetFilter.check(target, in: config)
    guard let plan else {
      let summary = await OneCycle.run(
        config: config, options: CycleOptions(mode: dryRun ? .dryRun : .scan, targetFilter: target), format: format,
        keepRecords: !noRecords)
      if !summary.errors.isEmpty { throw ExitCode(ExitStatus.targetFailed) }
      return
    }
    try await PlanCommands.makePlan(
      config: config, path: plan, target: target, format: format, keepRecords: !noRecords)
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
    let summary = await OneCycle.run(
      config: config, options: CycleOptions(mode: .list(parts: !noParts), targetFilter: target), format: format)
    if !summary.errors.isEmpty { throw ExitCode(ExitStatus.targetFailed) }
  }
}

enum OneCycle {
  /// `keepRecords`: write the cycle report to state_dir, prune old ones, and rewrite the metrics textfile, as the
  /// daemon does after each cycle, so `scan` from cron leaves the same trail.
  static func run(
    config: ReaperConfig, options: CycleOptions, format: OutputFormat, keepRecords: Bool = false,
    also: (any RecordSink)? = nil
  ) async -> CycleSummary {
    let logger = Logs.bootstrap(defaultLevel: .warning)
    let transport = HTTPTransport(logger: logger)
    let output = StandardOutput(style: format == .json ? .json : .table)
    let runner = CycleRunner(
      config: config, metrics: config.metrics.textfile == nil ? nil : CycleMetrics(), keepRecords: keepRecords,
      logger: logger)
    let summary = await runner.run(
      options: options, environment: ProcessInfo.processInfo.environment,
      makeProvider: Providers.maker(transport: transport, maximumPages: config.daemon.maxPagesPerBucket),
      output: also.map { TeeSink([output, $0]) as any RecordSink } ?? output)
    await transport.shutdown()
    switch options.mode {
    case .list(let parts) where format == .text:
      let held = parts ? "holding \(ByteCount.humanize(summary.bytesHeld))" : "(parts not listed)"
      await output.line("\n\(summary.uploadsSeen) uploads \(held); \(summary.errors.count) error(s)")
      for error in summary.errors { await output.line("  \(error)") }
    case _ where format == .json:
      await output.line(ReportFormat.jsonSummary(summary))
    default:
      await output.line(
        ReportFormat.textSummary(summary, dryRun: options.mode == .dryRun || config.daemon.dryRun))
    }
    await output.flush()
    return summary
  }
}
