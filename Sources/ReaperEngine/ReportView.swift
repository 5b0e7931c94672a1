import Foundation
import ReaperCore

/// `upload-reaper report`: the last cycles as a table, and one cycle broken down. Sizes and ages are for people.
public enum ReportView {
  static let cycleColumns: [(title: String, width: Int, right: Bool)] = [
    ("TIME", 22, false), ("UPLOADS", 8, true), ("STALE", 7, true), ("ABORTED", 8, true), ("REPORTED", 8, true),
    ("HELD", 10, true), ("RECLAIMED", 10, true), ("ERRORS", 6, true), ("DURATION", 8, true),
  ]

  public static var cycleHeader: String { trimmed(render(cycleColumns.map(\.title), cycleColumns) + "NOTE") }

  /// One row per cycle. A report that cannot be read still gets its row, saying why.
  public static func cycleRow(_ report: StoredReport, _ summary: Result<StoredSummary, Error>) -> String {
    let time = Timestamp.formatRFC3339(report.id.started) + (report.id.sequence > 0 ? "-\(report.id.sequence)" : "")
    switch summary {
    case .failure(let error):
      let blanks = Array(repeating: "?", count: cycleColumns.count - 1)
      return trimmed(render([time] + blanks, cycleColumns) + "unreadable: \(message(error))")
    case .success(let summary):
      func count(_ value: Int?) -> String { value.map(String.init) ?? "-" }
      func size(_ value: Int64?) -> String { value.map(ByteCount.humanize) ?? "-" }
      var notes: [String] = []
      if summary.dryRun == true { notes.append("dry run, \(summary.wouldAbort ?? 0) would abort") }
      if !summary.failedTargets.isEmpty { notes.append("failed: \(summary.failedTargets.joined(separator: ", "))") }
      let cells = [
        time, count(summary.uploadsSeen), count(summary.stale), count(summary.aborted), count(summary.reported),
        size(summary.bytesHeld), size(summary.bytesReclaimed), count(summary.errors),
        summary.durationSeconds.map(duration) ?? "-",
      ]
      return trimmed(render(cells, cycleColumns) + notes.joined(separator: "; "))
    }
  }

  /// `0.42s`, `12.3s`, then `2m 5s`, `1h 3m`.
  public static func duration(_ seconds: Double) -> String {
    if seconds < 10 { return String(format: "%.2fs", seconds) }
    if seconds < 60 { return String(format: "%.1fs", seconds) }
    return TimeSpan.humanize(seconds: Int64(seconds.rounded()))
  }

  static func render(_ cells: [String], _ columns: [(title: String, width: Int, right: Bool)]) -> String {
    zip(cells, columns).map { cell, column in
      let pad = String(repeating: " ", count: max(0, column.width - displayWidth(cell)))
      return column.right ? pad + cell : cell + pad
    }.joined(separator: "  ") + "  "
  }

  /// Terminal columns: CJK and other East Asian wide characters take two, so keys like `相册/` still line up.
  static func displayWidth(_ text: String) -> Int {
    text.unicodeScalars.reduce(0) { width, scalar in
      switch scalar.value {
      case 0x0300...0x036F, 0x200B...0x200F: width
      case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
        0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F,
        0x20000...0x3FFFD:
        width + 2
      default: width + 1
      }
    }
  }

  static func padded(_ text: String, to width: Int) -> String {
    text + String(repeating: " ", count: max(0, width - displayWidth(text)))
  }

  static func trimmed(_ line: String) -> String {
    String(line.reversed().drop { $0 == " " }.reversed())
  }

  static func message(_ error: Error) -> String {
    switch error {
    case let error as ReportReadError: error.message
    default: "\(error)"
    }
  }
}

/// One cycle's uploads grouped by target, bucket, rule and top prefix. Memory grows with the number of groups,
/// not of uploads; prefixes are capped, and the rest are counted together.
public struct CycleBreakdown: Sendable {
  public struct Group: Sendable, Equatable {
    public var uploads = 0
    public var stale = 0
    public var staleBytes: Int64 = 0
    public var bytes: Int64 = 0
    public var aborted = 0
    public var reclaimed: Int64 = 0
    /// Stale uploads whose size is unknown (parts not listed).
    public var staleUnlisted = 0
    public var oldestStaleAge: Int64?

    mutating func add(_ record: StoredRecord) {
      uploads += 1
      bytes = bytes.saturatingAdd(record.bytes ?? 0)
      if record.outcome == "aborted" {
        aborted += 1
        reclaimed += record.bytes ?? 0
      }
      guard record.isStale else { return }
      stale += 1
      staleBytes = staleBytes.saturatingAdd(record.bytes ?? 0)
      if record.bytes == nil { staleUnlisted += 1 }
      oldestStaleAge = max(oldestStaleAge ?? record.ageSeconds, record.ageSeconds)
    }
  }

  public static let prefixLimit = 10_000
  public static let otherPrefixes = "(other prefixes)"

  public private(set) var targets: [String: Group] = [:]
  public private(set) var buckets: [String: Group] = [:]
  public private(set) var rules: [String: Group] = [:]
  public private(set) var prefixes: [String: Group] = [:]
  public private(set) var total = Group()

  public init() {}

  /// The key's first path segment with its slash (`tmp/`), or the key itself when it has none.
  public static func topPrefix(of key: String) -> String {
    guard let slash = key.firstIndex(of: "/") else { return key.isEmpty ? "(empty key)" : key }
    return String(key[...slash])
  }

  public mutating func add(_ record: StoredRecord) {
    total.add(record)
    targets[record.target, default: Group()].add(record)
    buckets["\(record.target)/\(record.bucket)", default: Group()].add(record)
    rules[record.rule ?? "(no rule)", default: Group()].add(record)
    var prefix = "\(record.target)/\(record.bucket)/\(Self.topPrefix(of: record.key))"
    if prefixes[prefix] == nil, prefixes.count >= Self.prefixLimit { prefix = Self.otherPrefixes }
    prefixes[prefix, default: Group()].add(record)
  }

  static let columns: [(title: String, width: Int, right: Bool)] = [
    ("UPLOADS", 8, true), ("STALE", 7, true), ("STALE HELD", 10, true), ("OLDEST", 8, true), ("ABORTED", 8, true),
    ("RECLAIMED", 10, true),
  ]

  /// The breakdown as text: a section per grouping, largest stale holdings first.
  public func lines(topPrefixes: Int = 20) -> [String] {
    var lines: [String] = []
    func section(_ title: String, _ groups: [String: Group], limit: Int? = nil) {
      let sorted = groups.sorted {
        ($0.value.staleBytes, $0.value.stale, $1.key) > ($1.value.staleBytes, $1.value.stale, $0.key)
      }
      let shown = sorted.prefix(limit ?? sorted.count)
      // As wide as the longest name shown, so bucket names are never cut.
      let width = shown.map { ReportView.displayWidth($0.key) }.reduce(max(title.count, 16), max)
      lines.append("")
      lines.append(
        ReportView.trimmed(
          ReportView.padded(title.uppercased(), to: width) + "  "
            + ReportView.render(Self.columns.map(\.title), Self.columns)))
      for (name, group) in shown {
        let stale = group.staleUnlisted > 0 ? "\(group.stale)*" : "\(group.stale)"
        lines.append(
          ReportView.trimmed(
            ReportView.padded(name, to: width) + "  "
              + ReportView.render(
                [
                  "\(group.uploads)", stale, ByteCount.humanize(group.staleBytes),
                  group.oldestStaleAge.map { TimeSpan.humanize(seconds: $0) } ?? "-", "\(group.aborted)",
                  ByteCount.humanize(group.reclaimed),
                ], Self.columns)))
      }
      if let limit, sorted.count > limit { lines.append("... and \(sorted.count - limit) more") }
    }
    section("target", targets)
    section("bucket", buckets)
    section("rule", rules)
    section("top prefix", prefixes.filter { $0.value.stale > 0 }, limit: topPrefixes)
    if total.staleUnlisted > 0 {
      lines.append("")
      lines.append("* \(total.staleUnlisted) stale upload(s) had their parts unlisted; their bytes are not counted")
    }
    return lines
  }
}
