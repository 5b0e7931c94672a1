import Foundation
import ReaperCore
import ReaperSandbox
import TestSupport
import Testing

/// `report_detail` as an operator meets it: `scan` prints every upload whatever the setting, the default report
/// counts the plain keeps, `every-upload` keeps the old form, and `report` reads both.
@Suite("Report detail end to end", .serialized)
struct ReportDetailCLITests {
  static func reportLines(_ setup: EndToEndTests.Setup) throws -> [[String]] {
    let state = ReportTests.stateDirectory(setup)
    return try names(setup).map {
      try String(contentsOfFile: "\(state)/\($0)", encoding: .utf8).split(separator: "\n").map(String.init)
    }
  }

  /// In the order of the cycles, which is not the names' order: `…Z-1.jsonl` (a second cycle in the same second)
  /// sorts before `…Z.jsonl`.
  static func names(_ setup: EndToEndTests.Setup) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: ReportTests.stateDirectory(setup))
      .compactMap { name in CycleID(parsing: name).map { ($0, name) } }.sorted { $0.0 < $1.0 }.map(\.1)
  }

  static func object(_ line: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
  }

  @Test func theDefaultReportListsWhatWasActedOnAndCountsThePlainKeeps() async throws {
    let setup = try await EndToEndTests.start()
    defer { Task { await setup.server.stop() } }
    let scan = try await CLITests.run(["scan", "--config", setup.config, "--format", "json"])
    #expect(scan.status == 0, "\(scan.stderr)")
    let printed = scan.stdout.split(separator: "\n").map(String.init)
    #expect(printed.count == 18, "scan still prints all 17 uploads, then the summary")
    let records = try printed.dropLast().map { ($0, try Self.object($0)) }
    let actedOn = records.filter { $0.1["outcome"] as? String != "kept" }.map(\.0)
    #expect(actedOn.count == 7, "6 aborted, 1 reported")

    let file = try #require(try Self.reportLines(setup).first)
    #expect(file.last == printed.last, "the same summary line, last")
    let listed = file.filter { $0.hasPrefix("{\"target\":") }
    #expect(listed.sorted() == actedOn.sorted(), "each upload acted on, as scan printed it")
    let kept = try file.compactMap { try Self.object($0)["kept_summary"] as? [String: Any] }
    #expect(file.count == listed.count + kept.count + 1)
    #expect(kept.count == 2)

    // 9 kept by tmp-abort: active (idle 10m, its 3 MiB listed), precious (excluded), young, 6 fresh.
    let tmp = try #require(kept.first { $0["rule"] as? String == "tmp-abort" })
    #expect(tmp["target"] as? String == "sandbox" && tmp["bucket"] as? String == "e2e-1250000000")
    #expect(tmp["decision"] as? String == "keep")
    #expect(tmp["uploads"] as? Int == 9)
    #expect(tmp["bytes"] as? Int == 3 << 20)
    #expect(tmp["unlisted"] as? Int == 8)
    #expect(tmp["ages"] as? [String: Int] == ["<1h": 6, "<1d": 1, "<7d": 1, "<30d": 1, "<90d": 0, "<1y": 0, ">=1y": 0])
    let oldest = try #require(tmp["oldest_age_seconds"] as? Int)
    #expect(abs(oldest - 10 * 86_400) < 120, "precious, 10 days old")
    let prefixes = try #require(tmp["prefixes"] as? [[String: Any]])
    #expect(prefixes.count == 1)
    #expect(prefixes.first?["prefix"] as? String == "tmp/" && prefixes.first?["uploads"] as? Int == 9)
    #expect(tmp["other_prefixes"] as? [String: Int] == ["uploads": 0, "bytes": 0, "unlisted": 0])

    let unmatched = try #require(kept.first { $0["decision"] as? String == "unmatched" })
    #expect(unmatched["rule"] is NSNull)
    #expect(unmatched["uploads"] as? Int == 1 && unmatched["unlisted"] as? Int == 1)
    #expect((unmatched["ages"] as? [String: Int])?["<1y"] == 1, "100 days old")
    #expect((unmatched["prefixes"] as? [[String: Any]])?.first?["prefix"] as? String == "other/")
  }

  @Test func everyUploadKeepsTheOldFormAndReportReadsBoth() async throws {
    let setup = try await EndToEndTests.start()
    defer { Task { await setup.server.stop() } }
    let folded = try await CLITests.run(["scan", "--config", setup.config, "--dry-run"])
    #expect(folded.status == 0, "\(folded.stderr)")
    try ReportTests.addDaemonKeys("report_detail = \"every-upload\"", to: setup.config)
    let every = try await CLITests.run(["scan", "--config", setup.config, "--dry-run", "--format", "json"])
    #expect(every.status == 0, "\(every.stderr)")

    let files = try Self.reportLines(setup)
    #expect(files.count == 2)
    let (summaryForm, everyForm) = (files[0], files[1])
    #expect(everyForm == every.stdout.split(separator: "\n").map(String.init), "exactly what scan printed")
    #expect(everyForm.count == 18)
    #expect(summaryForm.filter { $0.hasPrefix("{\"kept_summary\":") }.count == 2)
    #expect(summaryForm.count == 7 + 2 + 1, "6 would-abort and 1 reported, 2 kept_summary lines, the summary")

    // The cycle table reads the last line of each form alike.
    let table = try await CLITests.run(["report", "--config", setup.config])
    #expect(table.status == 0, "\(table.stderr)")
    let rows = table.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
    #expect(rows.count == 3)
    #expect(Array(rows[1].dropFirst().prefix(4)) == ["17", "7", "0", "1"])
    #expect(rows[1].dropFirst().prefix(8) == rows[2].dropFirst().prefix(8))

    // One cycle broken down: the same figures from either form, kept uploads by age included.
    let names = try Self.names(setup)
    var breakdowns: [[String]] = []
    for name in names {
      let result = try await CLITests.run(["report", "--config", setup.config, "--cycle", name])
      #expect(result.status == 0, "\(result.stderr)")
      let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
      // The second scan ran seconds later: OLDEST may differ by those seconds, and its padding with them.
      breakdowns.append(
        lines.dropFirst(2).map {
          $0.replacingOccurrences(of: #"\d+[dhms]( \d+[dhms])?( |$)"#, with: "AGE ", options: .regularExpression)
            .split(separator: " ").joined(separator: " ")
        })
    }
    #expect(breakdowns[0] == breakdowns[1], "\(breakdowns[0])\n\(breakdowns[1])")
    let text = breakdowns[0]
    let rule = try #require(text.firstIndex { $0.hasPrefix("RULE ") })
    #expect(
      text[rule + 1].split(separator: " ").prefix(3) == ["tmp-abort", "15", "6"], "14 in one bucket, 1 in the other")
    let ages = try #require(text.firstIndex { $0.hasPrefix("KEPT BY AGE ") })
    let bins = text[(ages + 1)...].prefix(3).map { $0.split(separator: " ").map(String.init) }
    #expect(bins.count == 3)
    #expect(bins.first == ["tmp-abort", "6", "1", "1", "1", "0", "0", "0"])
    #expect(bins.dropFirst().first == ["(no", "rule)", "0", "0", "0", "0", "0", "1", "0"])
    #expect(bins.last == ["(all", "kept)", "6", "1", "1", "1", "0", "1", "0"])

    let json = try await CLITests.run(["report", "--config", setup.config, "--cycle", names[0], "--format", "json"])
    #expect(json.stdout.split(separator: "\n").map(String.init) == summaryForm, "streamed through as stored")
  }
}
