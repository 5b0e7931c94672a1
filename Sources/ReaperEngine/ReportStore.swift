import Foundation
import ReaperCore

/// A finished cycle report in `state_dir`.
public struct StoredReport: Sendable, Hashable {
  public var id: CycleID
  public var path: String
}

/// The summary line of a stored report, as far as it could be read. Fields a report lacks stay nil.
public struct StoredSummary: Sendable {
  public var started: Date?
  public var dryRun: Bool?
  public var uploadsSeen: Int?
  public var stale: Int?
  public var aborted: Int?
  public var wouldAbort: Int?
  public var reported: Int?
  public var bytesHeld: Int64?
  public var staleBytes: Int64?
  public var bytesReclaimed: Int64?
  public var errors: Int?
  public var failedTargets: [String] = []
  public var durationSeconds: Double?
  /// The summary line itself, for `--format json`.
  public var line: String
}

/// One upload line of a stored report: the fields the breakdown needs.
public struct StoredRecord: Sendable {
  public var target: String
  public var bucket: String
  public var key: String
  public var rule: String?
  public var decision: String
  public var outcome: String
  public var ageSeconds: Int64
  public var bytes: Int64?

  public var isStale: Bool { decision == "log" || decision == "report" || decision == "abort" }
}

/// A `kept_summary` line of a stored report: plain keeps counted, not listed.
public struct StoredKeptGroup: Sendable {
  public var target: String
  public var bucket: String
  public var rule: String?
  public var decision: String
  public var tally: UploadTally
  public var oldestAgeSeconds: Int64?
  public var ages: AgeHistogram
  public var prefixes: [(prefix: String, tally: UploadTally)]
  public var otherPrefixes: UploadTally
}

/// One line of a stored report before its summary: an upload, or a count of plain keeps.
public enum StoredEntry: Sendable {
  case record(StoredRecord)
  case kept(StoredKeptGroup)
}

public struct ReportReadError: Error, CustomStringConvertible {
  public var path: String
  public var message: String

  public var description: String { "\(path): \(message)" }
}

/// The cycle reports in `state_dir`: listing, pruning by the retention setting, and reading them back.
/// Reports can be large (one line per upload with `report_detail = "every-upload"`), so nothing here loads a
/// whole file.
public struct ReportStore: Sendable {
  public let directory: String

  public init(directory: String) { self.directory = directory }

  /// Finished reports, oldest first. Temporary files of unfinished cycles and foreign files are ignored.
  public func list() throws -> [StoredReport] {
    let names: [String]
    do {
      names = try FileManager.default.contentsOfDirectory(atPath: directory)
    } catch CocoaError.fileReadNoSuchFile {
      return []
    } catch {
      throw ReportReadError(path: directory, message: "cannot list the state directory: \(Self.reason(error))")
    }
    return
      names
      .filter { $0.hasPrefix("cycle-") && $0.hasSuffix(".jsonl") }
      .compactMap { name in
        CycleID(parsing: name).map {
          StoredReport(id: $0, path: (directory as NSString).appendingPathComponent(name))
        }
      }
      .sorted { $0.id < $1.id }
  }

  /// Deletes the reports the retention setting no longer keeps. Returns what was removed and what could not be.
  public func prune(_ retention: ReportRetention, now: Date) -> (removed: [StoredReport], problems: [String]) {
    let reports: [StoredReport]
    do {
      reports = try list()
    } catch {
      return ([], ["\(error)"])
    }
    let expired = Set(retention.expired(reports.map(\.id), now: now))
    var removed: [StoredReport] = []
    var problems: [String] = []
    for report in reports where expired.contains(report.id) {
      if unlink(report.path) == 0 || errno == ENOENT {
        removed.append(report)
      } else {
        problems.append("\(report.path): cannot delete an expired report: \(String(cString: strerror(errno)))")
      }
    }
    return (removed, problems)
  }

  /// Reads the summary, the last line, without reading the records before it.
  public func summary(of report: StoredReport) throws -> StoredSummary {
    guard let line = try Self.lastLine(of: report.path) else {
      throw ReportReadError(path: report.path, message: "empty report")
    }
    guard let object = Self.object(line), let summary = object["summary"] as? [String: Any] else {
      throw ReportReadError(path: report.path, message: "the last line is not a summary: the report is damaged")
    }
    func int(_ key: String) -> Int? { (summary[key] as? NSNumber).map(\.intValue) }
    func int64(_ key: String) -> Int64? { (summary[key] as? NSNumber).map(\.int64Value) }
    return StoredSummary(
      started: (summary["started"] as? String).flatMap { Timestamp.parseRFC3339($0) },
      dryRun: summary["dry_run"] as? Bool, uploadsSeen: int("uploads_seen"), stale: int("stale"),
      aborted: int("aborted"), wouldAbort: int("would_abort"), reported: int("reported"),
      bytesHeld: int64("bytes_held"), staleBytes: int64("stale_bytes"), bytesReclaimed: int64("bytes_reclaimed"),
      errors: (summary["errors"] as? [Any])?.count, failedTargets: summary["failed_targets"] as? [String] ?? [],
      durationSeconds: (summary["duration_seconds"] as? NSNumber)?.doubleValue, line: line)
  }

  /// Calls `body` with each upload line of the report, in order, reading it in blocks; `kept_summary` lines are
  /// skipped.
  public func forEachRecord(of report: StoredReport, _ body: (StoredRecord) throws -> Void) throws {
    try forEachEntry(of: report) { entry in
      if case .record(let record) = entry { try body(record) }
    }
  }

  /// Calls `body` with each upload line and each `kept_summary` line of the report, in order: reads either form.
  public func forEachEntry(of report: StoredReport, _ body: (StoredEntry) throws -> Void) throws {
    try forEachLine(of: report) { line, number in
      guard let object = Self.object(line) else {
        throw ReportReadError(path: report.path, message: "line \(number) is not JSON: the report is damaged")
      }
      if object["summary"] != nil { return }
      if let kept = object["kept_summary"] {
        guard let group = (kept as? [String: Any]).flatMap(Self.keptGroup) else {
          throw ReportReadError(path: report.path, message: "line \(number) is not a readable kept_summary")
        }
        try body(.kept(group))
        return
      }
      guard let target = object["target"] as? String, let bucket = object["bucket"] as? String,
        let key = object["key"] as? String, let decision = object["decision"] as? String,
        let outcome = object["outcome"] as? String, let age = object["age_seconds"] as? NSNumber
      else {
        throw ReportReadError(path: report.path, message: "line \(number) lacks the fields of an upload record")
      }
      try body(
        .record(
          StoredRecord(
            target: target, bucket: bucket, key: key, rule: object["rule"] as? String, decision: decision,
            outcome: outcome, ageSeconds: age.int64Value, bytes: (object["bytes"] as? NSNumber)?.int64Value)))
    }
  }

  static func keptGroup(_ object: [String: Any]) -> StoredKeptGroup? {
    func tally(_ object: [String: Any]?) -> UploadTally? {
      guard let object, let uploads = object["uploads"] as? NSNumber else { return nil }
      return UploadTally(
        uploads: uploads.intValue, bytes: (object["bytes"] as? NSNumber)?.int64Value ?? 0,
        unlisted: (object["unlisted"] as? NSNumber)?.intValue ?? 0)
    }
    guard let target = object["target"] as? String, let bucket = object["bucket"] as? String,
      let decision = object["decision"] as? String, let total = tally(object)
    else { return nil }
    // Bins are read by label, so a reader meets an unknown one as nothing rather than as a wrong count.
    var ages = AgeHistogram()
    let bins = object["ages"] as? [String: Any] ?? [:]
    for (index, label) in AgeHistogram.labels.enumerated() {
      guard let count = (bins[label] as? NSNumber)?.intValue, count > 0 else { continue }
      ages.add(ageSeconds: index == 0 ? 0 : AgeHistogram.bounds[index - 1], count: count)
    }
    let prefixes = (object["prefixes"] as? [[String: Any]] ?? []).compactMap { entry in
      (entry["prefix"] as? String).flatMap { prefix in tally(entry).map { (prefix, $0) } }
    }
    return StoredKeptGroup(
      target: target, bucket: bucket, rule: object["rule"] as? String, decision: decision, tally: total,
      oldestAgeSeconds: (object["oldest_age_seconds"] as? NSNumber)?.int64Value, ages: ages, prefixes: prefixes,
      otherPrefixes: tally(object["other_prefixes"] as? [String: Any]) ?? UploadTally())
  }

  /// Each line of the report with its 1-based number, read 64 KiB at a time.
  public func forEachLine(of report: StoredReport, _ body: (String, Int) throws -> Void) throws {
    guard let handle = FileHandle(forReadingAtPath: report.path) else {
      throw ReportReadError(path: report.path, message: "cannot open: \(String(cString: strerror(errno)))")
    }
    defer { try? handle.close() }
    var pending: [UInt8] = []
    var number = 0
    while true {
      let block = try handle.read(upToCount: 1 << 16) ?? Data()
      if block.isEmpty { break }
      pending.append(contentsOf: block)
      var start = 0
      while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
        number += 1
        try body(String(decoding: pending[start..<newline], as: UTF8.self), number)
        start = newline + 1
      }
      pending.removeFirst(start)
    }
    if !pending.isEmpty {
      number += 1
      try body(String(decoding: pending, as: UTF8.self), number)
    }
  }

  static func object(_ line: String) -> [String: Any]? {
    (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
  }

  /// The last non-empty line, found by reading backwards in growing blocks (a summary with many errors can be long).
  static func lastLine(of path: String) throws -> String? {
    guard let handle = FileHandle(forReadingAtPath: path) else {
      throw ReportReadError(path: path, message: "cannot open: \(String(cString: strerror(errno)))")
    }
    defer { try? handle.close() }
    let size = try handle.seekToEnd()
    var window: UInt64 = 1 << 14
    while true {
      let start = size > window ? size - window : 0
      try handle.seek(toOffset: start)
      var tail = Array(try handle.readToEnd() ?? Data())
      while tail.last == UInt8(ascii: "\n") { tail.removeLast() }
      if let newline = tail.lastIndex(of: UInt8(ascii: "\n")) {
        return String(decoding: tail[(newline + 1)...], as: UTF8.self)
      }
      if start == 0 { return tail.isEmpty ? nil : String(decoding: tail, as: UTF8.self) }
      guard window < 1 << 26 else {
        throw ReportReadError(path: path, message: "the summary line is longer than 64 MiB")
      }
      window *= 4
    }
  }

  static func reason(_ error: Error) -> String {
    (error as NSError).localizedFailureReason ?? (error as NSError).localizedDescription
  }
}
