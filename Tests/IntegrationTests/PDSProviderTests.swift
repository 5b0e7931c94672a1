import Foundation
import Logging
import ReaperConfig
import ReaperCore
import ReaperEngine
import ReaperProviders
import ReaperSandbox
import TestSupport
import Testing

/// PDS drives served by the sandbox, with a token it accepts.
enum PDSFixture {
  static let token = "pds-harness-token-that-must-never-print"
  static let hour: TimeInterval = 3600
  static let day: TimeInterval = 86_400

  static func with<T>(_ drives: [SandboxBucket], _ body: (SandboxHarness) async throws -> T) async throws -> T {
    try await SandboxHarness.with(drives) { harness in
      harness.store.setAccessTokens([token])
      return try await body(harness)
    }
  }

  /// An upload whose parts were uploaded `idle` ago, one MiB times the part number each.
  static func upload(
    _ key: String, _ id: String, age: TimeInterval, idle: TimeInterval? = nil, parts: Int = 0
  )
    -> SandboxUpload
  {
    let now = Date()
    return SandboxUpload(
      key: key, uploadID: id, initiated: now.addingTimeInterval(-age),
      parts: (0..<parts).map {
        SandboxPart(
          number: $0 + 1, size: Int64($0 + 1) << 20, lastModified: now.addingTimeInterval(-(idle ?? age)))
      })
  }

  static func environment(_ token: String) -> [String: String] { ["UPLOAD_REAPER_PDS_ACCESS_TOKEN": token] }

  /// Runs one cycle over a pds target through the real provider maker, with a TOML config as an operator
  /// would write it (the token comes from the environment).
  static func cycle(
    _ harness: SandboxHarness, drives: [String], rules: String, safety: String = "",
    wrap: (@Sendable (any UploadProvider) -> any UploadProvider)? = nil
  ) async throws -> (CycleSummary, [UploadRecord]) {
    let config = try config(harness, drives: drives, rules: rules, safety: safety)
    return await run(config, harness: harness, environment: environment(token), wrap: wrap)
  }

  static func config(
    _ harness: SandboxHarness, drives: [String], rules: String, safety: String = "",
    credentialsFile: String? = nil, directory: String = "/tmp"
  ) throws -> ReaperConfig {
    let source = """
      [daemon]
      concurrency = 4
      state_dir = "/tmp"

      [safety]
      \(safety)

      [[target]]
      name = "pds"
      provider = "pds"
      endpoint = "\(harness.endpoint)"
      buckets = [\(drives.map { "\"\($0)\"" }.joined(separator: ", "))]
      \(credentialsFile.map { "credentials_file = \"\($0)\"" } ?? "")

      \(rules)
      """
    return try ConfigLoader.parse(source: source, path: "\(directory)/pds.toml", environment: environment(token))
      .config
  }

  /// One cycle, as the daemon runs each: credentials are read again from their source.
  static func run(
    _ config: ReaperConfig, harness: SandboxHarness, environment: [String: String],
    wrap: (@Sendable (any UploadProvider) -> any UploadProvider)? = nil
  ) async -> (CycleSummary, [UploadRecord]) {
    let sink = CollectingSink()
    let maker = Providers.maker(transport: harness.transport)
    let cycle = Cycle(
      config: config, options: CycleOptions(), environment: environment,
      makeProvider: { target, credentials in
        let provider = try maker(target, credentials)
        return wrap?(provider) ?? provider
      }, sink: sink, logger: Logger(label: "test"))
    let summary = await cycle.run()
    return (summary, await sink.records)
  }
}

extension SandboxHarness {
  func pdsTarget(_ drives: [String]) -> Target {
    Target(
      name: "pds", provider: .pds, endpoint: endpoint, region: "", buckets: drives, credentialsFile: "pds.cred")
  }

  func pdsProvider(
    _ drives: [String], token: String = PDSFixture.token, pageSize: Int = 100, maximumPages: Int = 100_000
  ) -> PDSProvider {
    PDSProvider(
      target: pdsTarget(drives), credentials: Credentials(accessToken: token), transport: transport,
      pageSize: pageSize, maximumPages: maximumPages)
  }

  /// Every upload of a drive, and every record it could not read.
  func walk(
    _ provider: PDSProvider, drive: String, prefix: String = "", within: [String]? = nil
  ) async throws -> (uploads: [Upload], unreadable: [String]) {
    var uploads: [Upload] = []
    var unreadable: [String] = []
    for try await page in provider.uploads(bucket: drive, prefix: prefix, within: within) {
      uploads += page.uploads
      unreadable += page.unreadable
    }
    return (uploads, unreadable)
  }
}

/// Changes the sandbox between the decision and the cancel.
struct HookedPDSProvider: UploadProvider {
  let inner: any UploadProvider
  let beforeAbort: @Sendable (Upload) -> Void

  var target: Target { inner.target }
  func uploads(bucket: String, prefix: String) -> Pages<UploadPage> { inner.uploads(bucket: bucket, prefix: prefix) }
  func uploads(bucket: String, prefix: String, within prefixes: [String]?) -> Pages<UploadPage> {
    inner.uploads(bucket: bucket, prefix: prefix, within: prefixes)
  }
  func parts(of upload: Upload) -> Pages<PartPage> { inner.parts(of: upload) }
  func abort(_ upload: Upload) async throws(ProviderError) -> AbortResult {
    beforeAbort(upload)
    return try await inner.abort(upload)
  }
}

private let hour = PDSFixture.hour
private let day = PDSFixture.day

@Suite("PDS provider against the sandbox")
struct PDSProviderTests {

  // MARK: parts

  @Test("parts over three pages, with string or numeric markers", arguments: [false, true])
  func partsAcrossThreePages(numericMarkers: Bool) async throws {
    let now = Date()
    let parts = (1...250).map { SandboxPart(number: $0, size: Int64($0) * 1_000_003, lastModified: now) }
    let upload = SandboxUpload(
      key: "视频/big file.mov", uploadID: "U-big", initiated: now.addingTimeInterval(-day), parts: parts)
    var quirks = PDSQuirks()
    quirks.numericPartMarkers = numericMarkers
    try await PDSFixture.with([SandboxBucket(name: "1", uploads: [upload], pds: quirks)]) { harness in
      let provider = harness.pdsProvider(["1"])
      let listed = try #require(try await harness.walk(provider, drive: "1").uploads.first)
      let summary = try await provider.partsSummary(of: listed)
      #expect(summary.count == 250)
      #expect(summary.bytes == Int64((1...250).reduce(0, +)) * 1_000_003)
      #expect(summary.highestPartNumber == 250)
      // PDS parts carry no time: idle comes from the file's updated_at instead.
      #expect(summary.newestModified == nil)
      #expect(harness.store.requestLog.listParts == 3)
    }
  }

  @Test func aStalledPartMarkerIsAnErrorNotALoop() async throws {
    let upload = PDSFixture.upload("a.bin", "U1", age: day, parts: 9)
    var quirks = PDSQuirks()
    quirks.partsPageLimit = 2
    try await PDSFixture.with([SandboxBucket(name: "1", uploads: [upload], pds: quirks)]) { harness in
      let provider = harness.pdsProvider(["1"])
      let listed = try #require(try await harness.walk(provider, drive: "1").uploads.first)
      harness.store.updateFaults { $0.stallMarkers = true }
      let error = await #expect(throws: ProviderError.self) { _ = try await provider.partsSummary(of: listed) }
      #expect(error?.kind == .malformedResponse)
      #expect(error?.message.contains("did not advance") == true)
      #expect(harness.store.requestLog.listParts == 2)
    }
  }

  // MARK: walking

  /// Three levels of folders below the root, each level with more entries than a page holds, in both the
  /// uploading and the default listing, with CJK and space names.
  static func deepDrive() -> (bucket: SandboxBucket, uploadKeys: [String], folders: Set<String>) {
    let levels = ["照片 2024/", "照片 2024/夏天 旅行/", "照片 2024/夏天 旅行/第 3 天/"]
    var uploads: [SandboxUpload] = []
    var files: [SandboxFile] = []
    var counter = 0
    for folder in [""] + levels {
      for index in 0..<5 {
        counter += 1
        uploads.append(PDSFixture.upload("\(folder)上传 \(index).mov", "U-\(counter)", age: 3 * day, parts: 1))
        files.append(SandboxFile(key: "\(folder)完成 \(index).jpg", size: 100, created: Date()))
      }
      // Sibling folders at every level, so folder pages also run past one page.
      for sibling in 0..<3 {
        files.append(SandboxFile(key: "\(folder)sib \(sibling)/x.jpg", size: 1, created: Date()))
      }
    }
    var quirks = PDSQuirks()
    quirks.pageLimit = 2
    let bucket = SandboxBucket(name: "drive-1", uploads: uploads, files: files, pds: quirks)
    let folders = Set(
      ["/"] + levels + ([""] + levels).flatMap { folder in (0..<3).map { "\(folder)sib \($0)/" } })
    return (bucket, uploads.map(\.key), folders)
  }

  @Test func aDeepDriveIsWalkedPageByPageAtEveryLevel() async throws {
    let (bucket, keys, folders) = Self.deepDrive()
    try await PDSFixture.with([bucket]) { harness in
      let provider = harness.pdsProvider([bucket.name])
      let (uploads, unreadable) = try await harness.walk(provider, drive: bucket.name)
      #expect(unreadable.isEmpty)
      #expect(Set(uploads.map(\.key)) == Set(keys))
      #expect(uploads.count == keys.count, "every upload exactly once")
      #expect(uploads.contains { $0.key == "照片 2024/夏天 旅行/第 3 天/上传 4.mov" })
      let log = harness.store.requestLog
      #expect(log.listedFolders == folders)
      // Uploads in pages of two: 5 make 3 pages in each of the four levels, and each sibling folder answers one
      // empty page.
      let siblings = folders.count - 4
      #expect(log.listUploads == 4 * 3 + siblings)
      // Entries: the three upper levels hold 5 files and 4 folders (5 pages), the deepest 5 files and 3 folders
      // (4 pages), each sibling folder one file (1 page).
      #expect(log.listFolders == 3 * 5 + 4 + siblings)
      for upload in uploads {
        let original = try #require(harness.store.uploads(in: bucket.name).first { $0.uploadID == upload.uploadID })
        #expect(upload.handle == original.fileID)
        #expect(upload.bucket == bucket.name)
        #expect(abs(upload.initiated.timeIntervalSince(original.initiated)) < 0.001)
        #expect(upload.lastActivity?.source == "updated_at")
        #expect(abs((upload.lastActivity?.date ?? .distantPast).timeIntervalSince(original.updated)) < 0.001)
      }
    }
  }

  @Test func foldersNoRuleReachesAreNotListed() async throws {
    let (bucket, keys, _) = Self.deepDrive()
    try await PDSFixture.with([bucket]) { harness in
      let provider = harness.pdsProvider([bucket.name])
      let prefix = "照片 2024/夏天 旅行/第"
      let (uploads, _) = try await harness.walk(provider, drive: bucket.name, within: [prefix])
      // The root is listed for its uploads (the cycle sees them, unmatched); below it, only the folders on the
      // way to the prefix and those under it. The folder the prefix ends in is listed for uploads (a file named
      // "第…" would match) but none of its other subfolders is entered.
      let deepest = "照片 2024/夏天 旅行/第 3 天/"
      #expect(
        harness.store.requestLog.listedFolders
          == Set(["/", "照片 2024/", "照片 2024/夏天 旅行/", deepest] + (0..<3).map { "\(deepest)sib \($0)/" }))
      let expected = keys.filter { key in
        let parent = key.split(separator: "/").dropLast().map { $0 + "/" }.joined()
        return ["", "照片 2024/夏天 旅行/", deepest].contains(parent)
      }
      #expect(Set(uploads.map(\.key)) == Set(expected))
      #expect(uploads.allSatisfy { !$0.key.hasPrefix("照片 2024/上传") })
    }
  }

  @Test func noRulesListTheRootAndNothingElse() async throws {
    let (bucket, _, _) = Self.deepDrive()
    try await PDSFixture.with([bucket]) { harness in
      let provider = harness.pdsProvider([bucket.name])
      let (uploads, _) = try await harness.walk(provider, drive: bucket.name, within: [])
      #expect(uploads.count == 5)
      #expect(harness.store.requestLog.total == 3)
      #expect(harness.store.requestLog.listedFolders == ["/"])
    }
  }

  @Test func theWalkIsBoundedByThePageLimit() async throws {
    let (bucket, _, _) = Self.deepDrive()
    try await PDSFixture.with([bucket]) { harness in
      let provider = harness.pdsProvider([bucket.name], maximumPages: 7)
      let error = await #expect(throws: ProviderError.self) { _ = try await harness.walk(provider, drive: bucket.name) }
      #expect(error?.message.contains("page limit 7") == true)
      #expect(harness.store.requestLog.total == 7)
    }
  }

  @Test func aStalledFolderMarkerEndsTheWalk() async throws {
    let (bucket, _, _) = Self.deepDrive()
    try await PDSFixture.with([bucket]) { harness in
      harness.store.updateFaults { $0.stallMarkers = true }
      let error = await #expect(throws: ProviderError.self) {
        _ = try await harness.walk(harness.pdsProvider([bucket.name]), drive: bucket.name)
      }
      #expect(error?.kind == .malformedResponse)
      #expect(error?.message.contains("did not advance") == true)
      #expect(harness.store.requestLog.total == 2)
    }
  }

  /// A file record without `updated_at` says nothing about when it last changed: idle is unknown, not measured
  /// from `created_at` (which would make an upload written to an hour ago look days idle), and it is kept.
  @Test func withoutUpdatedAtIdleIsUnknownAndTheUploadKept() async throws {
    var quirks = PDSQuirks()
    quirks.omitUpdatedAt = true
    let upload = PDSFixture.upload("相册/a.mov", "U1", age: 5 * day, idle: 2 * hour, parts: 2)
    try await PDSFixture.with([SandboxBucket(name: "1", uploads: [upload], pds: quirks)]) { harness in
      let (uploads, _) = try await harness.walk(harness.pdsProvider(["1"]), drive: "1")
      #expect(uploads.first?.lastActivity == nil)
      #expect(uploads.first?.idleUnknown == "the server sent no updated_at")
      let (summary, records) = try await PDSFixture.cycle(
        harness, drives: ["1"],
        rules: """
          [[rule]]
          name = "album"
          max_age = "3d"
          max_idle = "1d"
          action = "report"
          """)
      #expect(summary.errors.isEmpty)
      #expect(records.first?.decision == .keep)
      #expect(records.first?.reason == "idle time unknown: the server sent no updated_at")
    }
  }

  // MARK: cancelling

  @Test func aFileThatCompletesBetweenListingAndCancellingSurvives() async throws {
    for recheck in [true, false] {
      let uploads =
        [
          PDSFixture.upload("相册/假期/finishing.mov", "U-finishing", age: 4 * day, parts: 2),
          PDSFixture.upload("相册/假期/stale.mov", "U-stale", age: 4 * day, parts: 1),
        ] + (0..<3).map { PDSFixture.upload("相册/假期/new \($0).mov", "U-new-\($0)", age: hour) }
      try await PDSFixture.with([SandboxBucket(name: "1", uploads: uploads)]) { harness in
        let finishing = try #require(uploads.first)
        harness.store.updateFaults { $0.completeOnGet = [finishing.key] }
        let (summary, records) = try await PDSFixture.cycle(
          harness, drives: ["1"], rules: "[[rule]]\nname = \"old\"\nmax_age = \"2d\"\naction = \"abort\"",
          safety: "recheck_before_abort = \(recheck)")
        #expect(summary.errors.isEmpty, "\(summary.errors)")
        #expect(summary.aborted == 1)
        let record = try #require(records.first { $0.upload.uploadID == "U-finishing" })
        #expect(record.outcome == .gone, "\(record.reason)")
        // Read back from the sandbox: only the stale file was deleted, and the finished one is there, complete.
        let state = try await Self.sandboxState(harness)
        let deleted = try #require(state["aborted"] as? [[String: Any]])
        #expect(deleted.compactMap { $0["fileID"] as? String } == [uploads[1].fileID])
        let kept = try #require((state["files"] as? [String: Any])?["1"] as? [[String: Any]])
        #expect(kept.compactMap { $0["fileID"] as? String } == [finishing.fileID])
        #expect(harness.store.requestLog.gets == 2)
      }
    }
  }

  @Test func aFileWrittenToAfterTheListingIsSkipped() async throws {
    let upload = PDSFixture.upload("tmp/slow.bin", "U-slow", age: 4 * day, parts: 1)
    try await PDSFixture.with([SandboxBucket(name: "1", uploads: [upload])]) { harness in
      let provider = harness.pdsProvider(["1"])
      let listed = try #require(try await harness.walk(provider, drive: "1").uploads.first)
      var resumed = upload
      resumed.parts.append(SandboxPart(number: 2, size: 1, lastModified: Date()))
      harness.store.put([resumed], in: "1")
      let result = try await provider.abort(listed)
      guard case .changed(let reason) = result else {
        Issue.record("expected changed, got \(result)")
        return
      }
      #expect(reason.contains("written to since it was listed"))
      #expect(harness.store.aborted.isEmpty)
      #expect(harness.store.requestLog.aborts == 0)
    }
  }

  @Test("delete: 204 or 202 is done, then NotFound.File is gone", arguments: [false, true])
  func deleteThenDeleteAgain(async: Bool) async throws {
    var quirks = PDSQuirks()
    quirks.asyncDelete = async
    let upload = PDSFixture.upload("a b/c.bin", "U1", age: 4 * day)
    try await PDSFixture.with([SandboxBucket(name: "1", uploads: [upload], pds: quirks)]) { harness in
      let provider = harness.pdsProvider(["1"])
      let listed = try #require(try await harness.walk(provider, drive: "1").uploads.first)
      #expect(try await provider.abort(listed) == .aborted)
      #expect(try await provider.abort(listed) == .gone)
      #expect(harness.store.aborted.map(\.fileID) == [upload.fileID])
      #expect(harness.store.aborted.first?.permanently == true)
      #expect(harness.store.aborted.first?.key == "a b/c.bin")
    }
  }

  @Test("NotFound.UploadId is gone whatever its status, in either spelling", arguments: [404, 400])
  func notFoundUploadIDIsGone(status: Int) async throws {
    var quirks = PDSQuirks()
    quirks.missingUploadStatus = status
    let upload = PDSFixture.upload("a.bin", "U1", age: 4 * day, parts: 1)
    try await PDSFixture.with([SandboxBucket(name: "1", uploads: [upload], pds: quirks)]) { harness in
      let provider = harness.pdsProvider(["1"])
      let listed = try #require(try await harness.walk(provider, drive: "1").uploads.first)
      var ghost = listed
      ghost.uploadID = "U-other"
      // Two in a row: the sandbox alternates `code` and `Code`.
      for _ in 0..<2 {
        let error = await #expect(throws: ProviderError.self) { _ = try await provider.partsSummary(of: ghost) }
        #expect(error?.kind == .gone)
        #expect(error?.code == "NotFound.UploadId")
        #expect(error?.status == status)
      }
      harness.store.complete(uploadID: "U1", in: "1")
      let error = await #expect(throws: ProviderError.self) { _ = try await provider.partsSummary(of: listed) }
      #expect(error?.kind == .gone)
    }
  }

  @Test func aFinishedOldFileIsNeverTouched() async throws {
    let old = Date().addingTimeInterval(-400 * day)
    let files = [
      SandboxFile(key: "tmp/finished long ago.bin", size: 1 << 30, created: old),
      SandboxFile(key: "finished at the root.bin", size: 1, created: old),
    ]
    let uploads = [
      PDSFixture.upload("tmp/stale.bin", "U-stale", age: 4 * day),
      PDSFixture.upload("tmp/fresh.bin", "U-fresh", age: hour),
      PDSFixture.upload("tmp/fresh 2.bin", "U-fresh-2", age: hour),
    ]
    try await PDSFixture.with([SandboxBucket(name: "1", uploads: uploads, files: files)]) { harness in
      let (summary, records) = try await PDSFixture.cycle(
        harness, drives: ["1"], rules: "[[rule]]\nname = \"all\"\nmax_age = \"1d\"\naction = \"abort\"")
      #expect(summary.errors.isEmpty)
      #expect(summary.uploadsSeen == 3)
      #expect(records.map(\.upload.uploadID).sorted() == ["U-fresh", "U-fresh-2", "U-stale"])
      #expect(harness.store.aborted.map(\.fileID) == [uploads[0].fileID])
      #expect(harness.store.files(in: "1") == files)
    }
  }

  // MARK: tokens and errors

  @Test func anExpiredTokenFailsTheTargetWithAClearErrorAndNoDeletes() async throws {
    let drives = ["1", "2"].map {
      SandboxBucket(name: $0, uploads: [PDSFixture.upload("tmp/old.bin", "U-\($0)", age: 4 * day)])
    }
    try await PDSFixture.with(drives) { harness in
      harness.store.updateFaults { $0.expireTokens = true }
      let (summary, records) = try await PDSFixture.cycle(
        harness, drives: ["1", "2"], rules: "[[rule]]\nname = \"all\"\nmax_age = \"1d\"\naction = \"abort\"")
      #expect(summary.failedTargets == ["pds"])
      #expect(records.isEmpty)
      #expect(summary.errors.count == 2)
      let first = try #require(summary.errors.first)
      #expect(first.contains("HTTP 401 AccessTokenExpired"))
      #expect(first.contains("the access token must be refreshed"))
      #expect(first.contains("read again at the start of every cycle"))
      // The second drive is not even asked: one refused token ends the target's cycle, with no retries.
      #expect(summary.errors.last?.contains("refused earlier in this cycle") == true)
      #expect(harness.store.requestLog.total == 1)
      #expect(harness.store.aborted.isEmpty)
      for error in summary.errors { #expect(!error.contains(PDSFixture.token)) }
    }
  }

  @Test func aTokenThatExpiresMidCycleDeletesNothingMore() async throws {
    let uploads =
      (0..<3).map { PDSFixture.upload("tmp/old \($0).bin", "U-old-\($0)", age: 4 * day) }
      + (0..<4).map { PDSFixture.upload("tmp/new \($0).bin", "U-new-\($0)", age: hour) }
    try await PDSFixture.with([SandboxBucket(name: "1", uploads: uploads)]) { harness in
      let store = harness.store
      let (summary, records) = try await PDSFixture.cycle(
        harness, drives: ["1"], rules: "[[rule]]\nname = \"all\"\nmax_age = \"1d\"\naction = \"abort\"",
        safety: "recheck_before_abort = false",
        wrap: { provider in
          HookedPDSProvider(inner: provider) { _ in store.updateFaults { $0.expireTokens = true } }
        })
      #expect(summary.aborted == 0)
      #expect(summary.abortFailed == 3)
      #expect(records.filter { $0.outcome == .failed }.allSatisfy { $0.reason.contains("refreshed") })
      #expect(store.aborted.isEmpty)
      #expect(store.requestLog.aborts == 0)
      // Concurrency 4 lets the three re-reads go out together; none of them is retried.
      #expect(store.requestLog.rejectedTokens <= 3)
    }
  }

  @Test func aRotatedTokenIsPickedUpByTheNextCycle() async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pds-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let credentials = directory.appendingPathComponent("pds.cred").path
    func write(_ token: String) throws {
      try "access_token=\(token)\n".write(toFile: credentials, atomically: true, encoding: .utf8)
      try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: credentials)
    }
    let drive = SandboxBucket(name: "1", uploads: [PDSFixture.upload("a.bin", "U1", age: hour)])
    try await PDSFixture.with([drive]) { harness in
      try write("token-one")
      // The config is read once, as the daemon reads it; each cycle reads the credentials file again.
      let config = try PDSFixture.config(
        harness, drives: ["1"], rules: "[[rule]]\nname = \"all\"\nmax_age = \"1d\"\naction = \"report\"",
        credentialsFile: "pds.cred", directory: directory.path)
      func cycle() async -> CycleSummary { await PDSFixture.run(config, harness: harness, environment: [:]).0 }
      harness.store.setAccessTokens(["token-one"])
      #expect(await cycle().errors.isEmpty)
      // The token service moves on; the file still holds the old token.
      harness.store.setAccessTokens(["token-two"])
      let refused = await cycle()
      #expect(refused.failedTargets == ["pds"])
      #expect(refused.errors.first?.contains("put a fresh access_token in the credentials file pds.cred") == true)
      // The refresher rewrites the file: the next cycle reads it, with no reload.
      try write("token-two")
      let recovered = await cycle()
      #expect(recovered.errors.isEmpty)
      #expect(recovered.uploadsSeen == 1)
    }
  }

  @Test func aBurstOf429sIsRidenOutWithRetryAfter() async throws {
    let (bucket, keys, _) = Self.deepDrive()
    try await PDSFixture.with([bucket]) { harness in
      harness.store.updateFaults { $0.throttleNext = 3 }
      let (uploads, _) = try await harness.walk(harness.pdsProvider([bucket.name]), drive: bucket.name)
      #expect(Set(uploads.map(\.key)) == Set(keys))
      let log = harness.store.requestLog
      #expect(log.total == log.listUploads + log.listFolders + 3)
      #expect(harness.store.faults.throttleNext == 0)
    }
  }

  @Test func aMissingDriveAndAForbiddenDriveFailOnlyThemselves() async throws {
    let drives = [SandboxBucket(name: "ok", uploads: [PDSFixture.upload("a.bin", "U1", age: hour)])]
    try await PDSFixture.with(drives + [SandboxBucket(name: "denied", uploads: [])]) { harness in
      harness.store.updateFaults { $0.denyBuckets = ["denied"] }
      let provider = harness.pdsProvider(["ok", "missing", "denied"])
      let missing = await #expect(throws: ProviderError.self) { _ = try await harness.walk(provider, drive: "missing") }
      #expect(missing?.kind == .notFound)
      #expect(missing?.code == "NotFound.Drive")
      let denied = await #expect(throws: ProviderError.self) { _ = try await harness.walk(provider, drive: "denied") }
      #expect(denied?.kind == .accessDenied)
      let found = try await harness.walk(provider, drive: "ok").uploads
      #expect(found.count == 1)
    }
  }

  static func sandboxState(_ harness: SandboxHarness) async throws -> [String: Any] {
    let response = harness.store.handle(SandboxRequest(method: "GET", uri: "/_sandbox/state", headers: []))
    return try #require(JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
  }
}
