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
