import Foundation
import Logging
import ReaperEngine

/// Standard output for records, written in large chunks: a scan of millions of uploads must not make a
/// system call per line.
actor StandardOutput: RecordSink {
  enum Style { case json, table }

  private let style: Style
  private var buffer: [UInt8] = []
  private var headerWritten = false

  init(style: Style) {
    self.style = style
    buffer.reserveCapacity(1 << 16)
  }

  func emit(_ record: UploadRecord) {
    emit(record, jsonLine: nil)
  }

  func emit(_ record: UploadRecord, jsonLine: String) {
    emit(record, jsonLine: Optional(jsonLine))
  }

  private func emit(_ record: UploadRecord, jsonLine: String?) {
    switch style {
    case .json:
      line(jsonLine ?? ReportFormat.jsonLine(record))
    case .table:
      if !headerWritten {
        headerWritten = true
        line(ReportFormat.tableHeader)
      }
      line(ReportFormat.tableRow(record))
    }
  }

  func line(_ text: String) {
    buffer.append(contentsOf: text.utf8)
    buffer.append(UInt8(ascii: "\n"))
    if buffer.count >= 1 << 16 { flush() }
  }

  func flush() {
    guard !buffer.isEmpty else { return }
    FileHandle.standardOutput.write(Data(buffer))
    buffer.removeAll(keepingCapacity: true)
  }
}

enum Logs {
  /// Logs go to stderr as logfmt. Commands run by hand default to warnings only, since their output already
  /// shows every upload; `UPLOAD_REAPER_LOG_LEVEL` (trace … critical) overrides.
  static func bootstrap(defaultLevel: Logger.Level) -> Logger {
    let level =
      ProcessInfo.processInfo.environment["UPLOAD_REAPER_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:))
      ?? defaultLevel
    LoggingSystem.bootstrap { label in LogfmtLogHandler(label: label, level: level) }
    return Logger(label: "upload-reaper")
  }
}
