import Foundation
import ReaperCore

/// One upload seen in a cycle, and what became of it: a line of the report.
public struct UploadRecord: Sendable {
  public var upload: Upload
  public var ageSeconds: Int64
  /// nil when parts were not listed.
  public var idleSeconds: Int64?
  public var parts: Int?
  public var bytes: Int64?
  public var rule: String?
  public var decision: DecisionKind
  public var outcome: Outcome
  public var reason: String

  public init(
    upload: Upload, ageSeconds: Int64, idleSeconds: Int64?, parts: Int?, bytes: Int64?, rule: String?,
    decision: DecisionKind, outcome: Outcome, reason: String
  ) {
    self.upload = upload
    self.ageSeconds = ageSeconds
    self.idleSeconds = idleSeconds
    self.parts = parts
    self.bytes = bytes
    self.rule = rule
    self.decision = decision
    self.outcome = outcome
    self.reason = reason
  }
}

/// Where a group of uploads sits: the unit that bytes held are counted by.
public struct HoldingKey: Sendable, Hashable, Comparable {
  public var target: String
  public var bucket: String
  /// nil for uploads no rule matched (seen only with `account_all`, or when unmatched uploads are listed).
  public var rule: String?

  public init(target: String, bucket: String, rule: String?) {
    self.target = target
    self.bucket = bucket
    self.rule = rule
  }

  public static func < (lhs: HoldingKey, rhs: HoldingKey) -> Bool {
    (lhs.target, lhs.bucket, lhs.rule ?? "") < (rhs.target, rhs.bucket, rhs.rule ?? "")
  }
}

/// What a group of uploads holds.
public struct Holding: Sendable, Equatable {
  public var uploads = 0
  /// Uploads a rule found past its thresholds (decided log, report or abort), whatever then happened.
  public var stale = 0
  public var bytes: Int64 = 0
  public var staleBytes: Int64 = 0
  /// Uploads whose parts were not listed: their bytes are unknown and not in `bytes`.
  public var unlisted = 0

  public init() {}

  mutating func merge(_ other: Holding) {
    uploads += other.uploads
    stale += other.stale
    bytes = bytes.saturatingAdd(other.bytes)
    staleBytes = staleBytes.saturatingAdd(other.staleBytes)
    unlisted += other.unlisted
  }
}

/// An error's place and kind, for counting errors by kind per target.
public struct ErrorKey: Sendable, Hashable, Comparable {
  public var target: String
  /// A provider error kind (`access-denied`, `retryable`, `malformed-response`, ...) or one of the cycle's own:
  /// `credentials`, `timeout`, `clock`, `report`.
  public var kind: String

  public init(target: String, kind: String) {
    self.target = target
    self.kind = kind
  }

  public static func < (lhs: ErrorKey, rhs: ErrorKey) -> Bool { (lhs.target, lhs.kind) < (rhs.target, rhs.kind) }
}

/// The totals of one cycle.
public struct CycleSummary: Sendable, Equatable {
  public var started: Date?
  public var dryRun = false
  public var targets = 0
  /// The targets the cycle set out to scan.
  public var targetNames: [String] = []
  public var uploadsSeen = 0
  public var unmatched = 0
  public var kept = 0
  public var logged = 0
  public var reported = 0
  public var aborted = 0
  public var wouldAbort = 0
  public var abortFailed = 0
  public var skippedRecheck = 0
  public var gone = 0
  /// Uploads decided log, report or abort.
  public var stale = 0
  public var bytesHeld: Int64 = 0
  public var staleBytes: Int64 = 0
  public var bytesReclaimed: Int64 = 0
  /// Bytes held and stale counts by target, bucket and rule; bounded by the config, not by the uploads.
  public var holdings: [HoldingKey: Holding] = [:]
  /// Every upload's outcome by target and bucket (`unmatched` apart from `kept`), for the metrics.
  public var outcomes: [OutcomeKey: Int] = [:]
  /// The outcomes of uploads decided abort, by target and bucket, for the metrics.
  public var abortOutcomes: [OutcomeKey: Int] = [:]
  public var reclaimedByBucket: [HoldingKey: Int64] = [:]
  public var errors: [String] = []
  public var errorKinds: [ErrorKey: Int] = [:]
  /// Targets that could not be scanned at all, or only in part.
  public var failedTargets: Set<String> = []
  public var durationSeconds = 0.0

  public init() {}

  /// True when `cycle_timeout` cut the cycle short: no target then counts as a success.
  public var timedOut = false

  public struct OutcomeKey: Sendable, Hashable, Comparable {
    public var target: String
    public var bucket: String
    public var outcome: String

    public init(target: String, bucket: String, outcome: String) {
      self.target = target
      self.bucket = bucket
      self.outcome = outcome
    }

    public static func < (lhs: OutcomeKey, rhs: OutcomeKey) -> Bool {
      (lhs.target, lhs.bucket, lhs.outcome) < (rhs.target, rhs.bucket, rhs.outcome)
    }
  }

  public mutating func noteError(_ message: String, target: String, kind: String) {
    errors.append(message)
    errorKinds[ErrorKey(target: target, kind: kind), default: 0] += 1
  }

  mutating func count(_ record: UploadRecord) {
    uploadsSeen += 1
    bytesHeld = bytesHeld.saturatingAdd(record.bytes ?? 0)
    let isStale = record.decision == .log || record.decision == .report || record.decision == .abort
    let key = HoldingKey(target: record.upload.target, bucket: record.upload.bucket, rule: record.rule)
    // One lookup per record: this runs for every upload of a cycle.
    var holding = holdings.removeValue(forKey: key) ?? Holding()
    holding.uploads += 1
    holding.bytes = holding.bytes.saturatingAdd(record.bytes ?? 0)
    if record.bytes == nil { holding.unlisted += 1 }
    if isStale {
      stale += 1
      staleBytes = staleBytes.saturatingAdd(record.bytes ?? 0)
      holding.stale += 1
      holding.staleBytes = holding.staleBytes.saturatingAdd(record.bytes ?? 0)
    }
    holdings[key] = holding
    let state = record.decision == .unmatched ? "unmatched" : record.outcome.rawValue
    outcomes[OutcomeKey(target: record.upload.target, bucket: record.upload.bucket, outcome: state), default: 0] += 1
    if record.decision == .abort {
      let outcome = OutcomeKey(
        target: record.upload.target, bucket: record.upload.bucket, outcome: record.outcome.rawValue)
      abortOutcomes[outcome, default: 0] += 1
      if record.outcome == .aborted {
        let key = HoldingKey(target: outcome.target, bucket: outcome.bucket, rule: nil)
        reclaimedByBucket[key] = reclaimedByBucket[key, default: 0].saturatingAdd(record.bytes ?? 0)
      }
    }
    switch record.outcome {
    case .kept: if record.decision == .unmatched { unmatched += 1 } else { kept += 1 }
    case .logged: logged += 1
    case .reported: reported += 1
    case .aborted:
      aborted += 1
      bytesReclaimed = bytesReclaimed.saturatingAdd(record.bytes ?? 0)
    case .wouldAbort: wouldAbort += 1
    case .skippedRecheck: skippedRecheck += 1
    case .gone: gone += 1
    case .failed: if record.decision == .abort { abortFailed += 1 }
    }
  }

  mutating func merge(_ other: CycleSummary) {
    uploadsSeen += other.uploadsSeen
    unmatched += other.unmatched
    kept += other.kept
    logged += other.logged
    reported += other.reported
    aborted += other.aborted
    wouldAbort += other.wouldAbort
    abortFailed += other.abortFailed
    skippedRecheck += other.skippedRecheck
    gone += other.gone
    stale += other.stale
    bytesHeld = bytesHeld.saturatingAdd(other.bytesHeld)
    staleBytes = staleBytes.saturatingAdd(other.staleBytes)
    bytesReclaimed = bytesReclaimed.saturatingAdd(other.bytesReclaimed)
    holdings.merge(other.holdings) { mine, theirs in
      var total = mine
      total.merge(theirs)
      return total
    }
    outcomes.merge(other.outcomes, uniquingKeysWith: +)
    abortOutcomes.merge(other.abortOutcomes, uniquingKeysWith: +)
    reclaimedByBucket.merge(other.reclaimedByBucket) { $0.saturatingAdd($1) }
    errors += other.errors
    errorKinds.merge(other.errorKinds, uniquingKeysWith: +)
    failedTargets.formUnion(other.failedTargets)
  }
}

/// The report's line formats: JSON lines as the contract fixes them, and an aligned table for people.
public enum ReportFormat {
  public static func jsonLine(_ record: UploadRecord) -> String {
    var line = "{\"target\":\(json(record.upload.target)),\"bucket\":\(json(record.upload.bucket))"
    line += ",\"key\":\(json(record.upload.key)),\"upload_id\":\(json(record.upload.uploadID))"
    line +=
      ",\"initiated\":\"\(Timestamp.formatRFC3339(record.upload.initiated))\",\"age_seconds\":\(record.ageSeconds)"
    line += ",\"idle_seconds\":\(record.idleSeconds.map(String.init) ?? "null")"
    line += ",\"parts\":\(record.parts.map(String.init) ?? "null"),\"bytes\":\(record.bytes.map(String.init) ?? "null")"
    line += ",\"rule\":\(record.rule.map(json) ?? "null"),\"decision\":\"\(record.decision.rawValue)\""
    line += ",\"outcome\":\"\(record.outcome.rawValue)\",\"reason\":\(json(record.reason))}"
    return line
  }

  public static func jsonSummary(_ summary: CycleSummary) -> String {
    var line = "{\"summary\":{"
    if let started = summary.started { line += "\"started\":\"\(Timestamp.formatRFC3339(started))\"," }
    line += "\"dry_run\":\(summary.dryRun),\"targets\":\(summary.targets),\"uploads_seen\":\(summary.uploadsSeen)"
    line += ",\"unmatched\":\(summary.unmatched),\"kept\":\(summary.kept),\"logged\":\(summary.logged)"
    line += ",\"reported\":\(summary.reported),\"aborted\":\(summary.aborted),\"would_abort\":\(summary.wouldAbort)"
    line +=
      ",\"abort_failed\":\(summary.abortFailed),\"skipped_recheck\":\(summary.skippedRecheck),\"gone\":\(summary.gone)"
    line += ",\"stale\":\(summary.stale),\"bytes_held\":\(summary.bytesHeld),\"stale_bytes\":\(summary.staleBytes)"
    line += ",\"bytes_reclaimed\":\(summary.bytesReclaimed)"
    let held = summary.holdings.sorted { $0.key < $1.key }.map { key, holding in
      "{\"target\":\(json(key.target)),\"bucket\":\(json(key.bucket)),\"rule\":\(key.rule.map(json) ?? "null")"
        + ",\"uploads\":\(holding.uploads),\"stale\":\(holding.stale),\"bytes\":\(holding.bytes)"
        + ",\"stale_bytes\":\(holding.staleBytes),\"unlisted\":\(holding.unlisted)}"
    }
    line += ",\"held\":[\(held.joined(separator: ","))]"
    line += ",\"errors\":[\(summary.errors.map(json).joined(separator: ","))]"
    let kinds = summary.errorKinds.sorted { $0.key < $1.key }.map { key, count in
      "{\"target\":\(json(key.target)),\"kind\":\(json(key.kind)),\"count\":\(count)}"
    }
    line += ",\"error_kinds\":[\(kinds.joined(separator: ","))]"
    line += ",\"failed_targets\":[\(summary.failedTargets.sorted().map(json).joined(separator: ","))]"
    line += ",\"duration_seconds\":\(String(format: "%.2f", summary.durationSeconds))}}"
    return line
  }

  static let columns: [(title: String, width: Int)] = [
    ("OUTCOME", 15), ("DECISION", 9), ("AGE", 8), ("IDLE", 8), ("PARTS", 5), ("BYTES", 10), ("RULE", 20),
    ("TARGET/BUCKET", 32),
  ]

  public static var tableHeader: String {
    row(columns.map(\.title)) + "KEY  (REASON)"
  }

  public static func tableRow(_ record: UploadRecord) -> String {
    row([
      record.outcome.rawValue, record.decision.rawValue, TimeSpan.humanize(seconds: record.ageSeconds),
      record.idleSeconds.map { TimeSpan.humanize(seconds: $0) } ?? "-", record.parts.map(String.init) ?? "-",
      record.bytes.map(ByteCount.humanize) ?? "-", record.rule ?? "-",
      "\(record.upload.target)/\(record.upload.bucket)",
    ]) + "\(record.upload.key)  (\(record.reason))"
  }

  static func row(_ cells: [String]) -> String {
    zip(cells, columns).map { cell, column in
      cell.count >= column.width ? cell + " " : cell + String(repeating: " ", count: column.width - cell.count)
    }.joined(separator: " ") + " "
  }

  public static func textSummary(_ summary: CycleSummary, dryRun: Bool) -> String {
    var lines = [
      "",
      "\(summary.uploadsSeen) uploads seen in \(summary.targets) target(s), holding \(ByteCount.humanize(summary.bytesHeld)) (where parts were listed)",
      "aborted \(summary.aborted) (\(ByteCount.humanize(summary.bytesReclaimed)) reclaimed), would abort \(summary.wouldAbort)\(dryRun ? " (dry run)" : ""), reported \(summary.reported), logged \(summary.logged), kept \(summary.kept), unmatched \(summary.unmatched)",
      staleLine(summary),
      "abort failed \(summary.abortFailed), skipped at recheck \(summary.skippedRecheck), gone \(summary.gone); took \(String(format: "%.2f", summary.durationSeconds))s",
    ]
    if summary.errors.isEmpty {
      lines.append("no errors")
    } else {
      lines.append("\(summary.errors.count) error(s):")
      lines += summary.errors.map { "  \($0)" }
    }
    return lines.joined(separator: "\n")
  }

  /// `stale 142 holding 11.6 GiB; most by tmp-abort in coffers/demo (4.6 GiB), ...`: where the bytes are.
  static func staleLine(_ summary: CycleSummary) -> String {
    let largest = summary.holdings.filter { $0.value.staleBytes > 0 }
      .sorted { ($0.value.staleBytes, $1.key) > ($1.value.staleBytes, $0.key) }.prefix(3)
      .map {
        "\($0.key.rule ?? "no rule") in \($0.key.target)/\($0.key.bucket) (\(ByteCount.humanize($0.value.staleBytes)))"
      }
    let head = "stale \(summary.stale) holding \(ByteCount.humanize(summary.staleBytes))"
    return largest.isEmpty ? head : "\(head); most by \(largest.joined(separator: ", "))"
  }

  static func json(_ text: String) -> String { JSONString.literal(text) }
}
