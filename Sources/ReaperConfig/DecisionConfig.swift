import Foundation
import ReaperCore

extension ReaperConfig {
  /// The config as far as it decides which uploads are aborted, rendered one setting a line in a fixed order: what
  /// a plan's config digest is taken over. It covers every target's name, provider, endpoint, region, buckets,
  /// exclude_buckets, timezone and path style; every rule, in file order, with every condition and its action; the
  /// `[safety]` guards; and `[daemon] shard`, which decides the buckets this host lists. It leaves out what does
  /// not change a decision: credentials (never rendered, not even where they come from), the state directory,
  /// reports, metrics, intervals, concurrency, timeouts, page limits, `account_all`, and `dry_run`, which `apply`
  /// honours as it finds it (a config in dry run applies nothing).
  public var decisionText: String {
    var lines = ["upload-reaper decision config v1"]
    func quoted(_ text: String) -> String { JSONString.literal(text) }
    func globs(_ list: [Glob]) -> String { "[" + list.map { quoted($0.pattern) }.joined(separator: ",") + "]" }
    for target in targets {
      lines.append("target \(quoted(target.name))")
      lines.append("  provider \(target.provider.rawValue)")
      lines.append("  endpoint \(quoted(target.endpoint))")
      lines.append("  region \(quoted(target.region))")
      lines.append("  buckets [\(target.buckets.map(quoted).joined(separator: ","))]")
      lines.append("  exclude_buckets \(globs(target.excludeBuckets))")
      lines.append("  timezone \(target.zoneConfigured ? quoted(target.zone.description) : "unset")")
      lines.append("  path_style \(target.pathStyle)")
    }
    for rule in rules.rules {
      lines.append("rule \(quoted(rule.name))")
      lines.append("  target \(rule.target.map(quoted) ?? "any")")
      lines.append("  bucket \(rule.bucket.map(quoted) ?? "any")")
      lines.append("  prefix \(quoted(rule.prefix))")
      lines.append("  max_age \(rule.maxAge.map { String($0.seconds) } ?? "unset")")
      lines.append("  max_idle \(rule.maxIdle.map { String($0.seconds) } ?? "unset")")
      lines.append("  min_bytes \(rule.minBytes.map(String.init) ?? "unset")")
      lines.append("  exclude \(globs(rule.exclude))")
      lines.append("  initiator \(globs(rule.initiator))")
      lines.append("  owner \(globs(rule.owner))")
      lines.append("  action \(rule.action.rawValue)")
    }
    lines.append("safety")
    lines.append("  min_age \(safety.minAge.seconds)")
    lines.append("  max_aborts_per_cycle \(safety.maxAbortsPerCycle)")
    lines.append("  max_abort_fraction \(safety.maxAbortFraction)")
    lines.append("  recheck_before_abort \(safety.recheckBeforeAbort)")
    lines.append("daemon")
    lines.append("  shard \(daemon.shard)")
    return lines.joined(separator: "\n") + "\n"
  }
}
