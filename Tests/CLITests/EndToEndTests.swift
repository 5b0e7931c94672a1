import Foundation
import ReaperSandbox
import Testing

/// The real binary against an in-process sandbox: what it aborted is read back from the sandbox's own state.
@Suite("scan and list end to end")
struct EndToEndTests {
  static let day: TimeInterval = 86_400
  static let secret = "e2e-secret-that-must-never-print"
  static let accessKey = "AKIDENDTOEND"

  static func upload(_ key: String, _ id: String, age: TimeInterval, partAges: [TimeInterval] = []) -> SandboxUpload {
    let now = Date()
    return SandboxUpload(
      key: key, uploadID: id, initiated: now.addingTimeInterval(-age),
      parts: partAges.enumerated().map {
        SandboxPart(
          number: $0.offset + 1, size: Int64(1 << 20) * Int64($0.offset + 1),
          lastModified: now.addingTimeInterval(-$0.element))
      })
  }

  /// What a correct cycle must abort, by upload id.
  static let expectedAborts: Set<String> = ["stale-1", "stale-2", "stale-cjk", "stale-3a", "stale-3b", "other-stale"]

  static func buckets() -> [SandboxBucket] {
    var quirks = CDCSQuirks()
    quirks.pageLimit = 3
    let main =
      [
        upload("tmp/stale-1.bin", "stale-1", age: 3 * day),
        upload("tmp/stale-2.bin", "stale-2", age: 3 * day, partAges: [2 * day, 2 * day - 60]),
        upload("tmp/active.bin", "active", age: 3 * day, partAges: [3 * day, 600]),
        upload("tmp/keep/precious.bin", "precious", age: 10 * day),
        upload("tmp/young.bin", "young", age: 7200),
        upload("tmp/上传 文件+1.bin", "stale-cjk", age: 5 * day),
        upload("tmp/stale-3.bin", "stale-3a", age: 4 * day),
        upload("tmp/stale-3.bin", "stale-3b", age: 5 * day),
        upload("docs/report-me.pdf", "report-me", age: 10 * day),
        upload("other/unmatched.bin", "unmatched", age: 100 * day),
      ] + (0..<6).map { upload("tmp/fresh-\($0).bin", "fresh-\($0)", age: 600) }
    return [
      SandboxBucket(name: "e2e-1250000000", quirks: quirks, uploads: main),
      SandboxBucket(
        name: "e2e-2-1250000000", uploads: [upload("tmp/stale-other.bin", "other-stale", age: 3 * day)]),
    ]
  }

  struct Setup {
    let server: SandboxServer
    let config: String
  }

  static func start() async throws -> Setup {
    let store = SandboxStore(buckets: buckets(), credentials: [accessKey: secret])
    let server = try await SandboxServer.start(store: store)
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let credentials = directory.appendingPathComponent("sandbox.cred").path
    try "access_key_id=\(accessKey)\nsecret_access_key=\(secret)\n".write(
      toFile: credentials, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: credentials)
    let config = directory.appendingPathComponent("reaper.toml").path
    try """
    [daemon]
    concurrency = 4
    state_dir = "\(directory.path)/state"

    [[target]]
    name = "sandbox"
    provider = "cdcs"
    endpoint = "http://127.0.0.1:\(server.port)"
    buckets = ["e2e-1250000000", "e2e-2-1250000000"]
    credentials_file = "sandbox.cred"

    [[rule]]
    name = "tmp-abort"
    prefix = "tmp/"
    max_age = "1d"
    max_idle = "6h"
    exclude = ["tmp/keep/*"]
    action = "abort"

    [[rule]]
    name = "docs-report"
    prefix = "docs/"
    max_age = "3d"
    action = "report"
    """.write(toFile: config, atomically: true, encoding: .utf8)
    return Setup(server: server, config: config)
  }

  static func jsonLines(_ text: String) throws -> [[String: Any]] {
    try text.split(separator: "\n").map { line in
      try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }
  }

  @Test func dryRunThenScanAbortsExactlyTheStaleSet() async throws {
    let setup = try await Self.start()
    defer { Task { await setup.server.stop() } }
    let store = setup.server.store

    let dry = try await CLITests.run(["scan", "--config", setup.config, "--dry-run", "--format", "json"])
    #expect(dry.status == 0, "\(dry.stderr)")
    #expect(store.aborted.isEmpty)
    #expect(store.requestLog.aborts == 0)
    let dryLines = try Self.jsonLines(dry.stdout)
    let drySummary = try #require(dryLines.last?["summary"] as? [String: Any])
    #expect(drySummary["would_abort"] as? Int == Self.expectedAborts.count)

    let real = try await CLITests.run(["scan", "--config", setup.config, "--format", "json"])
    #expect(real.status == 0, "\(real.stderr)")
    #expect(Set(store.aborted.map(\.uploadID)) == Self.expectedAborts)
    #expect(store.aborted.count == Self.expectedAborts.count)
    #expect(store.requestLog.rejectedSignatures == 0)

    let lines = try Self.jsonLines(real.stdout)
    let records = lines.dropLast()
    let ids = records.compactMap { $0["upload_id"] as? String }
    #expect(ids.count == 17)
    #expect(Set(ids).count == ids.count, "every upload exactly once")
    func outcome(_ id: String) -> String? { records.first { $0["upload_id"] as? String == id }?["outcome"] as? String }
    #expect(outcome("active") == "kept")
    #expect(outcome("precious") == "kept")
    #expect(outcome("young") == "kept")
    #expect(outcome("report-me") == "reported")
    #expect(outcome("unmatched") == "kept")
    #expect(records.first { $0["upload_id"] as? String == "unmatched" }?["decision"] as? String == "unmatched")
    #expect(records.first { $0["upload_id"] as? String == "stale-cjk" }?["key"] as? String == "tmp/上传 文件+1.bin")
    let stale2 = try #require(records.first { $0["upload_id"] as? String == "stale-2" })
    #expect(stale2["bytes"] as? Int == 3 << 20)
    #expect(stale2["parts"] as? Int == 2)
    let reason = try #require(stale2["reason"] as? String)
    // Seconds pass between seeding and scanning, so the age may have grown a few.
    let pattern = #"^age 3d( [0-9]+s)? > max_age 1d, idle 47h 59m > max_idle 6h$"#
    #expect(reason.range(of: pattern, options: .regularExpression) != nil, "\(reason)")
    let summary = try #require(lines.last?["summary"] as? [String: Any])
    #expect(summary["aborted"] as? Int == Self.expectedAborts.count)
    #expect(summary["reported"] as? Int == 1)
    #expect(summary["unmatched"] as? Int == 1)
    #expect((summary["errors"] as? [Any])?.isEmpty == true)

    for output in [dry.stdout, dry.stderr, real.stdout, real.stderr] {
      #expect(!output.contains(Self.secret))
    }

    // A second scan finds nothing left to abort.
    let again = try await CLITests.run(["scan", "--config", setup.config, "--format", "json"])
    let againSummary = try #require(try Self.jsonLines(again.stdout).last?["summary"] as? [String: Any])
    #expect(againSummary["aborted"] as? Int == 0)
  }

  @Test func aForbiddenCofferFailsTheScanButNotTheOthers() async throws {
    let setup = try await Self.start()
    defer { Task { await setup.server.stop() } }
    setup.server.store.updateFaults { $0.denyBuckets = ["e2e-2-1250000000"] }
    let result = try await CLITests.run(["scan", "--config", setup.config])
    #expect(result.status == 1)
    #expect(result.stderr.contains("target failed"))
    #expect(result.stderr.contains("bucket e2e-2-1250000000"))
    #expect(result.stdout.contains("AccessDenied"))
    #expect(Set(setup.server.store.aborted.map(\.uploadID)) == Self.expectedAborts.subtracting(["other-stale"]))
    #expect(!result.stdout.contains(Self.secret) && !result.stderr.contains(Self.secret))
  }

  @Test func listShowsEveryUploadWithPartsAndDecidesNothing() async throws {
    let setup = try await Self.start()
    defer { Task { await setup.server.stop() } }
    let result = try await CLITests.run(["list", "--config", setup.config, "--format", "json"])
    #expect(result.status == 0, "\(result.stderr)")
    let records = try Self.jsonLines(result.stdout).dropLast()
    #expect(records.count == 17)
    #expect(records.allSatisfy { $0["parts"] is Int && $0["bytes"] is Int })
    // The sandbox's listings name an initiator for every upload, and list passes it on.
    #expect(records.allSatisfy { ($0["initiator"] as? String)?.isEmpty == false }, "\(records.first ?? [:])")
    #expect(setup.server.store.aborted.isEmpty)
    let text = try await CLITests.run(["list", "--config", setup.config])
    #expect(text.stdout.contains("17 uploads holding"))
    let header = try #require(text.stdout.split(separator: "\n").first { $0.hasPrefix("OUTCOME") })
    #expect(header.contains(" INITIATOR "), "\(header)")
  }
}
