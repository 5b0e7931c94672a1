import Foundation

/// A cycle's report name: its start time in UTC to the second, `20261124T191000Z`, plus `-N` in the rare case
/// that two cycles (a daemon's and a manual `scan`, say) start in the same second. Names sort by time.
public struct CycleID: Sendable, Hashable, Comparable, CustomStringConvertible {
  public var started: Date
  public var sequence: Int

  public init(started: Date, sequence: Int = 0) {
    self.started = Date(timeIntervalSince1970: started.timeIntervalSince1970.rounded(.down))
    self.sequence = sequence
  }

  public var description: String {
    let stamp = Timestamp.formatRFC3339(started).replacingOccurrences(of: "-", with: "")
      .replacingOccurrences(of: ":", with: "")
    return sequence == 0 ? stamp : "\(stamp)-\(sequence)"
  }

  public var fileName: String { "cycle-\(description).jsonl" }

  /// Accepts the ID as printed (`20261124T191000Z`, `20261124T191000Z-1`), the file name, or the start time as the
  /// report table shows it (`2026-11-24T19:10:00Z`).
  public init?(parsing text: String) {
    var body = Substring(text)
    if body.hasPrefix("cycle-") { body = body.dropFirst(6) }
    if body.hasSuffix(".jsonl") { body = body.dropLast(6) }
    var sequence = 0
    // A sequence follows the zone letter: `...Z-1` in either spelling.
    if let dash = body.lastIndex(of: "-"), dash > body.startIndex, body[body.index(before: dash)] == "Z" {
      let suffix = body[body.index(after: dash)...]
      guard !suffix.isEmpty, suffix.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(suffix), number > 0,
        number < 1_000_000
      else { return nil }
      sequence = number
      body = body[..<dash]
    }
    let compact = Array(body)
    let expanded: String
    if compact.count == 16, compact[8] == "T", compact[15] == "Z",
      compact.enumerated().allSatisfy({ $0.offset == 8 || $0.offset == 15 || $0.element.isASCII && $0.element.isNumber }
      )
    {
      let digits = String(compact)
      func slice(_ from: Int, _ length: Int) -> Substring {
        let start = digits.index(digits.startIndex, offsetBy: from)
        return digits[start..<digits.index(start, offsetBy: length)]
      }
      expanded = "\(slice(0, 4))-\(slice(4, 2))-\(slice(6, 2))T\(slice(9, 2)):\(slice(11, 2)):\(slice(13, 2))Z"
    } else {
      expanded = String(body)
    }
    guard let date = Timestamp.parseRFC3339(expanded) else { return nil }
    self.init(started: date, sequence: sequence)
  }

  public static func < (lhs: CycleID, rhs: CycleID) -> Bool {
    (lhs.started, lhs.sequence) < (rhs.started, rhs.sequence)
  }
}

/// How many cycle reports `state_dir` keeps: the newest N, or those younger than a duration.
public enum ReportRetention: Sendable, Hashable, CustomStringConvertible {
  case count(Int)
  case age(TimeSpan)

  public static let `default` = ReportRetention.count(200)

  public var description: String {
    switch self {
    case .count(let count): "the newest \(count) reports"
    case .age(let span): "reports of the last \(span)"
    }
  }

  /// The reports to delete, oldest first. The newest report is always kept, whatever the setting, so `report`
  /// has something to show even after a long outage.
  public func expired(_ cycles: [CycleID], now: Date) -> [CycleID] {
    let sorted = cycles.sorted()
    guard let newest = sorted.last else { return [] }
    switch self {
    case .count(let count):
      return Array(sorted.dropLast(max(count, 1)))
    case .age(let span):
      let cutoff = now.addingTimeInterval(-Double(span.seconds))
      return sorted.filter { $0 != newest && $0.started < cutoff }
    }
  }
}

/// How much of a cycle a report in `state_dir` holds. `summary` keeps reports small at millions of uploads: plain
/// keeps are counted in `kept_summary` lines and every other upload is listed. `everyUpload` lists them all.
public enum ReportDetail: String, Sendable, Hashable, CaseIterable {
  case summary
  case everyUpload = "every-upload"
}
