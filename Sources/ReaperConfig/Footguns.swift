import ReaperCore

/// Valid settings that remove a margin the reaper relies on to fail closed. They load, because an operator
/// may mean them, but `check-config` and the daemon say each time what they give up.
struct Footguns {
  let file: String
  let locator: TOMLLocator
  /// Each loaded rule's table in the locator, by rule name: `rule[3]`.
  let ruleTables: [String: String]

  /// Below this a `min_age` no longer covers a client that pauses between parts.
  static let shortestSafeMinAge: Int64 = 3600

  func warnings(safety: SafetySettings, targets: [Target], rules: RuleSet) -> [ConfigDiagnostic] {
    safetyWarnings(safety) + rules.rules.flatMap { reachWarnings($0, targets: targets, rules: rules) }
      + identityWithoutRecheck(safety, rules: rules)
  }

  /// Only the re-check's parts listing can confirm the uploads listing's word for who started an upload.
  func identityWithoutRecheck(_ safety: SafetySettings, rules: RuleSet) -> [ConfigDiagnostic] {
    guard !safety.recheckBeforeAbort else { return [] }
    let anyAbort = rules.rules.contains { $0.action == .abort }
    return rules.rules.filter { $0.hasIdentityCondition && anyAbort }.compactMap { rule in
      ruleTables[rule.name].map { table in
        warning(
          "\(table).action", "rule.action",
          rule.action == .abort
            ? "abort rule \"\(rule.name)\" selects by initiator or owner, and with recheck_before_abort = false it acts on the uploads listing's word alone (Ceph before 17 names the requester as every upload's initiator)"
            : "\(rule.action.rawValue) rule \"\(rule.name)\" selects by initiator or owner: an upload it passes over on the uploads listing's word alone may fall through to an abort rule, and with recheck_before_abort = false nothing confirms that word (Ceph before 17 names the requester as every upload's initiator)"
        )
      }
    }
  }

  func safetyWarnings(_ safety: SafetySettings) -> [ConfigDiagnostic] {
    var found: [ConfigDiagnostic] = []
    if safety.minAge.seconds < Self.shortestSafeMinAge {
      found.append(
        warning(
          "safety.min_age", "safety.min_age",
          "\(safety.minAge) is under 1h: an upload whose client is only pausing between parts can be aborted"))
    }
    if safety.maxAbortFraction >= 1 {
      found.append(
        warning(
          "safety.max_abort_fraction", "safety.max_abort_fraction",
          "\(safety.maxAbortFraction) turns the circuit breaker off: a bad rule or a misreporting server can abort every upload"
        ))
    }
    if !safety.recheckBeforeAbort {
      found.append(
        warning(
          "safety.recheck_before_abort", "safety.recheck_before_abort",
          "false aborts on the listing alone: an upload that got a new part since it was listed is aborted anyway"))
    }
    return found
  }

  func reachWarnings(_ rule: Rule, targets: [Target], rules: RuleSet) -> [ConfigDiagnostic] {
    guard rule.target == nil, let table = ruleTables[rule.name] else { return [] }
    guard let bucket = rule.bucket else {
      guard rule.action == .abort, rule.prefix.isEmpty else { return [] }
      return [
        warning(
          "\(table).action", "rule.action",
          "abort rule \"\(rule.name)\" names no target, bucket or prefix: it reaches every upload in every bucket of every target"
        )
      ]
    }
    var found: [ConfigDiagnostic] = []
    for target in targets where target.buckets.contains(bucket) {
      for outranked in targetRulesOutranked(by: rule, on: target.name, bucket: bucket, rules: rules) {
        let line = ruleTables[outranked.name].flatMap { locator.line(of: "\($0).name") } ?? 0
        found.append(
          warning(
            "\(table).bucket", "rule.bucket",
            "rule \"\(rule.name)\" names bucket \"\(bucket)\" but no target, so it outranks rule \"\(outranked.name)\" of target \"\(target.name)\" (line \(line)) for keys under \"\(rule.prefix)\": a rule for a bucket of that name on any target overrides this target's own"
          ))
      }
    }
    return found
  }

  /// The rules naming `target` and `bucket` that `bucketRule` wins over for some key there. It wins where
  /// both prefixes match and it ranks first, which with the precedence of `RuleSet` means its prefix is the
  /// longer; but not where a higher rule already claims its whole prefix, since then it never applies there.
  func targetRulesOutranked(by bucketRule: Rule, on target: String, bucket: String, rules: RuleSet) -> [Rule] {
    let scoped = rules.scoped(target: target, bucket: bucket).rules
    guard let position = scoped.firstIndex(where: { $0.name == bucketRule.name }) else { return [] }
    let prefix = bucketRule.prefix.utf8
    // A higher rule with `initiator` or `owner` lets the uploads it passes over through, so it claims nothing whole.
    if scoped[..<position].contains(where: { $0.prefix.utf8.elementsEqual(prefix) && !$0.hasIdentityCondition }) {
      return []
    }
    return scoped[(position + 1)...].filter { other in
      other.target == target && other.bucket.map { $0.utf8.elementsEqual(bucket.utf8) } == true
        && prefix.starts(with: other.prefix.utf8)
    }
  }

  /// A warning at `locatorPath`, or at its table when the key is absent (a default was used).
  func warning(_ locatorPath: String, _ key: String, _ message: String) -> ConfigDiagnostic {
    let table = locatorPath.split(separator: ".").first.map(String.init) ?? locatorPath
    return ConfigDiagnostic(
      file: file, line: locator.line(of: locatorPath) ?? locator.line(of: table), key: key, message: message,
      severity: .warning)
  }
}
