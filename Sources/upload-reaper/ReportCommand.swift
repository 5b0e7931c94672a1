import ArgumentParser
import Foundation
import ReaperConfig
import ReaperCore
import ReaperEngine

struct Report: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show the last cycles from state_dir, or break one cycle down.",
    discussion: """
      Without --cycle: one line per cycle, newest last (time, uploads seen, stale, aborted, reported,
      bytes held, bytes reclaimed, errors, duration). With --cycle ID: that cycle by target, bucket, rule
      and top prefix, largest stale holdings first, and its kept uploads by age. ID is the TIME column as
      shown, or `latest`.
      --format json prints the stored JSON lines instead: the summary lines, or the whole cycle's report.
      """)
  @OptionGroup var options: ConfigOption
  @Option(help: ArgumentHelp("Read the reports in this directory instead of the config's state_dir.", valueName: "dir"))
  var stateDir: String?
  @Option(help: "How many cycles to show.") var last: Int = 10
  @Option(help: ArgumentHelp("Break this cycle down (its TIME, or `latest`).", valueName: "id")) var cycle: String?
  @Option(help: "How many top prefixes to show with --cycle.") var prefixes: Int = 20
  @Option(help: "Output format: text or json.") var format: OutputFormat = .text

  func validate() throws {
    guard last > 0 else { throw ValidationError("--last must be at least 1") }
    guard prefixes > 0 else { throw ValidationError("--prefixes must be at least 1") }
    if let cycle, cycle != "latest", CycleID(parsing: cycle) == nil {
      throw ValidationError(
        "--cycle \(cycle): not a cycle ID; use the TIME column of `upload-reaper report`, such as 2026-11-24T19:10:00Z")
    }
  }

  func run() async throws {
    // The config only says where state_dir is; a config with other faults still serves for reading reports.
    let directory = try stateDir ?? options.load().config.daemon.stateDirectory
    let store = ReportStore(directory: directory)
    let reports: [StoredReport]
    do {
      reports = try store.list()
    } catch {
      Console.error("upload-reaper report: \(error)")
      throw ExitCode(ExitStatus.targetFailed)
    }
    if let cycle {
      try await breakDown(cycle, reports: reports, store: store)
      return
    }
    let output = StandardOutput(style: .json)
    if reports.isEmpty {
      Console.error("upload-reaper report: no cycle reports in \(directory) yet")
      return
    }
    if format == .text { await output.line(ReportView.cycleHeader) }
    var unreadable = 0
    for report in reports.suffix(last) {
      let summary = Swift.Result { try store.summary(of: report) }
      if case .failure = summary { unreadable += 1 }
      switch (format, summary) {
      case (.text, _): await output.line(ReportView.cycleRow(report, summary))
      case (.json, .success(let summary)): await output.line(summary.line)
      case (.json, .failure(let error)): Console.error("upload-reaper report: \(error)")
      }
    }
    await output.flush()
    if unreadable > 0 { throw ExitCode(ExitStatus.targetFailed) }
  }

  func breakDown(_ text: String, reports: [StoredReport], store: ReportStore) async throws {
    let wanted =
      text == "latest" ? reports.last : CycleID(parsing: text).flatMap { id in reports.first { $0.id == id } }
    guard let report = wanted else {
      let recent = reports.suffix(5).map { Timestamp.formatRFC3339($0.id.started) }.joined(separator: ", ")
      Console.error(
        "upload-reaper report: no cycle \(text) in \(store.directory)"
          + (recent.isEmpty ? "" : " (the most recent: \(recent))"))
      throw ExitCode(ExitStatus.badConfig)
    }
    let output = StandardOutput(style: .json)
    do {
      if format == .json {
        // Streamed straight through: a cycle's report can hold millions of lines.
        var buffer: [UInt8] = []
        try store.forEachLine(of: report) { line, _ in
          buffer.append(contentsOf: line.utf8)
          buffer.append(UInt8(ascii: "\n"))
          if buffer.count >= 1 << 16 {
            FileHandle.standardOutput.write(Data(buffer))
            buffer.removeAll(keepingCapacity: true)
          }
        }
        FileHandle.standardOutput.write(Data(buffer))
        return
      }
      let summary = try store.summary(of: report)
      var breakdown = CycleBreakdown()
      try store.forEachEntry(of: report) { breakdown.add($0) }
      await output.line(ReportView.cycleHeader)
      await output.line(ReportView.cycleRow(report, .success(summary)))
      for line in breakdown.lines(topPrefixes: prefixes) { await output.line(line) }
      await output.flush()
    } catch {
      await output.flush()
      Console.error("upload-reaper report: \(error)")
      throw ExitCode(ExitStatus.targetFailed)
    }
  }
}
