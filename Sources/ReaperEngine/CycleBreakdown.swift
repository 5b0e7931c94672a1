import Foundation
import ReaperCore

/// One cycle's uploads grouped by target, bucket, rule and top prefix, and the kept ones by age. Memory grows with
/// the number of groups, not of uploads; prefixes are capped, and the rest are counted together. Reads a report
/// of either detail: listed keeps and `kept_summary` lines add up the same.
public struct CycleBreakdown: Sendable {
  public struct Group: Sendable, Equatable {
    public var uploads = 0
    public var stale = 0
    public var staleBytes: Int64 = 0
    public var bytes: Int64 = 0
    public var aborted = 0
    public var reclaimed: Int64 = 0
    /// Stale uploads whose size is unknown (parts not listed).
    public var staleUnlisted = 0
    public var oldestStaleAge: Int64?

    mutating func add(_ record: StoredRecord) {
      uploads += 1
      bytes = bytes.saturatingAdd(record.bytes ?? 0)
      if record.outcome == "aborted" {
        aborted += 1
        reclaimed += record.bytes ?? 0
      }
      guard record.isStale else { return }
      stale += 1
      staleBytes = staleBytes.saturatingAdd(record.bytes ?? 0)
      if record.bytes == nil { staleUnlisted += 1 }
      oldestStaleAge = max(oldestStaleAge ?? record.ageSeconds, record.ageSeconds)
    }

    mutating func add(_ kept: UploadTally) {
      uploads += kept.uploads
      bytes = bytes.saturatingAdd(kept.bytes)
    }
  }

  public static let prefixLimit = 10_000
  public static let otherPrefixes = "(other prefixes)"

  public private(set) var targets: [String: Group] = [:]
  public private(set) var buckets: [String: Group] = [:]
  public private(set) var rules: [String: Group] = [:]
  public private(set) var prefixes: [String: Group] = [:]
  public private(set) var total = Group()
  /// Kept and unmatched uploads by rule (`(no rule)` for unmatched), in age bins.
  public private(set) var keptAges: [String: AgeHistogram] = [:]

  public init() {}

  /// The key's first path segment with its slash (`tmp/`), or the key itself when it has none.
  public static func topPrefix(of key: String) -> String {
    guard let slash = key.firstIndex(of: "/") else { return key.isEmpty ? "(empty key)" : key }
    return String(key[...slash])
  }

  public mutating func add(_ entry: StoredEntry) {
    switch entry {
    case .record(let record): add(record)
    case .kept(let kept): add(kept)
    }
  }

  public mutating func add(_ record: StoredRecord) {
    if record.outcome == "kept" {
      keptAges[record.rule ?? Self.noRule, default: AgeHistogram()].add(ageSeconds: record.ageSeconds)
    }
    total.add(record)
    targets[record.target, default: Group()].add(record)
    buckets["\(record.target)/\(record.bucket)", default: Group()].add(record)
    rules[record.rule ?? Self.noRule, default: Group()].add(record)
    var prefix = "\(record.target)/\(record.bucket)/\(Self.topPrefix(of: record.key))"
    if prefixes[prefix] == nil, prefixes.count >= Self.prefixLimit { prefix = Self.otherPrefixes }
    prefixes[prefix, default: Group()].add(record)
  }

  /// Only prefixes with stale uploads are shown, and those are listed before the `kept_summary` lines: a folded
  /// prefix adds to a prefix already seen, and takes no new place. (One beyond a line's top 100 is in its
  /// `other_prefixes`, so not added to its row.)
  public mutating func add(_ kept: StoredKeptGroup) {
    keptAges[kept.rule ?? Self.noRule, default: AgeHistogram()].merge(kept.ages)
    total.add(kept.tally)
    targets[kept.target, default: Group()].add(kept.tally)
    buckets["\(kept.target)/\(kept.bucket)", default: Group()].add(kept.tally)
    rules[kept.rule ?? Self.noRule, default: Group()].add(kept.tally)
    for (prefix, tally) in kept.prefixes {
      let name = "\(kept.target)/\(kept.bucket)/\(prefix)"
      if prefixes[name] != nil { prefixes[name]?.add(tally) }
    }
  }

  static let noRule = "(no rule)"

  static let columns: [(title: String, width: Int, right: Bool)] = [
    ("UPLOADS", 8, true), ("STALE", 7, true), ("STALE HELD", 10, true), ("OLDEST", 8, true), ("ABORTED", 8, true),
    ("RECLAIMED", 10, true),
  ]

  /// The breakdown as text: a section per grouping, largest stale holdings first.
  public func lines(topPrefixes: Int = 20) -> [String] {
    var lines: [String] = []
    func section(_ title: String, _ groups: [String: Group], limit: Int? = nil) {
      let sorted = groups.sorted {
        ($0.value.staleBytes, $0.value.stale, $1.key) > ($1.value.staleBytes, $1.value.stale, $0.key)
      }
      let shown = sorted.prefix(limit ?? sorted.count)
      // As wide as the longest name shown, so bucket names are never cut.
      let width = shown.map { ReportView.displayWidth($0.key) }.reduce(max(title.count, 16), max)
      lines.append("")
      lines.append(
        ReportView.trimmed(
          ReportView.padded(title.uppercased(), to: width) + "  "
            + ReportView.render(Self.columns.map(\.title), Self.columns)))
      for (name, group) in shown {
        let stale = group.staleUnlisted > 0 ? "\(group.stale)*" : "\(group.stale)"
        lines.append(
          ReportView.trimmed(
            ReportView.padded(name, to: width) + "  "
              + ReportView.render(
                [
                  "\(group.uploads)", stale, ByteCount.humanize(group.staleBytes),
                  group.oldestStaleAge.map { TimeSpan.humanize(seconds: $0) } ?? "-", "\(group.aborted)",
                  ByteCount.humanize(group.reclaimed),
                ], Self.columns)))
      }
      if let limit, sorted.count > limit { lines.append("... and \(sorted.count - limit) more") }
    }
    section("target", targets)
    section("bucket", buckets)
    section("rule", rules)
    section("top prefix", prefixes.filter { $0.value.stale > 0 }, limit: topPrefixes)
    lines += keptByAge()
    if total.staleUnlisted > 0 {
      lines.append("")
      lines.append("* \(total.staleUnlisted) stale upload(s) had their parts unlisted; their bytes are not counted")
    }
    return lines
  }

  static let ageColumns = AgeHistogram.labels.map { (title: $0, width: 7, right: true) }

  /// Kept and unmatched uploads by rule, in age bins: how close the kept ones are to their rules' thresholds.
  func keptByAge() -> [String] {
    let rows = keptAges.filter { $0.value.total > 0 }.sorted { ($0.value.total, $1.key) > ($1.value.total, $0.key) }
    guard !rows.isEmpty else { return [] }
    var all = AgeHistogram()
    for (_, histogram) in rows { all.merge(histogram) }
    let shown = rows.count > 1 ? rows + [("(all kept)", all)] : rows
    let width = shown.map { ReportView.displayWidth($0.0) }.reduce(16, max)
    var lines = [
      "",
      ReportView.trimmed(
        ReportView.padded("KEPT BY AGE", to: width) + "  "
          + ReportView.render(Self.ageColumns.map(\.title), Self.ageColumns)),
    ]
    for (name, histogram) in shown {
      lines.append(
        ReportView.trimmed(
          ReportView.padded(name, to: width) + "  "
            + ReportView.render(histogram.counts.map(String.init), Self.ageColumns)))
    }
    return lines
  }
}
