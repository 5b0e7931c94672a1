import Foundation
import ReaperCore

/// One cycle's report in `state_dir`: the contract's JSON lines, one per upload, then the summary line.
/// It is written to a hidden temporary file, flushed, fsynced and renamed into place, so a reader sees
/// either no file or the whole file, even if the process dies mid-cycle.
public actor ReportFile: RecordSink {
  public nonisolated let finalPath: String
  private let temporaryPath: String
  private let handle: FileHandle
  private var buffer: [UInt8] = []

  /// `cycle-20261124T191000Z.jsonl`, named by the cycle's start time in UTC so names sort by time.
  public init(directory: String, started: Date) throws {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let stamp = Timestamp.formatRFC3339(started).replacingOccurrences(of: "-", with: "")
      .replacingOccurrences(of: ":", with: "")
    finalPath = (directory as NSString).appendingPathComponent("cycle-\(stamp).jsonl")
    temporaryPath = (directory as NSString).appendingPathComponent(".cycle-\(stamp)-\(UUID().uuidString.prefix(8)).tmp")
    guard FileManager.default.createFile(atPath: temporaryPath, contents: nil, attributes: [.posixPermissions: 0o640])
    else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: temporaryPath]) }
    handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporaryPath))
    buffer.reserveCapacity(1 << 16)
  }

  public func emit(_ record: UploadRecord) {
    append(ReportFormat.jsonLine(record))
  }

  /// Writes the summary line and puts the file in place.
  public func finish(_ summary: CycleSummary) throws {
    append(ReportFormat.jsonSummary(summary))
    try flush()
    try handle.synchronize()
    try handle.close()
    guard rename(temporaryPath, finalPath) == 0 else {
      throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: finalPath])
    }
  }

  /// Removes the temporary file of a report that will not be finished.
  public func discard() {
    try? handle.close()
    try? FileManager.default.removeItem(atPath: temporaryPath)
  }

  private func append(_ line: String) {
    buffer.append(contentsOf: line.utf8)
    buffer.append(UInt8(ascii: "\n"))
    if buffer.count >= 1 << 16 { try? flush() }
  }

  private func flush() throws {
    guard !buffer.isEmpty else { return }
    try handle.write(contentsOf: buffer)
    buffer.removeAll(keepingCapacity: true)
  }
}
