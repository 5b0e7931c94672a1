import ReaperCore

extension ConfigValidator {
  mutating func validateRule(
    _ section: Section, targets: [Target], declaredTargets: Set<String>, safety: SafetySettings?
  ) -> Rule? {
    checkUnknownKeys(section)
    let name = requiredString(section, "name")
    if let name, name.isEmpty { report(at(section, "name"), "rule.name", "must not be empty") }
    let targetName = string(section, "target")
    var scopeTargets = targets
    if let targetName {
      if let target = targets.first(where: { $0.name == targetName }) {
        scopeTargets = [target]
      } else if !declaredTargets.contains(targetName) {
        let known = targets.map { "\"\($0.name)\"" }.joined(separator: ", ")
        report(
          at(section, "target"), "rule.target",
          "unknown target \"\(targetName)\"; defined: \(known.isEmpty ? "none" : known)")
        scopeTargets = []
      }
    }
    let bucket = string(section, "bucket")
    if let bucket, !scopeTargets.isEmpty, !scopeTargets.contains(where: { $0.mayWatch(bucket) }) {
      let owner = targetName.map { "target \"\($0)\"" } ?? "any target"
      report(at(section, "bucket"), "rule.bucket", "bucket \"\(bucket)\" is not in the buckets of \(owner)")
    }
    let prefix = string(section, "prefix") ?? ""
    let maxAge = duration(section, "max_age")
    let maxIdle = duration(section, "max_idle")
    if section.table["max_age"] == nil, section.table["max_idle"] == nil {
      report(line(section.path), "rule.max_age", "a rule needs max_age, max_idle or both")
    }
    if let maxAge, let minAge = safety?.minAge, maxAge < minAge {
      report(at(section, "max_age"), "rule.max_age", "\(maxAge) is below safety.min_age \(minAge)")
    }
    var minBytes: Int64?
    if let value = section.table["min_bytes"] {
      if let number = value.int {
        minBytes = Int64(number)
      } else if let text = value.string {
        minBytes = ByteCount.parse(text)
        if minBytes == nil {
          report(
            at(section, "min_bytes"), "rule.min_bytes",
            "\"\(text)\" is not a size; write bytes (1048576) or a size such as \"64MiB\"")
        }
      } else {
        typeMismatch(section, "min_bytes", expected: "an integer or a size string", got: value.type)
      }
      if let bytes = minBytes, bytes < 0 {
        report(at(section, "min_bytes"), "rule.min_bytes", "must not be negative")
        minBytes = nil
      }
    }
    let exclude = stringArray(section, "exclude", required: false) ?? []
    for pattern in exclude where pattern.isEmpty {
      report(at(section, "exclude"), "rule.exclude", "an empty glob matches nothing; remove it")
    }
    let initiator = identityGlobs(section, "initiator", reach: reach(bucket, of: scopeTargets))
    let owner = identityGlobs(section, "owner", reach: reach(bucket, of: scopeTargets))
    var action: RuleAction?
    if let text = requiredString(section, "action") {
      action = RuleAction(rawValue: text)
      if action == nil {
        report(at(section, "action"), "rule.action", "unknown action \"\(text)\"; expected log, report or abort")
      }
    }
    guard let name, let action else { return nil }
    return Rule(
      name: name, target: targetName, bucket: bucket, prefix: prefix, maxAge: maxAge, maxIdle: maxIdle,
      minBytes: minBytes, exclude: exclude.filter { !$0.isEmpty }.map(Glob.init), initiator: initiator,
      owner: owner, action: action)
  }

  /// The targets a rule can act in: its own, or every one; narrowed to those holding its bucket, when it names one.
  func reach(_ bucket: String?, of targets: [Target]) -> [Target] {
    guard let bucket else { return targets }
    return targets.filter { $0.mayWatch(bucket) }
  }

  /// `initiator` or `owner`: globs on an id of the listing. Refused where the rule can reach a provider whose
  /// listing has no such id (pds), since there the condition could never hold and the rule would silently act
  /// on nothing; and refused empty, since `[]` would read as "no condition" and widen the rule.
  mutating func identityGlobs(_ section: Section, _ key: String, reach: [Target]) -> [Glob] {
    guard let patterns = stringArray(section, key, required: false) else { return [] }
    if patterns.isEmpty {
      report(at(section, key), "rule.\(key)", "an empty list sets no condition; list globs, or remove the key")
    }
    if patterns.contains("") {
      report(at(section, key), "rule.\(key)", "an empty glob matches no \(key); remove it")
    }
    if let pds = reach.first(where: { $0.provider == .pds }) {
      report(
        at(section, key), "rule.\(key)",
        "pds listings carry no \(key) id, and this rule reaches pds target \"\(pds.name)\"; give the rule a target = \"<a cdcs or s3 target>\""
      )
    }
    return patterns.filter { !$0.isEmpty }.map(Glob.init)
  }
}
