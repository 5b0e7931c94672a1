import Foundation
import ReaperCore

/// One cycle's report in `state_dir`: the contract's JSON lines, one per upload (with `summary` detail, one per
/// upload but the plain keeps, which `kept_summary` lines count instead), then the summary line. It is written to a hidden temporary file, flushed, fsynced and linked into place, so a reader sees
/// either no file or the whole file, even if the process dies mid-cycle.
public actor ReportFile: RecordSink {
  private let directory: String
  private let started: Date
  /// Where the report landed, once finished.
  public private(set) var finalPath: String?
  private let temporaryPath: String
  private let handle: FileHandle
  private var buffer: [UInt8] = []
  private let detail: ReportDetail
  private var kept = KeptSummary()
  /// The first write error: the report is then abandoned rather than finished short.
  private var writeError: Error?

  /// `cycle-20261124T191000Z.jsonl`, named by the cycle's start time in UTC so names sort by time.
  public init(directory: String, started: Date, detail: ReportDetail = .summary) throws {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    self.directory = directory
    self.started = started
    self.detail = detail
    let id = CycleID(started: started)
    temporaryPath = (directory as NSString).appendingPathComponent(".cycle-\(id)-\(UUID().uuidString.prefix(8)).tmp")
    guard FileManager.default.createFile(atPath: temporaryPath, contents: nil, attributes: [.posixPermissions: 0o640])
    else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: temporaryPath]) }
    handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporaryPath))
    buffer.reserveCapacity(1 << 16)
  }

  public func emit(_ record: UploadRecord) {
    if fold(record) { return }
    append(ReportFormat.jsonLine(record))
  }

  public func emit(_ record: UploadRecord, jsonLine: String) {
    if fold(record) { return }
    append(jsonLine)
  }

  /// Counts a plain keep instead of listing it, unless every upload is to be listed.
  private func fold(_ record: UploadRecord) -> Bool {
    guard detail == .summary, record.isPlainKeep else { return false }
    kept.add(record)
    return true
  }

  /// Writes the summary line and puts the file in place under the first free name for its start time.
  /// Returns the final path.
  @discardableResult
  public func finish(_ summary: CycleSummary) throws -> String {
    // The summary stays the last line: `report` and scripts read it there.
    for line in kept.jsonLines() { append(line) }
    append(ReportFormat.jsonSummary(summary))
    if let writeError {
      discard()
      throw writeError
    }
    try flush()
    try handle.synchronize()
    try handle.close()
    // link() never replaces an existing file, unlike rename(): two cycles starting in the same second keep both.
    for sequence in 0..<1000 {
      let path = (directory as NSString).appendingPathComponent(CycleID(started: started, sequence: sequence).fileName)
      if link(temporaryPath, path) == 0 {
        unlink(temporaryPath)
        syncDirectory()
        finalPath = path
        return path
      }
      guard errno == EEXIST else { break }
    }
    let reason = String(cString: strerror(errno))
    try? FileManager.default.removeItem(atPath: temporaryPath)
    throw ReportWriteError(path: directory, message: "putting the cycle report in place failed: \(reason)")
  }

  /// The rename is durable only once the directory itself is synced.
  private func syncDirectory() {
    let descriptor = open(directory, O_RDONLY | O_DIRECTORY)
    guard descriptor >= 0 else { return }
    fsync(descriptor)
    close(descriptor)
  }

  /// Removes the temporary file of a report that will not be finished.
  public func discard() {
    try? handle.close()
    try? FileManager.default.removeItem(atPath: temporaryPath)
  }

  private func append(_ line: String) {
    buffer.append(contentsOf: line.utf8)
    buffer.append(UInt8(ascii: "\n"))
    if buffer.count >= 1 << 16, writeError == nil {
      do { try flush() } catch {
        writeError = error
        buffer.removeAll()
      }
    }
    if writeError != nil { buffer.removeAll(keepingCapacity: true) }
  }

  private func flush() throws {
    guard !buffer.isEmpty else { return }
    try handle.write(contentsOf: buffer)
    buffer.removeAll(keepingCapacity: true)
  }
}

public struct ReportWriteError: Error, CustomStringConvertible {
  public var path: String
  public var message: String

  public var description: String { "\(path): \(message)" }
}
