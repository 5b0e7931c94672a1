import Foundation
import ReaperCore
import TOMLKit

/// Checks a parsed config section by section, collecting every problem instead of stopping at the first.
/// The per-section checks, the typed reads and the unknown-key check are extensions in files of their own.
struct ConfigValidator {
  let path: String
  let locator: TOMLLocator
  let environment: [String: String]
  var diagnostics: [ConfigDiagnostic] = []

  init(path: String, locator: TOMLLocator, environment: [String: String]) {
    self.path = path
    self.locator = locator
    self.environment = environment
  }

  mutating func validate(_ root: TOMLTable) -> ReaperConfig? {
    let rootSection = Section(root: root)
    checkUnknownKeys(rootSection)
    let daemon = validateDaemon(table(in: rootSection, .daemon))
    let safety = validateSafety(table(in: rootSection, .safety))
    let metrics = validateMetrics(table(in: rootSection, .metrics))
    let targetTables = tables(in: rootSection, .target)
    if targetTables.isEmpty, root["target"] == nil {
      report(nil, "target", "no [[target]] is defined: nothing would be scanned")
    }
    var targets: [Target] = []
    var credentialSources: [String: CredentialSource] = [:]
    var targetLines: [String: Int] = [:]
    for (index, table) in targetTables.enumerated() {
      let section = Section(.target, table: table, index: index)
      guard let (target, source) = validateTarget(section) else { continue }
      if let earlier = targetLines[target.name] {
        report(
          at(section, "name"), "target.name", "duplicate target name \"\(target.name)\" (first on line \(earlier))")
        continue
      }
      targetLines[target.name] = at(section, "name") ?? 0
      targets.append(target)
      credentialSources[target.name] = source
    }
    // Names of targets that failed validation still exist: a rule naming one gets no second error.
    let declaredTargets = Set(targetTables.compactMap { $0["name"]?.string })
    var rules: [Rule] = []
    var ruleLines: [String: Int] = [:]
    var ruleTables: [String: String] = [:]
    for (index, table) in tables(in: rootSection, .rule).enumerated() {
      let section = Section(.rule, table: table, index: index)
      guard let rule = validateRule(section, targets: targets, declaredTargets: declaredTargets, safety: safety)
      else { continue }
      if let earlier = ruleLines[rule.name] {
        report(at(section, "name"), "rule.name", "duplicate rule name \"\(rule.name)\" (first on line \(earlier))")
        continue
      }
      ruleLines[rule.name] = at(section, "name") ?? 0
      ruleTables[rule.name] = section.path
      rules.append(rule)
    }
    let ruleSet = RuleSet(rules)
    warnAboutReach(ruleSet, targets: targets, ruleLines: ruleLines, targetLines: targetLines)
    if let safety {
      let footguns = Footguns(file: path, locator: locator, ruleTables: ruleTables)
      diagnostics += footguns.warnings(safety: safety, targets: targets, rules: ruleSet)
    }
    guard let daemon, let safety else { return nil }
    return ReaperConfig(
      path: path, daemon: daemon, safety: safety, metrics: metrics, targets: targets, rules: ruleSet,
      credentialSources: credentialSources)
  }

  mutating func warnAboutReach(
    _ rules: RuleSet, targets: [Target], ruleLines: [String: Int], targetLines: [String: Int]
  ) {
    if rules.rules.isEmpty, !targets.isEmpty {
      report(nil, "rule", "no [[rule]] is defined: every upload will be listed as unmatched", .warning)
    }
    for rule in rules.rules {
      if let shadow = rules.shadowingRule(of: rule) {
        report(
          ruleLines[rule.name], "rule.name",
          "rule \"\(rule.name)\" can never apply: rule \"\(shadow.name)\" on line \(ruleLines[shadow.name] ?? 0) has the same target, bucket and prefix",
          .warning)
      }
      for glob in rule.exclude
      where !(glob.literalPrefix.hasPrefix(rule.prefix) || rule.prefix.hasPrefix(glob.literalPrefix)) {
        report(
          ruleLines[rule.name], "rule.exclude",
          "\"\(glob.pattern)\" can never match: rule \"\(rule.name)\" only sees keys under \"\(rule.prefix)\"", .warning
        )
      }
    }
    for target in targets where !rules.rules.isEmpty {
      let covered = target.buckets.contains { !rules.scoped(target: target.name, bucket: $0).isEmpty }
      if !covered {
        report(
          targetLines[target.name], "target.name",
          "no rule applies to target \"\(target.name)\": its uploads will be listed as unmatched", .warning)
      }
    }
  }
}
