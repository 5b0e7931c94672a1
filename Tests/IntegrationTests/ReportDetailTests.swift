import Foundation
import ReaperConfig
import ReaperCore
import ReaperSandbox
import TestSupport
import Testing

@testable import ReaperEngine

/// The default report lists every upload the reaper acted on or declined to act on for a reason, and counts the
/// plain keeps; `every-upload` lists them all; both read back to the same breakdown.
@Suite("Report detail")
struct ReportDetailTests {
  static let day: TimeInterval = 86_400

  static func write(
    _ records: [UploadRecord], summary: CycleSummary, detail: ReportDetail, to directory: String
  ) async throws -> StoredReport {
    let report = try ReportFile(directory: directory, started: Date(), detail: detail)
    for record in records { await report.emit(record) }
    let path = try await report.finish(summary)
    return try #require(try ReportStore(directory: directory).list().first { $0.path == path })
  }

  static func lines(_ report: StoredReport) throws -> [[String: Any]] {
    try String(contentsOfFile: report.path, encoding: .utf8).split(separator: "\n").map {
      try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }
  }

  static func breakdown(_ report: StoredReport) throws -> [String] {
    var breakdown = CycleBreakdown()
    try ReportStore(directory: (report.path as NSString).deletingLastPathComponent).forEachEntry(of: report) {
      breakdown.add($0)
    }
    return breakdown.lines()
  }

  /// A real cycle with an upload of each kind: acted on, kept for a doubt, kept plainly, unmatched.
  @Test func theDefaultReportListsEveryDoubtAndCountsThePlainKeeps() async throws {
    let uploads =
      [
        SandboxUpload.aged("tmp/stale.bin", id: "stale", age: 3 * Self.day),
        SandboxUpload.aged("tmp/future.bin", id: "future", age: -120),
        SandboxUpload.aged("big/huge.bin", id: "huge", age: 3 * Self.day, parts: [(6 << 30, 3 * Self.day)]),
        SandboxUpload.aged("idle/young.bin", id: "young", age: 7200),
        SandboxUpload.aged("docs/old.pdf", id: "report-me", age: 3 * Self.day),
        SandboxUpload.aged("elsewhere/x.bin", id: "unmatched", age: 10 * Self.day),
      ] + (0..<4).map { SandboxUpload.aged("tmp/fresh-\($0).bin", id: "fresh-\($0)", age: 600, parts: [(7, 600)]) }
    try await SandboxHarness.with([SandboxBucket(name: "d-1", uploads: uploads)]) { harness in
      let rules = [
        CycleTests.rule("tmp", prefix: "tmp/"),
        Rule(name: "big", prefix: "big/", maxAge: try TimeSpan.parse("1d"), minBytes: 1, action: .abort),
        CycleTests.rule("idle", prefix: "idle/", maxAge: nil, maxIdle: "6h"),
        CycleTests.rule("docs", prefix: "docs/", action: .report),
      ]
      let config = CycleTests.config(harness, buckets: ["d-1"], rules: rules)
      let (summary, records) = await CycleTests.run(config, harness: harness)
      #expect(records.count == uploads.count)
      #expect(summary.aborted == 1 && summary.reported == 1 && summary.unmatched == 1)
      let directory = try ReportAndMetricsTests.temporaryDirectory()

      let folded = try await Self.write(records, summary: summary, detail: .summary, to: directory)
      let lines = try Self.lines(folded)
      #expect(lines.last?["summary"] != nil, "the summary stays the last line")
      let listed = lines.compactMap { $0["upload_id"] as? String }
      #expect(Set(listed) == ["stale", "future", "huge", "report-me"], "\(listed)")
      let reasons = Dictionary(
        uniqueKeysWithValues: lines.compactMap { line in
          (line["upload_id"] as? String).map { ($0, line["reason"] as? String ?? "") }
        })
      #expect(reasons["future"]?.hasSuffix("in the future") == true)
      #expect(reasons["huge"]?.hasPrefix("size unknown: part 1 claims") == true)

      let kept = lines.compactMap { $0["kept_summary"] as? [String: Any] }
      #expect(kept.count == 3, "tmp's fresh uploads, idle's young one, the unmatched one")
      func group(_ rule: String?) throws -> [String: Any] {
        try #require(kept.first { $0["rule"] as? String == rule })
      }
      let fresh = try group("tmp")
      #expect(fresh["decision"] as? String == "keep")
      #expect(fresh["uploads"] as? Int == 4)
      #expect(fresh["unlisted"] as? Int == 4, "too young for their parts to matter: not listed")
      #expect((fresh["ages"] as? [String: Int])?["<1h"] == 4)
      #expect((fresh["prefixes"] as? [[String: Any]])?.first?["prefix"] as? String == "tmp/")
      let young = try group("idle")
      #expect(young["uploads"] as? Int == 1, "\"idle time unknown: parts not listed\" for a young upload is plain")
      #expect((young["ages"] as? [String: Int])?["<1d"] == 1)
      let unmatched = try group(nil)
      #expect(unmatched["decision"] as? String == "unmatched")
      #expect((unmatched["ages"] as? [String: Int])?["<30d"] == 1)
      #expect(
        (unmatched["other_prefixes"] as? [String: Int]) == ["uploads": 0, "bytes": 0, "unlisted": 0])
      let counted = kept.map { $0["uploads"] as? Int ?? 0 }.reduce(0, +)
      #expect(listed.count + counted == uploads.count)

      // The old form lists every upload, and both forms break down the same.
      let every = try await Self.write(records, summary: summary, detail: .everyUpload, to: directory)
      let all = try Self.lines(every)
      #expect(all.count == uploads.count + 1)
      #expect(all.allSatisfy { $0["kept_summary"] == nil })
      #expect(try Self.breakdown(folded) == Self.breakdown(every))
      let shown = try Self.breakdown(folded)
      let ages = try #require(shown.firstIndex { $0.hasPrefix("KEPT BY AGE") })
      #expect(shown[ages + 1].hasPrefix("tmp "), "\(shown)")
      #expect(
        shown[ages + 1].split(separator: " ").dropFirst().map(String.init) == ["5", "0", "0", "0", "0", "0", "0"])
    }
  }

  static func plainKeep(_ index: Int, prefix: String, rule: String? = "r") -> UploadRecord {
    UploadRecord(
      upload: Upload(
        target: "t", bucket: "b", key: "\(prefix)/\(index).bin", uploadID: "u-\(index)",
        initiated: Date(timeIntervalSince1970: 1_700_000_000)),
      ageSeconds: Int64(index % 5) * 86_400, idleSeconds: nil, parts: nil, bytes: index % 2 == 0 ? 100 : nil,
      rule: rule, decision: rule == nil ? .unmatched : .keep, outcome: .kept, reason: "age <= max_age")
  }

  /// Distinct prefixes beyond the caps are counted together, never each kept: memory stays bounded.
  @Test func thePrefixCapsHoldAtManyDistinctPrefixes() throws {
    var kept = KeptSummary(prefixesPerGroup: 50, prefixesInAll: 120, prefixesShown: 10)
    for index in 0..<5000 { kept.add(Self.plainKeep(index, prefix: "a\(index)", rule: "a")) }
    for index in 0..<5000 { kept.add(Self.plainKeep(index, prefix: "b\(index)", rule: "b")) }
    for index in 0..<5000 { kept.add(Self.plainKeep(index, prefix: "c\(index % 30)", rule: nil)) }
    #expect(kept.trackedPrefixes == 120)
    let groups = kept.groups.sorted { $0.key < $1.key }.map(\.value)
    #expect(groups.map(\.prefixes.count) == [50, 50, 20], "per group, then in all")
    #expect(groups.map(\.untracked.uploads) == [4950, 4950, 1660])
    #expect(groups.allSatisfy { $0.tally.uploads == 5000 })

    for line in kept.jsonLines() {
      let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
      let fields = try #require(object["kept_summary"] as? [String: Any])
      let group = try #require(ReportStore.keptGroup(fields))
      #expect(group.prefixes.count == 10)
      #expect(group.prefixes.map(\.tally.uploads).reduce(group.otherPrefixes.uploads, +) == 5000)
      #expect(group.prefixes.map(\.tally.bytes).reduce(group.otherPrefixes.bytes, +) == group.tally.bytes)
      #expect(group.tally.bytes == 2500 * 100 && group.tally.unlisted == 2500)
      #expect(group.ages.counts == [1000, 0, 4000, 0, 0, 0, 0], "ages 0, 1d, 2d, 3d, 4d")
    }

    // The defaults at a scale where an uncapped dictionary would hold every key.
    var large = KeptSummary()
    for index in 0..<50_000 { large.add(Self.plainKeep(index, prefix: "flat-\(index)")) }
    #expect(large.trackedPrefixes == 1000)
    #expect(large.groups.values.first?.untracked.uploads == 49_000)
  }

  @Test func agesFallIntoFixedBins() {
    var histogram = AgeHistogram()
    for age: Int64 in [-60, 0, 3599, 3600, 86_399, 86_400, 30 * 86_400, 364 * 86_400, 365 * 86_400, 4000 * 86_400] {
      histogram.add(ageSeconds: age)
    }
    #expect(histogram.counts == [3, 2, 1, 0, 1, 1, 2])
    #expect(histogram.json == #"{"<1h":3,"<1d":2,"<7d":1,"<30d":0,"<90d":1,"<1y":1,">=1y":2}"#)
  }
}
