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

/// The totals of one cycle.
public struct CycleSummary: Sendable, Equatable {
  public var targets = 0
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
  public var bytesHeld: Int64 = 0
  public var bytesReclaimed: Int64 = 0
  public var errors: [String] = []
  /// Targets that could not be scanned at all, or only in part.
  public var failedTargets: Set<String> = []
  public var durationSeconds = 0.0

  public init() {}

  mutating func count(_ record: UploadRecord) {
    uploadsSeen += 1
    bytesHeld += record.bytes ?? 0
    switch record.outcome {
    case .kept: if record.decision == .unmatched { unmatched += 1 } else { kept += 1 }
    case .logged: logged += 1
    case .reported: reported += 1
    case .aborted:
      aborted += 1
      bytesReclaimed += record.bytes ?? 0
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
    bytesHeld += other.bytesHeld
    bytesReclaimed += other.bytesReclaimed
    errors += other.errors
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
    var line = "{\"summary\":{\"targets\":\(summary.targets),\"uploads_seen\":\(summary.uploadsSeen)"
    line += ",\"unmatched\":\(summary.unmatched),\"kept\":\(summary.kept),\"logged\":\(summary.logged)"
    line += ",\"reported\":\(summary.reported),\"aborted\":\(summary.aborted),\"would_abort\":\(summary.wouldAbort)"
    line +=
      ",\"abort_failed\":\(summary.abortFailed),\"skipped_recheck\":\(summary.skippedRecheck),\"gone\":\(summary.gone)"
    line += ",\"bytes_held\":\(summary.bytesHeld),\"bytes_reclaimed\":\(summary.bytesReclaimed)"
    line += ",\"errors\":[\(summary.errors.map(json).joined(separator: ","))]"
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

  static func json(_ text: String) -> String { JSONString.literal(text) }
}
