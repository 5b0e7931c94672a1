import Foundation

/// Where a cycle's records go, one at a time, as they are decided.
public protocol RecordSink: Sendable {
  func emit(_ record: UploadRecord) async
  /// The same, with the record's JSON line already made, so several sinks format it once.
  func emit(_ record: UploadRecord, jsonLine: String) async
}

extension RecordSink {
  public func emit(_ record: UploadRecord, jsonLine: String) async { await emit(record) }
}

/// Sends each record to every sink, its JSON line made once: the terminal and the cycle report, one of them, or
/// none (a daemon cycle whose report cannot be written still has the journal's events).
public struct TeeSink: RecordSink {
  let sinks: [any RecordSink]

  public init(_ sinks: [any RecordSink]) { self.sinks = sinks }

  public func emit(_ record: UploadRecord) async {
    guard sinks.count > 1 else {
      // Alone, a sink formats only the lines it writes: the default report writes few of a large cycle's.
      await sinks.first?.emit(record)
      return
    }
    await emit(record, jsonLine: ReportFormat.jsonLine(record))
  }

  public func emit(_ record: UploadRecord, jsonLine: String) async {
    for sink in sinks { await sink.emit(record, jsonLine: jsonLine) }
  }
}
