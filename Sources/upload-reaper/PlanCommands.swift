import ArgumentParser
import Foundation
import Logging
import ReaperConfig
import ReaperCore
import ReaperEngine

struct Apply: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Abort only the uploads a reviewed plan (`scan --plan`) names, each decided again now.",
    discussion: """
      Each planned upload is listed and decided again under the current config and guards; it is aborted only if \
      the same rule still selects it, it is still stale and the re-check passes. Uploads the plan does not name are \
      never aborted. A plan made under another config, or older than --max-age, is refused unless --force says why.
      Exit status: 0 applied; 1 some target or upload failed; 2 bad config, or the plan refused or malformed.
      """)
  @OptionGroup var options: ConfigOption
  @Argument(help: ArgumentHelp("The plan file `scan --plan` wrote.", valueName: "file")) var plan: String
  @Option(help: ArgumentHelp("Refuse a plan older than this.", valueName: "span")) var maxAge = "24h"
  @Option(
    help: ArgumentHelp(
      "Apply a plan made under another config, too old or from the future; the reason is logged and reported.",
      valueName: "why"))
  var force: String?
  @Flag(help: "Decide the plan again and report, but abort nothing.") var dryRun = false
  @Option(help: "Output format: text or json.") var format: OutputFormat = .text

  func run() async throws {
    let config = try options.load().config
    let maxAge: TimeSpan
    do {
      maxAge = try TimeSpan.parse(self.maxAge)
    } catch {
      Console.error("upload-reaper: apply: --max-age \(error)")
      throw ExitCode(ExitStatus.badConfig)
    }
    if let force, force.allSatisfy(\.isWhitespace) {
      Console.error("upload-reaper: apply: --force needs the reason, as in --force \"reviewed by ops, ticket 123\"")
      throw ExitCode(ExitStatus.badConfig)
    }
    let loaded: Plan
    do {
      loaded = try PlanFile.read(plan)
    } catch {
      Console.error("upload-reaper: apply: refusing the plan: \(error)")
      throw ExitCode(ExitStatus.badConfig)
    }
    let digest = PlanFile.digest(config)
    let refusals = loaded.refusals(configDigest: digest, now: Date(), maxAge: maxAge)
    var cycle = CycleOptions(mode: dryRun ? .dryRun : .scan)
    cycle.plan = PlanSet(loaded.entries)
    if !refusals.isEmpty {
      guard let force else {
        for refusal in refusals { Console.error("upload-reaper: apply: \(plan): \(refusal)") }
        Console.error(
          "upload-reaper: apply: refusing the plan; make a new one with `scan --plan`, or pass --force \"why\"")
        throw ExitCode(ExitStatus.badConfig)
      }
      let note = "plan \(plan) applied under --force \"\(force)\", overriding: \(refusals.joined(separator: "; "))"
      Console.error("upload-reaper: apply: \(note)")
      cycle.notes.append(note)
    }
    let summary = await OneCycle.run(config: config, options: cycle, format: format, keepRecords: true)
    var metadata: Logger.Metadata = [
      "message_id": "\(ReaperEvent.planApplied.messageID)", "plan": "\(plan)", "planned": "\(loaded.entries.count)",
      "config_digest": "\(digest)", "plan_config_digest": "\(loaded.configDigest)",
      "plan_created": "\(PlanTime.format(loaded.created))", "aborted": "\(summary.aborted)",
      "bytes_reclaimed": "\(summary.bytesReclaimed)", "errors": "\(summary.errors.count)",
      "dry_run": "\(dryRun || config.daemon.dryRun)",
    ]
    let logger = Logger(label: "upload-reaper")
    if let force, !refusals.isEmpty {
      metadata["forced"] = "\(force)"
      metadata["overridden"] = "\(refusals.joined(separator: "; "))"
      logger.warning(
        "plan applied under --force: \(summary.aborted) of \(loaded.entries.count) planned upload(s) aborted",
        metadata: metadata)
    } else {
      logger.notice(
        "plan applied: \(summary.aborted) of \(loaded.entries.count) planned upload(s) aborted", metadata: metadata)
    }
    if !summary.errors.isEmpty { throw ExitCode(ExitStatus.targetFailed) }
  }
}

enum PlanCommands {
  /// `scan --plan FILE`: one dry run whose would-abort set, past every guard, is written to FILE.
  static func makePlan(
    config: ReaperConfig, path: String, target: String?, format: OutputFormat, keepRecords: Bool
  ) async throws {
    let digest = PlanFile.digest(config)
    let collector = PlanCollector()
    let summary = await OneCycle.run(
      config: config, options: CycleOptions(mode: .dryRun, targetFilter: target), format: format,
      keepRecords: keepRecords, also: collector)
    let entries = await collector.sortedEntries
    let plan = Plan(configDigest: digest, created: summary.started ?? Date(), entries: entries)
    do {
      try PlanFile.write(PlanJSON.render(plan, configPath: config.path), to: path)
    } catch {
      Console.error("upload-reaper: scan --plan: the plan was not written: \(error)")
      throw ExitCode(ExitStatus.targetFailed)
    }
    var lines = PlanSummary.text(entries)
    lines.append("plan written to \(path) (config digest \(digest)); review it, then: upload-reaper apply \(path)")
    if summary.wouldAbort > entries.count {
      lines.append(
        "\(summary.wouldAbort - entries.count) other would-abort upload(s) were stopped by a guard and are not in the plan"
      )
    }
    let text = lines.joined(separator: "\n") + "\n"
    // JSON output keeps stdout to JSON lines.
    if format == .json {
      FileHandle.standardError.write(Data(text.utf8))
    } else {
      FileHandle.standardOutput.write(Data(text.utf8))
    }
    if !summary.errors.isEmpty { throw ExitCode(ExitStatus.targetFailed) }
  }
}
