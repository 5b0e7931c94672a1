import ArgumentParser
import Foundation
import ReaperConfig
import ReaperCore
import ReaperEngine
import ReaperProviders

struct CheckConfig: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "check-config",
    abstract: "Validate the config and the credentials it names; print the rules in the order they win.",
    discussion: """
      Exit status 0 when the config is usable (warnings may be printed), 2 when it is not. With --online, each \
      target is then tried: bucket globs resolved and one page of uploads listed in each bucket, never an abort; \
      exit status 1 when any target or bucket fails.
      """
  )
  @OptionGroup var options: ConfigOption

  @Flag(name: .long, help: "Also reach every target: list its buckets and one page of uploads in each.")
  var online = false

  func run() async throws {
    let config = try options.load().config
    print(CheckConfigSummary.render(config))
    guard online else { return }
    let logger = Logs.bootstrap(defaultLevel: .critical)
    // A quick look, not a cycle: two tries and short timeouts, so a dead endpoint is said in seconds.
    var settings = HTTPSettings()
    settings.maxAttempts = 2
    settings.connectTimeout = .seconds(5)
    settings.requestTimeout = .seconds(20)
    let transport = HTTPTransport(settings: settings, logger: logger)
    let (lines, allWorked) = await OnlineCheck.run(
      config, environment: ProcessInfo.processInfo.environment,
      makeProvider: Providers.maker(transport: transport, maximumPages: config.daemon.maxPagesPerBucket))
    await transport.shutdown()
    print("online:")
    for line in lines { print(line.rendered) }
    print(allWorked ? "online: every target works" : "online: \(lines.filter { $0.failure != nil }.count) failed")
    if !allWorked { throw ExitCode(ExitStatus.targetFailed) }
  }
}

enum CheckConfigSummary {
  static func render(_ config: ReaperConfig) -> String {
    var lines: [String] = []
    let daemon = config.daemon
    let safety = config.safety
    lines.append("\(config.path): OK")
    lines.append(
      "daemon: every \(daemon.interval) (jitter \(daemon.jitter)), concurrency \(daemon.concurrency) per target, state in \(daemon.stateDirectory)\(daemon.dryRun ? ", DRY RUN: nothing is aborted" : "")"
    )
    lines.append(
      "reports: \(daemon.keepReports) kept in state_dir, \(daemon.reportDetail == .summary ? "plain keeps counted, not listed" : "every upload listed"); parts listed for \(daemon.accountAll ? "every upload (account_all)" : "uploads a rule selects")"
    )
    let metrics = [
      config.metrics.listen.map { "http://\($0)/metrics" }, config.metrics.textfile.map { "textfile \($0)" },
    ].compactMap { $0 }
    lines.append("metrics: \(metrics.isEmpty ? "off" : metrics.joined(separator: ", "))")
    let percent = Int((safety.maxAbortFraction * 100).rounded())
    lines.append(
      "safety: nothing younger than \(safety.minAge) is aborted; per target and cycle at most \(safety.maxAbortsPerCycle) aborts and \(percent)% of the uploads seen; recheck before abort \(safety.recheckBeforeAbort ? "on" : "OFF")"
    )
    lines.append("targets:")
    for target in config.targets {
      let credentials = config.credentialSources[target.name].map(\.description) ?? "none"
      lines.append(
        "  \(target.name)  \(target.provider.rawValue)  \(target.endpoint)  buckets: \(target.buckets.joined(separator: ", "))  timezone \(target.zone)  credentials: \(credentials)"
      )
    }
    lines.append("rules, in the order they win (longest prefix, then bucket, then target, then file order):")
    if config.rules.rules.isEmpty { lines.append("  (none: every upload is unmatched)") }
    let ordered = config.rules.inPrecedenceOrder
    for (position, rule) in ordered.enumerated() {
      var conditions: [String] = []
      if let maxAge = rule.maxAge { conditions.append("age > \(maxAge)") }
      if let maxIdle = rule.maxIdle { conditions.append("idle > \(maxIdle)") }
      if let minBytes = rule.minBytes, minBytes > 0 { conditions.append("holds >= \(ByteCount.humanize(minBytes))") }
      let scope = "target \(rule.target ?? "*"), bucket \(rule.bucket ?? "*"), prefix \"\(rule.prefix)\""
      let excludes = rule.exclude.isEmpty ? "" : ", except \(rule.exclude.map(\.pattern).joined(separator: " "))"
      lines.append(
        "  \(position + 1). \(rule.name): \(scope)\(excludes): \(conditions.joined(separator: " and ")) -> \(rule.action.rawValue)"
      )
    }
    return lines.joined(separator: "\n")
  }
}
