import Foundation
import ReaperConfig
import ReaperCore
import ReaperSandbox
import Synchronization
import TestSupport
import Testing

@testable import ReaperEngine

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

@Suite("Cycle reports, retention and metrics")
struct ReportAndMetricsTests {
  static func temporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("reports-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }

  static func record(_ index: Int, bytes: Int64? = 1024) -> UploadRecord {
    UploadRecord(
      upload: Upload(
        target: "t", bucket: "b", key: "tmp/\(index).bin", uploadID: "u-\(index)",
        initiated: Date(timeIntervalSince1970: 1_700_000_000)),
      ageSeconds: 3 * 86_400, idleSeconds: nil, parts: bytes == nil ? nil : 1, bytes: bytes, rule: "r",
      decision: .abort, outcome: .aborted, reason: "age 3d > max_age 1d")
  }

  /// A reader polling the directory as fast as it can while reports are written must see each report either
  /// absent or whole: every line JSON, the last one the summary, the count exact.
  @Test func aConcurrentReaderNeverSeesAPartialReport() async throws {
    let directory = try Self.temporaryDirectory()
    let done = Atomic<Bool>(false)
    let observations = Mutex<(complete: Int, partial: [String])>((0, []))
    let records = 20_000
    let reader = Thread {
      while !done.load(ordering: .relaxed) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names where name.hasPrefix("cycle-") {
          guard let data = FileManager.default.contents(atPath: "\(directory)/\(name)") else { continue }
          let lines = data.split(separator: UInt8(ascii: "\n"))
          let whole =
            lines.count == records + 1 && data.last == UInt8(ascii: "\n")
            && String(decoding: lines.last!, as: UTF8.self).hasPrefix("{\"summary\":")
          observations.withLock {
            if whole { $0.complete += 1 } else { $0.partial.append("\(name): \(lines.count) lines") }
          }
        }
      }
    }
    reader.start()
    let started = Date(timeIntervalSince1970: 1_795_000_000)
    var paths: [String] = []
    for cycle in 0..<3 {
      let report = try ReportFile(directory: directory, started: started)
      for index in 0..<records { await report.emit(Self.record(index)) }
      var summary = CycleSummary()
      summary.started = started
      summary.uploadsSeen = records
      paths.append(try await report.finish(summary))
      _ = cycle
    }
    // Let the reader see the finished files at least once, however loaded the machine is.
    let deadline = ContinuousClock.now + .seconds(10)
    while observations.withLock({ $0.complete }) == 0, ContinuousClock.now < deadline {
      try await Task.sleep(for: .milliseconds(20))
    }
    done.store(true, ordering: .relaxed)
    let seen = observations.withLock { $0 }
    #expect(seen.partial.isEmpty, "\(seen.partial.prefix(3))")
    #expect(seen.complete > 0, "the reader never saw a finished report")
    // Three cycles in the same second get three names, none overwritten.
    #expect(
      paths.map { ($0 as NSString).lastPathComponent } == [
        "cycle-20261118T110640Z.jsonl", "cycle-20261118T110640Z-1.jsonl", "cycle-20261118T110640Z-2.jsonl",
      ])
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".tmp") }
    #expect(leftovers.isEmpty)
  }

  @Test func theStoreListsPrunesAndReadsSummariesWithoutLoadingRecords() async throws {
    let directory = try Self.temporaryDirectory()
    let base = Date(timeIntervalSince1970: 1_795_000_000)
    for hour in 0..<5 {
      let report = try ReportFile(directory: directory, started: base.addingTimeInterval(Double(hour) * 3600))
      for index in 0..<(hour + 1) { await report.emit(Self.record(index)) }
      var summary = CycleSummary()
      summary.started = base.addingTimeInterval(Double(hour) * 3600)
      summary.uploadsSeen = hour + 1
      summary.errors = Array(repeating: String(repeating: "e", count: 5000), count: hour)  // long summary lines
      try await report.finish(summary)
    }
    // Files the store must ignore: an unfinished cycle, and something an operator left there.
    _ = FileManager.default.createFile(
      atPath: "\(directory)/.cycle-20261118T110640Z-abcd.tmp", contents: Data("{".utf8))
    _ = FileManager.default.createFile(atPath: "\(directory)/notes.txt", contents: Data("hello".utf8))
    let store = ReportStore(directory: directory)
    let listed = try store.list()
    #expect(listed.count == 5)
    #expect(try listed.map { try store.summary(of: $0).uploadsSeen } == [1, 2, 3, 4, 5])
    #expect(try store.summary(of: listed[4]).errors == 4)
    var keys: [String] = []
    try store.forEachRecord(of: listed[2]) { keys.append($0.key) }
    #expect(keys == ["tmp/0.bin", "tmp/1.bin", "tmp/2.bin"])

    let pruned = store.prune(.count(2), now: base)
    #expect(pruned.problems.isEmpty)
    #expect(pruned.removed.map(\.id) == listed.prefix(3).map(\.id))
    #expect(try store.list().map(\.id) == listed.suffix(2).map(\.id))
    let byAge = store.prune(.age(try TimeSpan.parse("1h")), now: base.addingTimeInterval(4 * 3600 + 1800))
    #expect(byAge.removed.map(\.id) == [listed[3].id])
    #expect(try store.list().map(\.id) == [listed[4].id])
    #expect(FileManager.default.fileExists(atPath: "\(directory)/notes.txt"))
  }

  @Test func aDamagedReportIsReportedNotTrusted() throws {
    let directory = try Self.temporaryDirectory()
    try "{\"target\":\"t\"}\n{\"target\":\"t\",".write(
      toFile: "\(directory)/cycle-20261118T110640Z.jsonl", atomically: false, encoding: .utf8)
    let store = ReportStore(directory: directory)
    let report = try #require(try store.list().first)
    #expect(throws: ReportReadError.self) { try store.summary(of: report) }
    #expect(throws: ReportReadError.self) { try store.forEachRecord(of: report) { _ in } }
  }

  /// CJK keys take two terminal columns a character; the breakdown's numbers still line up under their titles.
  @Test func theBreakdownLinesUpWideCharacters() {
    var breakdown = CycleBreakdown()
    for (key, bytes) in [("相册/a.jpg", Int64(3 << 20)), ("tmp/b", Int64(1 << 20))] {
      breakdown.add(
        StoredRecord(
          target: "pds", bucket: "9001", key: key, rule: "r", decision: "abort", outcome: "aborted", ageSeconds: 90_000,
          bytes: bytes))
    }
    let lines = breakdown.lines()
    let header = lines.firstIndex { $0.hasPrefix("TOP PREFIX") }!
    let rows = lines[header...].prefix(3)
    #expect(rows.dropFirst().first?.hasPrefix("pds/9001/相册/") == true)
    let ends = rows.map { ReportView.displayWidth($0) }
    #expect(Set(ends).count == 1, "\(Array(rows))")
  }

  /// The textfile is replaced while a reader reads it in a loop: each read is one whole version.
  @Test func theTextfileIsReplacedAtomically() async throws {
    let directory = try Self.temporaryDirectory()
    let path = "\(directory)/upload_reaper.prom"
    @Sendable func version(_ number: Int) -> String {
      (0..<(number % 7 + 1) * 500).map { "upload_reaper_test{n=\"\($0)\"} \(number)\n" }.joined()
        + "upload_reaper_version \(number)\n"
    }
    let done = Atomic<Bool>(false)
    let bad = Mutex<[String]>([])
    let reads = Atomic<Int>(0)
    let reader = Thread {
      while !done.load(ordering: .relaxed) {
        guard let data = FileManager.default.contents(atPath: path) else { continue }
        let text = String(decoding: data, as: UTF8.self)
        let last = text.split(separator: "\n").last.map(String.init) ?? ""
        let number = Int(last.split(separator: " ").last ?? "") ?? -1
        reads.add(1, ordering: .relaxed)
        if !last.hasPrefix("upload_reaper_version ") || text != version(number) {
          bad.withLock { $0.append("\(data.count) bytes, last line \(last.prefix(60))") }
        }
      }
    }
    reader.start()
    for number in 0..<150 { try MetricsTextfile.write(version(number), to: path) }
    let deadline = ContinuousClock.now + .seconds(10)
    while reads.load(ordering: .relaxed) == 0, ContinuousClock.now < deadline {
      try await Task.sleep(for: .milliseconds(20))
    }
    done.store(true, ordering: .relaxed)
    #expect(bad.withLock { $0 }.isEmpty, "\(bad.withLock { $0.prefix(3) })")
    #expect(reads.load(ordering: .relaxed) > 0)
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    #expect((attributes[.posixPermissions] as? Int) == 0o644, "node_exporter runs as another user")
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["upload_reaper.prom"])
    #expect(throws: ReportWriteError.self) { try MetricsTextfile.write("x", to: "/nonexistent-dir/x.prom") }
  }

  /// A real cycle against the sandbox, its figures recorded, and `/metrics` scraped over HTTP and parsed.
  @Test func metricsAreServedOverHTTPWithTheCyclesFigures() async throws {
    let day: TimeInterval = 86_400
    let uploads = [
      SandboxUpload.aged("old/a.bin", id: "old-a", age: 3 * day, parts: [(5 << 20, 3 * day), (5 << 20, 2 * day)]),
      SandboxUpload.aged("old/b.bin", id: "old-b", age: 3 * day, parts: [(1 << 20, 3 * day)]),
      SandboxUpload.aged("new/c.bin", id: "new-c", age: 3600, parts: [(7, 3600)]),
      SandboxUpload.aged("new/d.bin", id: "new-d", age: 3600),
      SandboxUpload.aged("elsewhere/e.bin", id: "un-e", age: 9 * day, parts: [(100, 9 * day)]),
    ]
    try await SandboxHarness.with([SandboxBucket(name: "c-1", uploads: uploads)]) { harness in
      let config = CycleTests.config(
        harness, buckets: ["c-1"],
        rules: [CycleTests.rule("old", prefix: "old/"), CycleTests.rule("new", prefix: "new/")],
        safety: SafetySettings(maxAbortFraction: 1))
      let (summary, _) = await CycleTests.run(config, harness: harness)
      #expect(summary.errors.isEmpty)
      #expect(summary.bytesReclaimed == 11 << 20)
      let holdingOld = summary.holdings[HoldingKey(target: "sandbox", bucket: "c-1", rule: "old")]
      #expect(holdingOld?.staleBytes == 11 << 20)
      #expect(holdingOld?.stale == 2)
      let holdingNew = summary.holdings[HoldingKey(target: "sandbox", bucket: "c-1", rule: "new")]
      // Too young for their rule to matter: their parts are not listed, so nothing is counted for them.
      #expect(holdingNew?.bytes == 0)
      #expect(holdingNew?.unlisted == 2)
      #expect(holdingNew?.stale == 0)
      #expect(summary.holdings[HoldingKey(target: "sandbox", bucket: "c-1", rule: nil)]?.unlisted == 1)

      let metrics = CycleMetrics()
      let finished = Date()
      metrics.record(summary, config: config, finished: finished)
      let endpoint = try await MetricsEndpoint.start(ListenAddress(host: "127.0.0.1", port: 0), metrics: metrics)
      let (data, response) = try await URLSession.shared.data(
        from: URL(string: "http://127.0.0.1:\(endpoint.port)/metrics")!)
      let (_, missing) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(endpoint.port)/nope")!)
      await endpoint.stop()
      #expect((response as? HTTPURLResponse)?.statusCode == 200)
      #expect(
        (response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Content-Type")?.hasPrefix("text/plain") == true)
      #expect((missing as? HTTPURLResponse)?.statusCode == 404)
      let scraped = try PrometheusText(parsing: String(decoding: data, as: UTF8.self))
      let bucket = ["target": "sandbox", "bucket": "c-1"]
      func with(_ extra: [String: String]) -> [String: String] { bucket.merging(extra) { $1 } }
      #expect(scraped.types["upload_reaper_uploads"] == "gauge")
      #expect(scraped.types["upload_reaper_aborts_total"] == "counter")
      #expect(scraped.types["upload_reaper_cycle_duration_seconds"] == "histogram")
      #expect(scraped.value("upload_reaper_uploads", with(["state": "aborted"])) == 2)
      #expect(scraped.value("upload_reaper_uploads", with(["state": "kept"])) == 2)
      #expect(scraped.value("upload_reaper_uploads", with(["state": "unmatched"])) == 1)
      #expect(scraped.value("upload_reaper_uploads", with(["state": "failed"])) == 0)
      #expect(scraped.value("upload_reaper_bytes_held", bucket) == Double(11 << 20))
      #expect(scraped.value("upload_reaper_stale_bytes_held", bucket) == Double(11 << 20))
      #expect(scraped.value("upload_reaper_aborts_total", with(["outcome": "aborted"])) == 2)
      #expect(scraped.value("upload_reaper_aborts_total", with(["outcome": "failed"])) == 0)
      #expect(scraped.value("upload_reaper_bytes_reclaimed_total", bucket) == Double(11 << 20))
      #expect(scraped.value("upload_reaper_errors_total", ["target": "sandbox", "kind": "access-denied"]) == 0)
      #expect(scraped.value("upload_reaper_cycle_duration_seconds_count") == 1)
      let lastSuccess = try #require(
        scraped.value("upload_reaper_last_success_timestamp_seconds", ["target": "sandbox"]))
      #expect(abs(lastSuccess - finished.timeIntervalSince1970) < 1)
      try Self.checkAlertRules(against: scraped)
      try Self.checkEverySeriesIsDeclared(scraped: String(decoding: data, as: UTF8.self), types: scraped.types)
    }
  }

  /// Every series the README's metrics table lists is declared once in `MetricCatalog` and served with HELP and
  /// TYPE; nothing is served that the README does not list.
  static func checkEverySeriesIsDeclared(scraped text: String, types: [String: String]) throws {
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let readme = try String(contentsOf: repository.appendingPathComponent("README.md"), encoding: .utf8)
    let documented = Set(
      readme.split(separator: "\n").filter { $0.hasPrefix("| `upload_reaper_") }.compactMap { row in
        row.firstMatch(of: /`(upload_reaper_[a-z_]+)`/).map { String($0.output.1) }
      })
    #expect(documented == Set(MetricCatalog.all.map(\.fullName)), "README table vs MetricCatalog")
    for metric in MetricCatalog.all where !servedWhereItApplies.contains(metric) || types[metric.fullName] != nil {
      #expect(text.contains("# HELP \(metric.fullName) \(metric.help)"), "\(metric.fullName) served without HELP")
      #expect(types[metric.fullName] != nil, "\(metric.fullName) served without TYPE")
    }
    let optional = Set(servedWhereItApplies.map(\.fullName))
    #expect(
      Set(types.keys).subtracting(optional) == documented.subtracting(optional),
      "served series the README does not list")
  }

  /// Series served only where they mean something: server sweeps are read on s3 targets alone (ServerSweepTests
  /// checks that series there).
  static let servedWhereItApplies: Set<MetricCatalog.Metric> = [MetricCatalog.serverSweepConflicts]

  /// The example alert rules name only metrics, states and outcomes that the exporter really emits.
  static func checkAlertRules(against scraped: PrometheusText) throws {
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let rules = try String(
      contentsOf: repository.appendingPathComponent("packaging/upload-reaper.rules.yml"), encoding: .utf8)
    let names = Set(
      rules.matches(of: /upload_reaper_[a-z_]+/).map { String($0.output) }.map { name in
        for suffix in ["_sum", "_count", "_bucket"] where name.hasSuffix(suffix) {
          let base = String(name.dropLast(suffix.count))
          if scraped.types[base] == "histogram" { return base }
        }
        return name
      })
    #expect(names.count >= 6)
    for name in names { #expect(scraped.types[name] != nil, "the alert rules use \(name), which is never emitted") }
    let states = Set(scraped.samples(named: "upload_reaper_uploads").compactMap { $0.labels["state"] })
    for match in rules.matches(of: /state="([a-z-]+)"/) {
      #expect(states.contains(String(match.output.1)), "no state \(match.output.1)")
    }
    let outcomes = Set(scraped.samples(named: "upload_reaper_aborts_total").compactMap { $0.labels["outcome"] })
    for match in rules.matches(of: /outcome="([a-z-]+)"/) {
      #expect(outcomes.contains(String(match.output.1)), "no outcome \(match.output.1)")
    }
    let kinds = Set(scraped.samples(named: "upload_reaper_errors_total").compactMap { $0.labels["kind"] })
    for match in rules.matches(of: /kind[!=]~"([a-z|-]+)"/) {
      for kind in match.output.1.split(separator: "|") {
        #expect(kinds.contains(String(kind)), "no error kind \(kind)")
      }
    }
  }

  /// A failed target gets an error counted by kind, and its last success does not move.
  @Test func aFailedTargetCountsAnErrorAndIsNoSuccess() async throws {
    try await SandboxHarness.with([CycleTests.mixedBucket("c-1", stale: 1, fresh: 2)]) { harness in
      harness.store.updateFaults { $0.denyBuckets = ["c-1"] }
      let config = CycleTests.config(harness, buckets: ["c-1"], rules: [CycleTests.rule("old")])
      let (summary, _) = await CycleTests.run(config, harness: harness)
      let metrics = CycleMetrics()
      metrics.record(summary, config: config, finished: Date())
      metrics.record(summary, config: config, finished: Date())
      let scraped = try PrometheusText(parsing: metrics.text())
      #expect(scraped.value("upload_reaper_errors_total", ["target": "sandbox", "kind": "access-denied"]) == 2)
      #expect(scraped.samples(named: "upload_reaper_last_success_timestamp_seconds").isEmpty)
      #expect(scraped.value("upload_reaper_cycle_duration_seconds_count") == 2)
    }
  }
}
