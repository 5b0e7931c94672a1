import Logging
import Synchronization

/// Keeps every log event, so tests can check what was logged and with which MESSAGE_ID.
final class LogCapture: Sendable {
  struct Entry: Sendable {
    var level: Logger.Level
    var message: String
    var metadata: [String: String]
  }

  private let entries = Mutex<[Entry]>([])

  var all: [Entry] { entries.withLock { $0 } }

  func withMessageID(_ id: String) -> [Entry] { all.filter { $0.metadata["message_id"] == id } }

  var logger: Logger {
    Logger(label: "capture") { _ in Handler(capture: self) }
  }

  struct Handler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
      get { metadata[key] }
      set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
      let merged = metadata.merging(event.metadata ?? [:]) { $1 }
      capture.entries.withLock {
        $0.append(Entry(level: event.level, message: "\(event.message)", metadata: merged.mapValues { "\($0)" }))
      }
    }
  }
}
