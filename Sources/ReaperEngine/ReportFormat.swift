import Foundation
import ReaperCore

/// The report's line formats: JSON lines as the contract fixes them, and an aligned table for people.
public enum ReportFormat {
  public static func jsonLine(_ record: UploadRecord) -> String {
    var line = "{\"target\":\(json(record.upload.target)),\"bucket\":\(json(record.upload.bucket))"
    line += ",\"key\":\(json(record.upload.key)),\"upload_id\":\(json(record.upload.uploadID))"
    // Only when the listing named one: an absent field and an unknown initiator are the same thing.
    if let initiator = record.upload.initiatorID { line += ",\"initiator\":\(json(initiator))" }
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
    line += ",\"notices\":[\(summary.notices.map(json).joined(separator: ","))]"
    let kinds = summary.errorKinds.sorted { $0.key < $1.key }.map { key, count in
      "{\"target\":\(json(key.target)),\"kind\":\(json(key.kind.rawValue)),\"count\":\(count)}"
    }
    line += ",\"error_kinds\":[\(kinds.joined(separator: ","))]"
    line += ",\"failed_targets\":[\(summary.failedTargets.sorted().map(json).joined(separator: ","))]"
    line += ",\"duration_seconds\":\(String(format: "%.2f", summary.durationSeconds))}}"
    return line
  }

  static let columns: [(title: String, width: Int)] = [
    ("OUTCOME", 15), ("DECISION", 9), ("AGE", 8), ("IDLE", 8), ("PARTS", 5), ("BYTES", 10), ("RULE", 20),
    ("INITIATOR", 20), ("TARGET/BUCKET", 32),
  ]

  public static var tableHeader: String {
    row(columns.map(\.title)) + "KEY  (REASON)"
  }

  public static func tableRow(_ record: UploadRecord) -> String {
    row([
      record.outcome.rawValue, record.decision.rawValue, TimeSpan.humanize(seconds: record.ageSeconds),
      record.idleSeconds.map { TimeSpan.humanize(seconds: $0) } ?? "-", record.parts.map(String.init) ?? "-",
      record.bytes.map(ByteCount.humanize) ?? "-", record.rule ?? "-",
      record.upload.initiatorID.map(printable) ?? "-", "\(record.upload.target)/\(record.upload.bucket)",
    ]) + "\(record.upload.key)  (\(record.reason))"
  }

  /// A server's id on a terminal: control characters (an escape sequence, a line break) are shown as `?`.
  static func printable(_ text: String) -> String {
    String(String.UnicodeScalarView(text.unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : $0 }))
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
    if !summary.notices.isEmpty {
      lines.append("\(summary.notices.count) notice(s):")
      lines += summary.notices.map { "  \($0)" }
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
