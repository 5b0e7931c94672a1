import Foundation
import ReaperSandbox
import TestSupport
import Testing

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif
#if canImport(Glibc)
  import Glibc
#endif

/// Cycle reports as an operator meets them: written by `scan` and the daemon, pruned, shown by `report`, and the
/// metrics scraped from a running daemon and read from its textfile.
@Suite("Reports and metrics end to end", .serialized)
struct ReportTests {
  static func stateDirectory(_ setup: EndToEndTests.Setup) -> String {
    URL(fileURLWithPath: setup.config).deletingLastPathComponent().appendingPathComponent("state").path
  }

  static func append(_ text: String, to config: String) throws {
    let handle = try #require(FileHandle(forWritingAtPath: config))
    handle.seekToEndOfFile()
    handle.write(Data(text.utf8))
    try handle.close()
  }

  /// `[daemon]` keys go in the existing table; the test config's first line opens it.
  static func addDaemonKeys(_ lines: String, to config: String) throws {
    let text = try String(contentsOfFile: config, encoding: .utf8)
    try text.replacingOccurrences(of: "[daemon]\n", with: "[daemon]\n\(lines)\n").write(
      toFile: config, atomically: true, encoding: .utf8)
  }

  @Test func scanWritesTheReportAndReportShowsIt() async throws {
    let setup = try await EndToEndTests.start()
    defer { Task { await setup.server.stop() } }
    // The default form is checked in ReportDetailCLITests.
    try Self.addDaemonKeys("report_detail = \"every-upload\"", to: setup.config)
    let scan = try await CLITests.run(["scan", "--config", setup.config, "--format", "json"])
    #expect(scan.status == 0, "\(scan.stderr)")
    let state = Self.stateDirectory(setup)
    let names = try FileManager.default.contentsOfDirectory(atPath: state)
    #expect(names.count == 1)
    let name = try #require(names.first)
    #expect(name.range(of: #"^cycle-\d{8}T\d{6}Z\.jsonl$"#, options: .regularExpression) != nil)

    // The file holds exactly what scan printed: every record, then the summary.
    let file = try String(contentsOfFile: "\(state)/\(name)", encoding: .utf8)
    #expect(Set(file.split(separator: "\n").dropLast()) == Set(scan.stdout.split(separator: "\n").dropLast()))
    let lines = try EndToEndTests.jsonLines(file)
    #expect(lines.count == 18)
    let summary = try #require(lines.last?["summary"] as? [String: Any])
    #expect(summary["uploads_seen"] as? Int == 17)
    #expect(summary["stale"] as? Int == 7, "6 aborted and 1 reported")
    #expect(summary["bytes_held"] as? Int == 6 << 20)
    #expect(summary["stale_bytes"] as? Int == 3 << 20)
    #expect(summary["bytes_reclaimed"] as? Int == 3 << 20)
    #expect(summary["dry_run"] as? Bool == false)
    let held = try #require(summary["held"] as? [[String: Any]])
    func holding(_ bucket: String, _ rule: String?) -> [String: Any]? {
      held.first { $0["bucket"] as? String == bucket && $0["rule"] as? String == rule }
    }
    let tmp = try #require(holding("e2e-1250000000", "tmp-abort"))
    #expect(tmp["uploads"] as? Int == 14)
    #expect(tmp["stale"] as? Int == 5)
    #expect(tmp["bytes"] as? Int == 6 << 20)
    #expect(tmp["stale_bytes"] as? Int == 3 << 20)
    #expect(
      tmp["unlisted"] as? Int == 8,
      "the excluded upload's parts, and those of the 7 too young to be stale, are not listed")
    #expect(holding("e2e-1250000000", "docs-report")?["stale"] as? Int == 1)
    #expect(holding("e2e-2-1250000000", "tmp-abort")?["stale"] as? Int == 1)
    #expect(holding("e2e-1250000000", nil)?["uploads"] as? Int == 1)
    #expect(held.count == 4)

    // `report` reads state_dir from the config.
    let report = try await CLITests.run(["report", "--config", setup.config])
    #expect(report.status == 0, "\(report.stderr)")
    let rows = report.stdout.split(separator: "\n").map(String.init)
    #expect(rows.count == 2)
    #expect(rows.first?.hasPrefix("TIME ") == true)
    let cells = try #require(rows.last).split(separator: " ").map(String.init)
    #expect(Array(cells.dropFirst().prefix(4)) == ["17", "7", "6", "1"])
    #expect(Array(cells.dropFirst(5).prefix(5)) == ["6", "MiB", "3", "MiB", "0"])

    let breakdown = try await CLITests.run(["report", "--config", setup.config, "--cycle", "latest"])
    #expect(breakdown.status == 0, "\(breakdown.stderr)")
    let text = breakdown.stdout.split(separator: "\n").map(String.init)
    let rule = try #require(text.firstIndex { $0.hasPrefix("RULE ") })
    #expect(text[rule + 1].hasPrefix("tmp-abort "))
    #expect(text[rule + 1].contains(" 3 MiB "))
    let prefixes = try #require(text.firstIndex { $0.hasPrefix("TOP PREFIX ") })
    #expect(text[prefixes + 1].hasPrefix("sandbox/e2e-1250000000/tmp/ "))
    #expect(!breakdown.stdout.contains(EndToEndTests.secret) && !scan.stdout.contains(EndToEndTests.secret))
  }

  @Test func keepReportsPrunesTheOldestAfterEachScan() async throws {
    let setup = try await EndToEndTests.start()
    defer { Task { await setup.server.stop() } }
    try Self.addDaemonKeys("keep_reports = 2", to: setup.config)
    for _ in 0..<4 {
      let scan = try await CLITests.run(["scan", "--config", setup.config, "--dry-run"])
      #expect(scan.status == 0, "\(scan.stderr)")
    }
    let names = try FileManager.default.contentsOfDirectory(atPath: Self.stateDirectory(setup)).sorted()
    #expect(names.count == 2, "\(names)")
    let report = try await CLITests.run(["report", "--config", setup.config, "--format", "json"])
    let summaries = try EndToEndTests.jsonLines(report.stdout).compactMap { $0["summary"] as? [String: Any] }
    #expect(summaries.count == 2)
    #expect(summaries.allSatisfy { $0["dry_run"] as? Bool == true && $0["would_abort"] as? Int == 6 })

    // A duration is accepted too; a scan with --no-records leaves no trace.
    let config = try String(contentsOfFile: setup.config, encoding: .utf8)
    try config.replacingOccurrences(of: "keep_reports = 2", with: "keep_reports = \"30d\"").write(
      toFile: setup.config, atomically: true, encoding: .utf8)
    let quiet = try await CLITests.run(["scan", "--config", setup.config, "--dry-run", "--no-records"])
    #expect(quiet.status == 0, "\(quiet.stderr)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: Self.stateDirectory(setup)).count == 2)
    let check = try await CLITests.run(["check-config", "--config", setup.config])
    #expect(check.status == 0, "\(check.stderr)")
  }

  @Test(arguments: [
    ("keep_reports = 0", "daemon.keep_reports: 0 is out of range 1...1000000"),
    ("keep_reports = \"10m\"", "daemon.keep_reports: 10m is too short to be useful: use at least 1h"),
    ("keep_reports = true", "daemon.keep_reports: expected a number of reports or a duration"),
    ("account_all = \"yes\"", "daemon.account_all: expected true or false, found a string"),
    ("report_detail = \"full\"", "daemon.report_detail: \"full\" is not \"summary\" or \"every-upload\""),
  ])
  func badRetentionSettingsNameTheLineAndKey(line: String, message: String) async throws {
    let setup = try await EndToEndTests.start()
    defer { Task { await setup.server.stop() } }
    try Self.addDaemonKeys(line, to: setup.config)
    let result = try await CLITests.run(["check-config", "--config", setup.config])
    #expect(result.status == 2)
    #expect(result.stderr.contains("\(setup.config):2: \(message)"), "\(result.stderr)")
  }

  @Test(arguments: [
    ("listen = \"9464\"", "metrics.listen: \"9464\" is not host:port"),
    ("listen = \"127.0.0.1:99999\"", "metrics.listen: \"127.0.0.1:99999\" is not host:port"),
    ("textfile = \"relative.prom\"", "metrics.textfile: \"relative.prom\" must be an absolute path"),
    ("lisen = \"127.0.0.1:9464\"", "metrics.lisen: unknown key; did you mean \"listen\"?"),
  ])
  func badMetricsSettingsNameTheLineAndKey(line: String, message: String) async throws {
    let setup = try await EndToEndTests.start()
    defer { Task { await setup.server.stop() } }
    let lines = try String(contentsOfFile: setup.config, encoding: .utf8).split(
      separator: "\n", omittingEmptySubsequences: false
    ).count
    try Self.append("\n[metrics]\n\(line)\n", to: setup.config)
    let result = try await CLITests.run(["check-config", "--config", setup.config])
    #expect(result.status == 2)
    #expect(result.stderr.contains("\(setup.config):\(lines + 2): \(message)"), "\(result.stderr)")
  }

  // MARK: a known state dir, line by line

  static let fixture: [String: String] = [
    "cycle-20261120T100000Z.jsonl": """
    {"target":"coffers-bj","bucket":"examplecoffer-1250000000","key":"tmp/a.bin","upload_id":"1","initiated":"2026-11-17T06:00:00Z","age_seconds":273600,"idle_seconds":null,"parts":3,"bytes":1073741824,"rule":"tmp-abort","decision":"abort","outcome":"aborted","reason":"age 3d 4h > max_age 1d"}
    {"target":"coffers-bj","bucket":"examplecoffer-1250000000","key":"logs/b.log","upload_id":"2","initiated":"2026-11-19T09:00:00Z","age_seconds":90000,"idle_seconds":90000,"parts":1,"bytes":429496729,"rule":"logs-report","decision":"report","outcome":"reported","reason":"age 25h > max_age 1d"}
    {"target":"ceph","bucket":"backups","key":"db/c","upload_id":"3","initiated":"2026-11-20T09:00:00Z","age_seconds":3600,"idle_seconds":null,"parts":null,"bytes":null,"rule":null,"decision":"unmatched","outcome":"kept","reason":"no rule matches"}
    {"summary":{"started":"2026-11-20T10:00:00Z","dry_run":false,"targets":2,"uploads_seen":3,"unmatched":1,"kept":0,"logged":0,"reported":1,"aborted":1,"would_abort":0,"abort_failed":0,"skipped_recheck":0,"gone":0,"stale":2,"bytes_held":1503238553,"stale_bytes":1503238553,"bytes_reclaimed":1073741824,"held":[],"errors":[],"error_kinds":[],"failed_targets":[],"duration_seconds":1.93}}

    """,
    "cycle-20261121T100000Z.jsonl": """
    {"summary":{"started":"2026-11-21T10:00:00Z","dry_run":true,"targets":2,"uploads_seen":120,"unmatched":0,"kept":109,"logged":0,"reported":0,"aborted":0,"would_abort":11,"abort_failed":0,"skipped_recheck":0,"gone":0,"stale":11,"bytes_held":0,"stale_bytes":0,"bytes_reclaimed":0,"held":[],"errors":["target ceph, bucket backups: GET /backups?uploads: connection refused"],"error_kinds":[{"target":"ceph","kind":"retryable","count":1}],"failed_targets":["ceph"],"duration_seconds":75.5}}

    """,
    "cycle-20261122T100000Z.jsonl": #"{"target":"coffers-bj","bucket":"x","key":"k""#,
    ".cycle-20261123T100000Z-1234abcd.tmp": "{",
    "notes.txt": "not a report\n",
  ]

  static func knownStateDirectory() throws -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("known-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    for (name, content) in fixture {
      try content.write(toFile: "\(directory)/\(name)", atomically: false, encoding: .utf8)
    }
    return directory
  }

  @Test func reportPrintsAKnownStateDirLineByLine() async throws {
    let directory = try Self.knownStateDirectory()
    let result = try await CLITests.run(["report", "--state-dir", directory])
    #expect(result.status == 1, "a damaged report makes the exit status 1")
    let expected = [
      "TIME                     UPLOADS    STALE   ABORTED  REPORTED        HELD   RECLAIMED  ERRORS  DURATION  NOTE",
      "2026-11-20T10:00:00Z           3        2         1         1     1.4 GiB       1 GiB       0     1.93s",
      "2026-11-21T10:00:00Z         120       11         0         0         0 B         0 B       1    1m 16s  dry run, 11 would abort; failed: ceph",
      "2026-11-22T10:00:00Z           ?        ?         ?         ?           ?           ?       ?         ?  unreadable: the last line is not a summary: the report is damaged",
    ]
    let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    #expect(lines == expected + [""])
    for (got, want) in zip(lines, expected) { #expect(got == want) }

    let last = try await CLITests.run(["report", "--state-dir", directory, "--last", "2", "--format", "json"])
    #expect(last.stdout.split(separator: "\n").count == 1, "the damaged one has no summary to print")
    #expect(last.stdout.hasPrefix(#"{"summary":{"started":"2026-11-21T10:00:00Z","dry_run":true,"#))
    #expect(last.stderr.contains("cycle-20261122T100000Z.jsonl: the last line is not a summary"))
  }

  @Test func reportBreaksOneCycleDownLineByLine() async throws {
    let directory = try Self.knownStateDirectory()
    let result = try await CLITests.run(["report", "--state-dir", directory, "--cycle", "2026-11-20T10:00:00Z"])
    #expect(result.status == 0, "\(result.stderr)")
    let expected = [
      "TIME                     UPLOADS    STALE   ABORTED  REPORTED        HELD   RECLAIMED  ERRORS  DURATION  NOTE",
      "2026-11-20T10:00:00Z           3        2         1         1     1.4 GiB       1 GiB       0     1.93s",
      "",
      "TARGET             UPLOADS    STALE  STALE HELD    OLDEST   ABORTED   RECLAIMED",
      "coffers-bj               2        2     1.4 GiB     3d 4h         1       1 GiB",
      "ceph                     1        0         0 B         -         0         0 B",
      "",
      "BUCKET                                UPLOADS    STALE  STALE HELD    OLDEST   ABORTED   RECLAIMED",
      "coffers-bj/examplecoffer-1250000000         2        2     1.4 GiB     3d 4h         1       1 GiB",
      "ceph/backups                                1        0         0 B         -         0         0 B",
      "",
      "RULE               UPLOADS    STALE  STALE HELD    OLDEST   ABORTED   RECLAIMED",
      "tmp-abort                1        1       1 GiB     3d 4h         1       1 GiB",
      "logs-report              1        1   409.6 MiB     1d 1h         0         0 B",
      "(no rule)                1        0         0 B         -         0         0 B",
      "",
      "TOP PREFIX                                  UPLOADS    STALE  STALE HELD    OLDEST   ABORTED   RECLAIMED",
      "coffers-bj/examplecoffer-1250000000/tmp/          1        1       1 GiB     3d 4h         1       1 GiB",
      "coffers-bj/examplecoffer-1250000000/logs/         1        1   409.6 MiB     1d 1h         0         0 B",
      "",
      "KEPT BY AGE           <1h      <1d      <7d     <30d     <90d      <1y     >=1y",
      "(no rule)               0        1        0        0        0        0        0",
      "",
    ]
    let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    #expect(lines.count == expected.count)
    for (got, want) in zip(lines, expected) { #expect(got == want) }

    // The same cycle by its ID and by its file name; JSON streams the file through unchanged.
    for spelling in ["20261120T100000Z", "cycle-20261120T100000Z.jsonl"] {
      let again = try await CLITests.run(["report", "--state-dir", directory, "--cycle", spelling])
      #expect(again.stdout == result.stdout)
    }
    let json = try await CLITests.run([
      "report", "--state-dir", directory, "--cycle", "20261120T100000Z", "--format", "json",
    ])
    #expect(json.stdout == Self.fixture["cycle-20261120T100000Z.jsonl"])

    let missing = try await CLITests.run(["report", "--state-dir", directory, "--cycle", "2026-11-19T10:00:00Z"])
    #expect(missing.status == 2)
    #expect(
      missing.stderr.contains("no cycle 2026-11-19T10:00:00Z in \(directory) (the most recent: 2026-11-20T10:00:00Z"))
    let malformed = try await CLITests.run(["report", "--state-dir", directory, "--cycle", "last tuesday"])
    #expect(malformed.status == 2)
    let damaged = try await CLITests.run(["report", "--state-dir", directory, "--cycle", "2026-11-22T10:00:00Z"])
    #expect(damaged.status == 1)
    #expect(damaged.stderr.contains("the report is damaged"))
    let empty = try await CLITests.run(["report", "--state-dir", "/nonexistent/state"])
    #expect(empty.status == 0)
    #expect(empty.stderr.contains("no cycle reports in /nonexistent/state yet"))
  }

  // MARK: the daemon's metrics

  /// A port that was free a moment ago.
  static func freePort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
      pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
      }
    }
    try #require(bound)
    return Int(UInt16(bigEndian: address.sin_port))
  }

  @Test func theDaemonServesMetricsAndWritesTheTextfile() async throws {
    let setup = try await EndToEndTests.start()
    defer { Task { await setup.server.stop() } }
    let port = try Self.freePort()
    let textfile = URL(fileURLWithPath: setup.config).deletingLastPathComponent().appendingPathComponent("reaper.prom")
      .path
    try Self.append("\n[metrics]\nlisten = \"127.0.0.1:\(port)\"\ntextfile = \"\(textfile)\"\n", to: setup.config)
    let daemon = try DaemonTests.launch(setup)
    defer {
      kill(daemon.process.processIdentifier, SIGKILL)
      daemon.notify.stop()
    }
    #expect(await daemon.notify.wait(for: { $0.hasPrefix("READY=1") }, within: 10) != nil)
    // Before the first cycle the counters already exist, at zero.
    let early = try PrometheusText(parsing: try await Self.scrape(port))
    #expect(
      early.value(
        "upload_reaper_aborts_total", ["target": "sandbox", "bucket": "e2e-1250000000", "outcome": "aborted"]) == 0)
    #expect(await daemon.notify.wait(for: { $0.contains("STATUS=cycle 1:") }, within: 20) != nil)
    let served = try await Self.scrape(port)
    let written = try String(contentsOfFile: textfile, encoding: .utf8)
    for text in [served, written] {
      let metrics = try PrometheusText(parsing: text)
      let first = ["target": "sandbox", "bucket": "e2e-1250000000"]
      func with(_ extra: [String: String]) -> [String: String] { first.merging(extra) { $1 } }
      #expect(metrics.value("upload_reaper_uploads", with(["state": "aborted"])) == 5)
      #expect(metrics.value("upload_reaper_uploads", with(["state": "reported"])) == 1)
      #expect(metrics.value("upload_reaper_uploads", with(["state": "unmatched"])) == 1)
      #expect(metrics.value("upload_reaper_uploads", with(["state": "kept"])) == 9)
      #expect(metrics.value("upload_reaper_bytes_held", first) == Double(6 << 20))
      #expect(metrics.value("upload_reaper_aborts_total", with(["outcome": "aborted"])) == 5)
      #expect(metrics.value("upload_reaper_bytes_reclaimed_total", first) == Double(3 << 20))
      let second = ["target": "sandbox", "bucket": "e2e-2-1250000000", "outcome": "aborted"]
      #expect(metrics.value("upload_reaper_aborts_total", second) == 1)
      #expect(metrics.value("upload_reaper_errors_total", ["target": "sandbox", "kind": "retryable"]) == 0)
      #expect(metrics.value("upload_reaper_cycle_duration_seconds_count") == 1)
      let success = try #require(metrics.value("upload_reaper_last_success_timestamp_seconds", ["target": "sandbox"]))
      #expect(abs(success - Date().timeIntervalSince1970) < 30)
    }
    kill(daemon.process.processIdentifier, SIGTERM)
    daemon.process.waitUntilExit()
    #expect(daemon.process.terminationStatus == 0)
    let log = String(decoding: daemon.stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    #expect(log.contains("serving metrics on http://127.0.0.1:\(port)/metrics"))
  }

  static func scrape(_ port: Int) async throws -> String {
    let (data, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/metrics")!)
    #expect((response as? HTTPURLResponse)?.statusCode == 200)
    return String(decoding: data, as: UTF8.self)
  }
}
