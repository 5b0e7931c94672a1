import CSystemd
import Foundation
import Logging

/// Writes log events to the journal with sd_journal_sendv: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, CODE_*, the
/// logger metadata as upper-case REAPER_* fields, and MESSAGE_ID for the events operators alert on.
public struct JournalLogHandler: LogHandler {
  public var metadata: Logger.Metadata = [:]
  public var metadataProvider: Logger.MetadataProvider?
  public var logLevel: Logger.Level

  public init(level: Logger.Level = .info) {
    logLevel = level
  }

  public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  public func log(event: LogEvent) {
    var merged = metadata
    if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
    if let extra = event.metadata { merged.merge(extra) { $1 } }
    var fields = [
      "MESSAGE=\(event.message)", "PRIORITY=\(Self.priority(event.level))", "SYSLOG_IDENTIFIER=upload-reaper",
      "CODE_FILE=\(event.file)", "CODE_LINE=\(event.line)", "CODE_FUNC=\(event.function)",
    ]
    for (key, value) in merged {
      if key == "message_id" {
        fields.append("MESSAGE_ID=\(value)")
      } else if let name = Self.fieldName(key) {
        fields.append("\(name)=\(value)")
      }
    }
    Self.send(fields)
  }

  /// `target` → `REAPER_TARGET`; keys that cannot be journal field names are dropped, not mangled.
  static func fieldName(_ key: String) -> String? {
    let name = "REAPER_" + key.uppercased()
    guard name.unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }),
      name.utf8.count <= 64
    else { return nil }
    return name
  }

  static func priority(_ level: Logger.Level) -> Int {
    switch level {
    case .trace, .debug: 7
    case .info: 6
    case .notice: 5
    case .warning: 4
    case .error: 3
    case .critical: 2
    }
  }

  /// One iovec per `FIELD=value`, all pointing into one buffer that lives until sendv returns. Values may
  /// hold newlines, since sendv takes lengths.
  static func send(_ fields: [String]) {
    let total = fields.reduce(0) { $0 + $1.utf8.count }
    let storage = UnsafeMutableRawPointer.allocate(byteCount: max(total, 1), alignment: 1)
    defer { storage.deallocate() }
    var vectors: [iovec] = []
    vectors.reserveCapacity(fields.count)
    var offset = 0
    for field in fields {
      let bytes = Array(field.utf8)
      bytes.withUnsafeBytes { source in
        (storage + offset).copyMemory(from: source.baseAddress!, byteCount: bytes.count)
      }
      vectors.append(iovec(iov_base: storage + offset, iov_len: bytes.count))
      offset += bytes.count
    }
    _ = sd_journal_sendv(vectors, Int32(vectors.count))
  }
}
