import Foundation

/// Decides one upload. Pure: the same inputs always give the same decision, and nothing is read or written.
public enum Policy {
  /// - Parameters:
  ///   - now: the clock ages are measured against (the server's, where known).
  ///   - parts: nil when they were not listed; a rule that needs them then keeps the upload.
  public static func decide(
    upload: Upload, parts: PartsSummary?, now: Date, selection: RuleSet.Selection, safety: SafetySettings
  ) -> Decision {
    let age = now.timeIntervalSince(upload.initiated)
    let ageSeconds = Int64(age.rounded(.down))
    let idle = parts.map { summary in
      // An upload with no timed parts has been idle since its last recorded activity, else since it began;
      // a time before the start is a clock fault.
      now.timeIntervalSince(
        max(summary.newestModified ?? upload.lastActivity?.date ?? upload.initiated, upload.initiated))
    }
    let idleSeconds = idle.map { Int64($0.rounded(.down)) }
    // Where the parts carry no time, the reason says which field of the upload idle was measured from.
    let idleBasis =
      parts?.newestModified == nil ? upload.lastActivity.map { " (since \($0.source))" } ?? "" : ""

    func keep(_ rule: Rule?, _ reason: String, doubtful: Bool = false) -> Decision {
      Decision(
        kind: .keep, ruleName: rule?.name, reason: reason, ageSeconds: ageSeconds, idleSeconds: idleSeconds,
        doubtful: doubtful)
    }
    // Parts go unlisted for uploads too young for them to matter: that keep is plain. Unlisted where they could
    // matter (a cycle stopping), the upload was not judged.
    func unlisted(_ rule: Rule, _ reason: String) -> Decision {
      keep(
        rule, reason,
        doubtful: partsCanMatter(upload: upload, now: now, selection: .selected(rule), safety: safety))
    }

    let rule: Rule
    switch selection {
    case .unmatched:
      return Decision(
        kind: .unmatched, ruleName: nil, reason: "no rule matches", ageSeconds: ageSeconds, idleSeconds: idleSeconds)
    case .excluded(let excluding, let glob):
      return keep(excluding, "excluded by \"\(glob.pattern)\"")
    case .selected(let selected):
      rule = selected
    }

    if age < 0 {
      return keep(rule, "initiated \(TimeSpan.humanize(seconds: -ageSeconds)) in the future", doubtful: true)
    }
    var reasons: [String] = []
    if let maxAge = rule.maxAge {
      let shown = TimeSpan.humanize(seconds: ageSeconds, like: maxAge)
      // Equal is not stale: the threshold is the last moment an upload is still fine.
      guard age > Double(maxAge.seconds) else { return keep(rule, "age \(shown) <= max_age \(maxAge)") }
      reasons.append("age \(shown) > max_age \(maxAge)")
    }
    if let maxIdle = rule.maxIdle {
      guard let idle, let idleSeconds else { return unlisted(rule, "idle time unknown: parts not listed") }
      if let unknown = parts?.idleUnknownReason(initiated: upload.initiated) {
        return keep(rule, unknown, doubtful: true)
      }
      if let unknown = upload.idleUnknown, parts?.newestModified == nil {
        return keep(rule, "idle time unknown: \(unknown)", doubtful: true)
      }
      let shown = TimeSpan.humanize(seconds: idleSeconds, like: maxIdle)
      guard idle > Double(maxIdle.seconds) else {
        return keep(rule, "idle \(shown) <= max_idle \(maxIdle)\(idleBasis)")
      }
      reasons.append("idle \(shown) > max_idle \(maxIdle)\(idleBasis)")
    }
    if let minBytes = rule.minBytes, minBytes > 0 {
      guard let bytes = parts?.bytes else { return unlisted(rule, "size unknown: parts not listed") }
      if let implausible = parts?.implausibleSize {
        return keep(rule, "size unknown: \(implausible)", doubtful: true)
      }
      let shown = ByteCount.humanize(bytes)
      guard bytes >= minBytes else {
        return keep(rule, "holds \(shown) < min_bytes \(ByteCount.humanize(minBytes))")
      }
      reasons.append("holds \(shown) >= min_bytes \(ByteCount.humanize(minBytes))")
    }
    if rule.action == .abort, age <= Double(safety.minAge.seconds) {
      let shown = TimeSpan.humanize(seconds: ageSeconds, like: safety.minAge)
      return keep(rule, "age \(shown) <= safety.min_age \(safety.minAge)")
    }
    let kind: DecisionKind =
      switch rule.action {
      case .log: .log
      case .report: .report
      case .abort: .abort
      }
    return Decision(
      kind: kind, ruleName: rule.name, reason: reasons.joined(separator: ", "), ageSeconds: ageSeconds,
      idleSeconds: idleSeconds)
  }
}

extension Policy {
  /// Whether listing an upload's parts could change its decision. An upload too young for its rule is kept
  /// whatever its parts say, because idle time never exceeds age; skipping its parts request is what keeps a
  /// scan of millions of fresh uploads to one request per page.
  public static func partsCanMatter(
    upload: Upload, now: Date, selection: RuleSet.Selection, safety: SafetySettings
  ) -> Bool {
    guard case .selected(let rule) = selection else { return false }
    let age = now.timeIntervalSince(upload.initiated)
    if age < 0 { return false }
    if let maxAge = rule.maxAge, age <= Double(maxAge.seconds) { return false }
    if let maxIdle = rule.maxIdle, age <= Double(maxIdle.seconds) { return false }
    if rule.action == .abort, age <= Double(safety.minAge.seconds) { return false }
    return true
  }
}

extension Policy {
  /// Whether the decision reads an upload's parts at all: idle time and bytes held come from them, age does not.
  /// A rule that reads neither is decided on the uploads listing alone.
  public static func decisionReadsParts(_ rule: Rule) -> Bool {
    rule.maxIdle != nil || (rule.minBytes ?? 0) > 0
  }
}

/// Byte counts as people read them, in binary units: `1.4 GiB`.
public enum ByteCount {
  public static func humanize(_ bytes: Int64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    guard bytes >= 1024 else { return "\(bytes) B" }
    var value = Double(bytes)
    var unit = 0
    while value >= 1024, unit < units.count - 1 {
      value /= 1024
      unit += 1
    }
    let rounded = (value * 10).rounded() / 10
    return rounded == rounded.rounded() ? "\(Int(rounded)) \(units[unit])" : "\(rounded) \(units[unit])"
  }

  /// Sizes in the config: a TOML integer is handled by the caller; strings like `"64MiB"`, `"5 GB"`, `"100"`.
  public static func parse(_ text: String) -> Int64? {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
    guard !digits.isEmpty, let number = Int64(digits) else { return nil }
    let unit = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces)
    let multipliers: [String: Int64] = [
      "": 1, "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
      "KB": 1_000, "MB": 1_000_000, "GB": 1_000_000_000, "TB": 1_000_000_000_000,
    ]
    guard let multiplier = multipliers[unit] else { return nil }
    let (product, overflow) = number.multipliedReportingOverflow(by: multiplier)
    return overflow ? nil : product
  }
}
