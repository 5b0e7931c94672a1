import Crypto
import Foundation
import ReaperConfig
import ReaperCore

/// Plan files on disk, and the config digest that ties a plan to the config it was made under.
public enum PlanFile {
  /// A plan is a list of uploads, tens of bytes to a few hundred each: anything this large is not one of ours.
  public static let largestPlan = 256 << 20

  /// SHA-256 over `ReaperConfig.decisionText`, lowercase hex.
  public static func digest(_ config: ReaperConfig) -> String {
    SHA256.hash(data: Data(config.decisionText.utf8)).map { byte in
      let hex = String(byte, radix: 16)
      return byte < 16 ? "0" + hex : hex
    }.joined()
  }

  /// Writes the plan to `path` whole or not at all: a temporary file in the same directory, mode 0600 (it names
  /// keys, which can be private), synced, then renamed over `path`.
  public static func write(_ text: String, to path: String) throws {
    let directory = (path as NSString).deletingLastPathComponent
    let temporary = ((directory.isEmpty ? "." : directory) as NSString).appendingPathComponent(
      ".\((path as NSString).lastPathComponent).\(getpid()).\(UUID().uuidString.prefix(8)).tmp")
    let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else { throw failure(path, "cannot create \(temporary)") }
    var bytes = Array(text.utf8)[...]
    func abandon(_ what: String) -> ReportWriteError {
      let error = failure(path, what)
      close(descriptor)
      unlink(temporary)
      return error
    }
    while !bytes.isEmpty {
      let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
      if written < 0, errno == EINTR { continue }
      guard written > 0 else { throw abandon("writing \(temporary)") }
      bytes = bytes.dropFirst(written)
    }
    guard fchmod(descriptor, 0o600) == 0 else { throw abandon("setting the mode of \(temporary)") }
    guard fsync(descriptor) == 0 else { throw abandon("syncing \(temporary)") }
    close(descriptor)
    guard rename(temporary, path) == 0 else {
      let error = failure(path, "renaming \(temporary) into place")
      unlink(temporary)
      throw error
    }
    let handle = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY)
    if handle >= 0 {
      fsync(handle)
      close(handle)
    }
  }

  /// Reads and checks a plan file. Every failure says which file and what is wrong with it.
  public static func read(_ path: String) throws(PlanError) -> Plan {
    guard let handle = FileHandle(forReadingAtPath: path) else {
      throw PlanError("\(path): cannot be read: \(String(cString: strerror(errno)))")
    }
    defer { try? handle.close() }
    let data: Data
    do {
      data = try handle.read(upToCount: largestPlan + 1) ?? Data()
    } catch {
      throw PlanError("\(path): cannot be read: \(error)")
    }
    guard data.count <= largestPlan else { throw PlanError("\(path): larger than \(largestPlan >> 20) MiB") }
    do {
      return try PlanJSON.parse(data)
    } catch {
      throw PlanError("\(path): not a usable plan: \(error.message)")
    }
  }

  static func failure(_ path: String, _ what: String) -> ReportWriteError {
    ReportWriteError(path: path, message: "\(what): \(String(cString: strerror(errno)))")
  }
}

/// Collects the uploads a dry run would have aborted once past every guard: what `scan --plan` writes.
public actor PlanCollector: RecordSink {
  public private(set) var entries: [PlanEntry] = []

  public init() {}

  public func emit(_ record: UploadRecord) {
    guard record.plannable, record.outcome == .wouldAbort, record.decision == .abort, let rule = record.rule else {
      return
    }
    entries.append(
      PlanEntry(
        target: record.upload.target, bucket: record.upload.bucket, key: record.upload.key,
        uploadID: record.upload.uploadID, initiated: record.upload.initiated, rule: rule, bytes: record.bytes,
        reason: record.reason))
  }

  /// In a stable order, so two plans of the same uploads read the same.
  public var sortedEntries: [PlanEntry] {
    entries.sorted {
      ($0.target, $0.bucket, $0.key, $0.uploadID) < ($1.target, $1.bucket, $1.key, $1.uploadID)
    }
  }
}

/// What a plan holds, for people: counts and bytes by target, bucket and rule.
public enum PlanSummary {
  public static func text(_ entries: [PlanEntry]) -> [String] {
    struct Group: Hashable, Comparable {
      var target: String
      var bucket: String
      var rule: String
      static func < (lhs: Group, rhs: Group) -> Bool {
        (lhs.target, lhs.bucket, lhs.rule) < (rhs.target, rhs.bucket, rhs.rule)
      }
    }
    var groups: [Group: (uploads: Int, bytes: Int64, unknown: Int)] = [:]
    for entry in entries {
      var group = groups[Group(target: entry.target, bucket: entry.bucket, rule: entry.rule)] ?? (0, 0, 0)
      group.uploads += 1
      if let bytes = entry.bytes { group.bytes = group.bytes.saturatingAdd(bytes) } else { group.unknown += 1 }
      groups[Group(target: entry.target, bucket: entry.bucket, rule: entry.rule)] = group
    }
    let total = entries.reduce(Int64(0)) { $0.saturatingAdd($1.bytes ?? 0) }
    var lines = ["plan: \(entries.count) upload(s) to abort, holding \(ByteCount.humanize(total))"]
    for (group, tally) in groups.sorted(by: { $0.key < $1.key }) {
      let unknown = tally.unknown > 0 ? " (\(tally.unknown) of unknown size)" : ""
      lines.append(
        "  \(group.target)/\(group.bucket) rule \(group.rule): \(tally.uploads) upload(s), \(ByteCount.humanize(tally.bytes))\(unknown)"
      )
    }
    return lines
  }
}
