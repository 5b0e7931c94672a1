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
    if let bucket, !scopeTargets.isEmpty, !scopeTargets.contains(where: { $0.buckets.contains(bucket) }) {
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
      minBytes: minBytes, exclude: exclude.filter { !$0.isEmpty }.map(Glob.init), action: action)
  }
}
