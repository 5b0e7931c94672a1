import Foundation
import ReaperCore

/// Upload ages in fixed bins, so histograms of any two cycles line up.
public struct AgeHistogram: Sendable, Equatable {
  /// Upper bounds in seconds; the last bin holds everything older. Uploads started in the future count as `<1h`.
  public static let bounds: [Int64] = [3600, 86_400, 7 * 86_400, 30 * 86_400, 90 * 86_400, 365 * 86_400]
  public static let labels = ["<1h", "<1d", "<7d", "<30d", "<90d", "<1y", ">=1y"]

  public private(set) var counts = [Int](repeating: 0, count: labels.count)

  public init() {}

  public mutating func add(ageSeconds: Int64, count: Int = 1) {
    counts[Self.bounds.firstIndex { ageSeconds < $0 } ?? Self.bounds.count] += count
  }

  public mutating func merge(_ other: AgeHistogram) {
    for index in counts.indices { counts[index] += other.counts[index] }
  }

  public var total: Int { counts.reduce(0, +) }

  var json: String {
    "{" + zip(Self.labels, counts).map { "\"\($0)\":\($1)" }.joined(separator: ",") + "}"
  }
}

/// Counts of uploads: how many, the bytes of those whose parts were listed, and how many were not.
public struct UploadTally: Sendable, Equatable {
  public var uploads = 0
  public var bytes: Int64 = 0
  /// Uploads whose parts were not listed: their bytes are unknown and not in `bytes`.
  public var unlisted = 0

  public init(uploads: Int = 0, bytes: Int64 = 0, unlisted: Int = 0) {
    self.uploads = uploads
    self.bytes = bytes
    self.unlisted = unlisted
  }

  mutating func add(bytes known: Int64?) {
    uploads += 1
    if let known { bytes = bytes.saturatingAdd(known) } else { unlisted += 1 }
  }

  mutating func merge(_ other: UploadTally) {
    uploads += other.uploads
    bytes = bytes.saturatingAdd(other.bytes)
    unlisted += other.unlisted
  }

  var jsonFields: String { "\"uploads\":\(uploads),\"bytes\":\(bytes),\"unlisted\":\(unlisted)" }
}

/// The plain keeps of one cycle (see `UploadRecord.isPlainKeep`), counted rather than listed: the default
/// report's `kept_summary` lines. Memory grows with the groups (target, bucket, rule: bounded by the config) and
/// with the top prefixes tracked, which are capped per group and in all; never with the uploads.
public struct KeptSummary: Sendable {
  public struct Key: Sendable, Hashable, Comparable {
    public var target: String
    public var bucket: String
    /// nil for unmatched uploads.
    public var rule: String?
    /// `keep` or `unmatched`.
    public var decision: DecisionKind

    public static func < (lhs: Key, rhs: Key) -> Bool {
      (lhs.target, lhs.bucket, lhs.decision.rawValue, lhs.rule ?? "")
        < (rhs.target, rhs.bucket, rhs.decision.rawValue, rhs.rule ?? "")
    }
  }

  public struct Group: Sendable {
    public var tally = UploadTally()
    public var ages = AgeHistogram()
    public var oldestAgeSeconds: Int64?
    /// By top prefix (`ReportView`'s `CycleBreakdown.topPrefix`), for the first prefixes seen up to the caps.
    public var prefixes: [String: UploadTally] = [:]
    /// Uploads under prefixes first seen once the caps were reached.
    public var untracked = UploadTally()
  }

  /// Distinct prefixes counted exactly per group, and in all groups together; later ones go to `untracked`.
  public let prefixesPerGroup: Int
  public let prefixesInAll: Int
  /// Prefixes written per group, those with most uploads; the rest are written together as `other_prefixes`.
  public let prefixesShown: Int

  public private(set) var groups: [Key: Group] = [:]
  public private(set) var trackedPrefixes = 0

  public init(prefixesPerGroup: Int = 1000, prefixesInAll: Int = 20_000, prefixesShown: Int = 100) {
    self.prefixesPerGroup = prefixesPerGroup
    self.prefixesInAll = prefixesInAll
    self.prefixesShown = prefixesShown
  }

  public var isEmpty: Bool { groups.isEmpty }

  public mutating func add(_ record: UploadRecord) {
    let key = Key(
      target: record.upload.target, bucket: record.upload.bucket, rule: record.rule, decision: record.decision)
    // One lookup per record: this runs for nearly every upload of a large cycle.
    var group = groups.removeValue(forKey: key) ?? Group()
    group.tally.add(bytes: record.bytes)
    group.ages.add(ageSeconds: record.ageSeconds)
    group.oldestAgeSeconds = max(group.oldestAgeSeconds ?? record.ageSeconds, record.ageSeconds)
    let prefix = CycleBreakdown.topPrefix(of: record.upload.key)
    if var tally = group.prefixes.removeValue(forKey: prefix) {
      tally.add(bytes: record.bytes)
      group.prefixes[prefix] = tally
    } else if group.prefixes.count < prefixesPerGroup, trackedPrefixes < prefixesInAll {
      var tally = UploadTally()
      tally.add(bytes: record.bytes)
      group.prefixes[prefix] = tally
      trackedPrefixes += 1
    } else {
      group.untracked.add(bytes: record.bytes)
    }
    groups[key] = group
  }

  /// One `{"kept_summary":{...}}` line per group, in a stable order.
  public func jsonLines() -> [String] {
    groups.sorted { $0.key < $1.key }.map { key, group in
      let ranked = group.prefixes.sorted { ($0.value.uploads, $1.key) > ($1.value.uploads, $0.key) }
      var other = group.untracked
      for (_, tally) in ranked.dropFirst(prefixesShown) { other.merge(tally) }
      let shown = ranked.prefix(prefixesShown).map {
        "{\"prefix\":\(JSONString.literal($0.key)),\($0.value.jsonFields)}"
      }
      var line = "{\"kept_summary\":{\"target\":\(JSONString.literal(key.target))"
      line += ",\"bucket\":\(JSONString.literal(key.bucket)),\"rule\":\(key.rule.map(JSONString.literal) ?? "null")"
      line += ",\"decision\":\"\(key.decision.rawValue)\",\(group.tally.jsonFields)"
      line += ",\"oldest_age_seconds\":\(group.oldestAgeSeconds.map(String.init) ?? "null"),\"ages\":\(group.ages.json)"
      line += ",\"prefixes\":[\(shown.joined(separator: ","))],\"other_prefixes\":{\(other.jsonFields)}}}"
      return line
    }
  }
}
