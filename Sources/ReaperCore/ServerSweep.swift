/// One enabled lifecycle rule of a bucket that aborts incomplete multipart uploads (S3's
/// `AbortIncompleteMultipartUpload`): the server's own sweep, which runs whatever the reaper decides.
public struct ServerSweep: Sendable, Hashable {
  /// The lifecycle rule's `ID`; empty when it has none.
  public var ruleID: String
  /// `DaysAfterInitiation`: the server counts from initiation, whatever the upload's activity.
  public var days: Int
  /// The key prefix the rule covers; empty for the whole bucket.
  public var prefix: String
  /// Why the rule's filter could not be fully read (tags, sizes, elements this check does not know); nil when it
  /// covers exactly `prefix`. A doubted filter is taken to cover `prefix`, said as "may cover".
  public var filterDoubt: String?

  public init(ruleID: String, days: Int, prefix: String, filterDoubt: String? = nil) {
    self.ruleID = ruleID
    self.days = days
    self.prefix = prefix
    self.filterDoubt = filterDoubt
  }

  public var seconds: Int64 { Int64(days) * 86_400 }

  /// `lifecycle rule "abort-3d"`, or `a lifecycle rule with no ID`.
  public var label: String { ruleID.isEmpty ? "a lifecycle rule with no ID" : "lifecycle rule \"\(ruleID)\"" }

  /// The longest span a lifecycle's days can be read as; beyond it the number is not believed.
  public static let maximumDays = 36_500
}

/// What a bucket's lifecycle configuration says of the server's sweeps.
public struct LifecycleReading: Sendable, Hashable {
  /// The enabled rules with an abort of incomplete uploads; empty when there is no configuration.
  public var sweeps: [ServerSweep]
  /// Rules that may sweep but could not be read (days missing or implausible, a status neither Enabled nor
  /// Disabled): each is said, none is compared.
  public var problems: [String]

  public init(sweeps: [ServerSweep] = [], problems: [String] = []) {
    self.sweeps = sweeps
    self.problems = problems
  }

  /// A bucket with no lifecycle configuration at all.
  public static let none = LifecycleReading()
}

/// A server sweep that runs before a reaper rule would act on some uploads the rule covers.
public struct ServerSweepConflict: Sendable, Hashable, CustomStringConvertible {
  /// How much of the reaper rule's prefix the sweep covers.
  public enum Coverage: String, Sendable, Hashable {
    /// The sweep's prefix is a prefix of the rule's: every upload the rule selects.
    case all
    /// The rule's prefix is a prefix of the sweep's: the rule's uploads under the sweep's longer prefix.
    case part
  }

  public enum Kind: String, Sendable, Hashable {
    /// The server aborts the uploads before the rule ever would: the rule's threshold is never reached.
    case preempted
    /// The rule keeps an upload while it is written to (`max_idle`), however old; the server aborts it anyway.
    case abortsActive = "aborts-active"
  }

  public var sweep: ServerSweep
  public var ruleName: String
  public var rulePrefix: String
  public var ruleMaxAge: TimeSpan?
  public var ruleMaxIdle: TimeSpan?
  public var coverage: Coverage
  public var kind: Kind

  /// The rule's own limits, as the config writes them: `max_age 7d, max_idle 1d`.
  public var ruleLimits: String {
    [ruleMaxAge.map { "max_age \($0)" }, ruleMaxIdle.map { "max_idle \($0)" }].compactMap { $0 }.joined(
      separator: ", ")
  }

  public var description: String {
    let scope = sweep.prefix.isEmpty ? "in the whole bucket" : "under \"\(sweep.prefix)\""
    var text =
      "\(sweep.label) aborts incomplete uploads \(sweep.days) day\(sweep.days == 1 ? "" : "s") after initiation \(scope)"
    let covers = sweep.filterDoubt == nil ? "covers" : "may cover"
    switch coverage {
    case .all: text += ", which \(covers) all of"
    case .part: text += ", which \(covers) part of"
    }
    text += " rule \"\(ruleName)\" (prefix \"\(rulePrefix)\", \(ruleLimits))"
    switch kind {
    case .preempted: text += ": the server aborts them before the rule would"
    case .abortsActive:
      text += ": the rule keeps an upload while it is written to, however old; the server aborts it regardless"
    }
    if let doubt = sweep.filterDoubt { text += " (the lifecycle rule's filter \(doubt))" }
    return text
  }
}

/// Compares a bucket's server sweeps with the reaper rules that apply there. Pure advice: nothing it finds changes
/// a decision, and nothing here reads or writes.
public enum ServerSweepCheck {
  /// Every (sweep, rule) pair where the sweep covers some of the rule's uploads and runs before the rule would act
  /// on them, sweeps in the order given and rules in the order given (precedence order, from `ScopedRules`).
  public static func conflicts(rules: [Rule], sweeps: [ServerSweep]) -> [ServerSweepConflict] {
    var found: [ServerSweepConflict] = []
    for sweep in sweeps {
      for rule in rules {
        guard let coverage = coverage(of: sweep, over: rule.prefix), let kind = kind(rule, against: sweep) else {
          continue
        }
        found.append(
          ServerSweepConflict(
            sweep: sweep, ruleName: rule.name, rulePrefix: rule.prefix, ruleMaxAge: rule.maxAge,
            ruleMaxIdle: rule.maxIdle, coverage: coverage, kind: kind))
      }
    }
    return found
  }

  /// Byte-wise, as keys are compared everywhere else: Unicode equivalence would make two prefixes overlap that
  /// the server tells apart.
  static func coverage(of sweep: ServerSweep, over rulePrefix: String) -> ServerSweepConflict.Coverage? {
    if rulePrefix.utf8.starts(with: sweep.prefix.utf8) { return .all }
    if sweep.prefix.utf8.starts(with: rulePrefix.utf8) { return .part }
    return nil
  }

  /// A rule acts on an upload only once it is older than `max_age` and idle longer than `max_idle`, and idle
  /// time never exceeds age: the youngest it can act on is past both. The server counts from initiation alone.
  static func kind(_ rule: Rule, against sweep: ServerSweep) -> ServerSweepConflict.Kind? {
    let earliest = max(rule.maxAge?.seconds ?? 0, rule.maxIdle?.seconds ?? 0)
    if earliest > sweep.seconds { return .preempted }
    // Within the server's days, but the rule also waits for writing to stop, which may be never.
    if rule.maxIdle != nil { return .abortsActive }
    return nil
  }
}
