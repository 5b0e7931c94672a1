import Foundation
import ReaperSandbox
import Testing

/// The real binary scanning a PDS drive in an in-process sandbox: what it deleted is read back from the
/// sandbox's own state, and nothing it prints may carry the token or a part's signed URL.
@Suite("PDS scan end to end")
struct PDSEndToEndTests {
  static let day: TimeInterval = 86_400
  static let hour: TimeInterval = 3600
  static let token = "pds-e2e-token-that-must-never-print"
  static let drive = "9001"

  /// Parts of 1, 2, 3 … MiB, last written `idle` ago.
  static func upload(
    _ key: String, _ id: String, age: TimeInterval, idle: TimeInterval? = nil, parts: Int = 0
  )
    -> SandboxUpload
  {
    let now = Date()
    return SandboxUpload(
      key: key, uploadID: id, initiated: now.addingTimeInterval(-age),
      parts: (0..<parts).map {
        SandboxPart(number: $0 + 1, size: Int64($0 + 1) << 20, lastModified: now.addingTimeInterval(-(idle ?? age)))
      })
  }

  static let uploads: [SandboxUpload] =
    [
      upload("相册/2026/春节 视频/stale 1.mov", "U-stale-1", age: 4 * day, idle: 2 * day, parts: 3),
      upload("相册/2026/春节 视频/active.mov", "U-active", age: 4 * day, idle: hour, parts: 2),
      upload("相册/young.mov", "U-young", age: 2 * hour, parts: 1),
      upload("tmp/a b/scratch.bin", "U-scratch", age: 3 * day),
      upload("tmp/finishing.bin", "U-finishing", age: 3 * day, parts: 1),
      upload("文档/报告 2026/q3.pdf", "U-report", age: 10 * day),
      upload("backups/db/dump.sql", "U-unwalked", age: 30 * day, parts: 2),
      upload("未命名.bin", "U-unmatched", age: 5 * day),
    ] + (0..<3).map { upload("相册/fresh \($0).mov", "U-fresh-\($0)", age: hour) }

  static let finished = SandboxFile(
    key: "相册/2026/春节 视频/done.mov", size: 1 << 30, created: Date().addingTimeInterval(-400 * day))

  /// What a correct scan deletes, by upload id.
  static let expectedDeletes: Set<String> = ["U-stale-1", "U-scratch"]

  struct Setup {
    let server: SandboxServer
    let config: String
  }

  static func start() async throws -> Setup {
    var quirks = PDSQuirks()
    quirks.pageLimit = 2
    quirks.partsPageLimit = 2
    let store = SandboxStore(
      buckets: [SandboxBucket(name: drive, uploads: uploads, files: [finished], pds: quirks)], credentials: [:],
      accessTokens: [token])
    let server = try await SandboxServer.start(store: store)
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pds-e2e-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let credentials = directory.appendingPathComponent("pds.cred").path
    try "access_token=\(token)\n".write(toFile: credentials, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: credentials)
    let config = directory.appendingPathComponent("reaper.toml").path
    try """
    [daemon]
    concurrency = 4
    state_dir = "\(directory.path)/state"

    [[target]]
    name = "drive"
    provider = "pds"
    endpoint = "http://127.0.0.1:\(server.port)"
    buckets = ["\(drive)"]
    credentials_file = "pds.cred"

    [[rule]]
    name = "album-abort"
    prefix = "相册/"
    max_age = "2d"
    max_idle = "1d"
    action = "abort"

    [[rule]]
    name = "tmp-abort"
    prefix = "tmp/"
    max_age = "1d"
    action = "abort"

    [[rule]]
    name = "docs-report"
    bucket = "\(drive)"
    prefix = "文档/"
    max_age = "3d"
    action = "report"
    """.write(toFile: config, atomically: true, encoding: .utf8)
    return Setup(server: server, config: config)
  }

  static func leaks(_ output: String) -> [String] {
    [token, "Signature=", "OSSAccessKeyId", SandboxStore.signedURLHost, "Bearer"].filter { output.contains($0) }
  }

  @Test func scanDeletesExactlyTheStaleFilesAndLeaksNothing() async throws {
    let setup = try await Self.start()
    defer { Task { await setup.server.stop() } }
    let store = setup.server.store
    store.updateFaults { $0.completeOnGet = ["tmp/finishing.bin"] }
    let verbose = ["UPLOAD_REAPER_LOG_LEVEL": "trace"]

    let dry = try await CLITests.run(
      ["scan", "--config", setup.config, "--dry-run", "--format", "json"], environment: verbose)
    #expect(dry.status == 0, "\(dry.stderr)")
    #expect(store.aborted.isEmpty)
    let drySummary = try #require(try EndToEndTests.jsonLines(dry.stdout).last?["summary"] as? [String: Any])
    #expect(drySummary["would_abort"] as? Int == 3)

    let real = try await CLITests.run(["scan", "--config", setup.config, "--format", "json"], environment: verbose)
    #expect(real.status == 0, "\(real.stderr)")
    // Read back from the sandbox: exactly the stale files were deleted, for good, and nothing finished.
    let byID = Dictionary(uniqueKeysWithValues: Self.uploads.map { ($0.uploadID, $0) })
    let expectedFiles = Set(Self.expectedDeletes.compactMap { byID[$0]?.fileID })
    let response = store.handle(SandboxRequest(method: "GET", uri: "/_sandbox/state", headers: []))
    let state = try #require(JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    let deleted = try #require(state["aborted"] as? [[String: Any]])
    #expect(Set(deleted.compactMap { $0["fileID"] as? String }) == expectedFiles)
    #expect(deleted.count == expectedFiles.count)
    #expect(deleted.allSatisfy { $0["permanently"] as? Bool == true })
    let remaining = store.files(in: Self.drive).map(\.fileID)
    #expect(Set(remaining) == [Self.finished.fileID, byID["U-finishing"]!.fileID])

    let lines = try EndToEndTests.jsonLines(real.stdout)
    let records = lines.dropLast()
    func record(_ id: String) -> [String: Any]? { records.first { $0["upload_id"] as? String == id } }
    // backups/ has no rule: the walk never entered it.
    #expect(Set(records.compactMap { $0["upload_id"] as? String }) == Set(byID.keys).subtracting(["U-unwalked"]))
    #expect(records.allSatisfy { $0["target"] as? String == "drive" && $0["bucket"] as? String == Self.drive })
    #expect(record("U-stale-1")?["outcome"] as? String == "aborted")
    #expect(record("U-stale-1")?["key"] as? String == "相册/2026/春节 视频/stale 1.mov")
    #expect(record("U-stale-1")?["parts"] as? Int == 3)
    #expect(record("U-stale-1")?["bytes"] as? Int == 6 << 20)
    #expect((record("U-stale-1")?["reason"] as? String)?.hasSuffix("max_idle 1d (since updated_at)") == true)
    #expect(record("U-active")?["outcome"] as? String == "kept")
    #expect(record("U-active")?["bytes"] as? Int == 3 << 20)
    #expect(record("U-active")?["idle_seconds"] as? Int ?? 0 < 2 * 3600)
    #expect(record("U-scratch")?["outcome"] as? String == "aborted")
    // tmp-abort needs no parts to decide, but the re-check before the delete lists them: there are none.
    #expect(record("U-scratch")?["bytes"] as? Int == 0)
    #expect(record("U-finishing")?["outcome"] as? String == "gone")
    #expect(record("U-report")?["outcome"] as? String == "reported")
    #expect(record("U-unmatched")?["decision"] as? String == "unmatched")
    let summary = try #require(lines.last?["summary"] as? [String: Any])
    #expect(summary["aborted"] as? Int == 2)
    #expect(summary["gone"] as? Int == 1)
    #expect(summary["bytes_reclaimed"] as? Int == 6 << 20)
    #expect((summary["errors"] as? [Any])?.isEmpty == true)

    for output in [dry.stdout, dry.stderr, real.stdout, real.stderr] {
      #expect(Self.leaks(output).isEmpty, "\(Self.leaks(output))")
    }
    #expect(real.stderr.contains("upload aborted"), "trace logging was on")
  }

  @Test func listWalksEveryFolderAndCountsEveryPart() async throws {
    let setup = try await Self.start()
    defer { Task { await setup.server.stop() } }
    let result = try await CLITests.run(["list", "--config", setup.config, "--format", "json"])
    #expect(result.status == 0, "\(result.stderr)")
    let records = try EndToEndTests.jsonLines(result.stdout).dropLast()
    #expect(records.count == Self.uploads.count)
    // PDS listings name no initiator, and the records do not make one up.
    #expect(records.allSatisfy { $0["initiator"] == nil })
    for upload in Self.uploads {
      let record = records.first { $0["upload_id"] as? String == upload.uploadID }
      #expect(record?["bytes"] as? Int == Int(upload.parts.reduce(0) { $0 + $1.size }), "\(upload.key)")
      #expect(record?["parts"] as? Int == upload.parts.count)
    }
    #expect(setup.server.store.aborted.isEmpty)
    #expect(Self.leaks(result.stdout + result.stderr).isEmpty)
  }

  @Test func anExpiredTokenExitsOneAndSaysToRefreshIt() async throws {
    let setup = try await Self.start()
    defer { Task { await setup.server.stop() } }
    setup.server.store.updateFaults { $0.expireTokens = true }
    let result = try await CLITests.run(["scan", "--config", setup.config])
    #expect(result.status == 1)
    #expect(result.stderr.contains("AccessTokenExpired"))
    #expect(result.stderr.contains("the access token must be refreshed"))
    #expect(setup.server.store.aborted.isEmpty)
    #expect(setup.server.store.requestLog.total == 1)
    #expect(Self.leaks(result.stdout + result.stderr).isEmpty)
  }
}
