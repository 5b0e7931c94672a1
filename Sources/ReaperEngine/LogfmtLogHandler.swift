import Foundation
import Logging
import ReaperCore

/// Writes log lines as logfmt (`time=… level=… msg="…" target=…`), for runs away from the journal.
public struct LogfmtLogHandler: LogHandler {
  public var metadata: Logger.Metadata = [:]
  public var metadataProvider: Logger.MetadataProvider?
  public var logLevel: Logger.Level
  let label: String
  let write: @Sendable (String) -> Void

  public init(
    label: String, level: Logger.Level = .info, write: @escaping @Sendable (String) -> Void = LogfmtLogHandler.stderr
  ) {
    self.label = label
    self.logLevel = level
    self.write = write
  }

  public static let stderr: @Sendable (String) -> Void = { line in
    FileHandle.standardError.write(Data(line.utf8))
  }

  public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  public func log(event: LogEvent) {
    var merged = metadata
    if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
    if let extra = event.metadata { merged.merge(extra) { $1 } }
    var line =
      "time=\(Timestamp.formatRFC3339(Date())) level=\(event.level.rawValue) msg=\(Self.quote(event.message.description))"
    for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
      line += " \(key)=\(Self.quote("\(value)"))"
    }
    write(line + "\n")
  }

  /// Bare when safe, otherwise double-quoted with `"`, `\` and control characters escaped.
  static func quote(_ value: String) -> String {
    let needsQuotes =
      value.isEmpty
      || value.unicodeScalars.contains { $0 == " " || $0 == "=" || $0 == "\"" || $0 == "\\" || $0.value < 0x20 }
    guard needsQuotes else { return value }
    return JSONString.literal(value)
  }
}
