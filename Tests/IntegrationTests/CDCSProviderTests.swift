import Foundation
import ReaperConfig
import ReaperCore
import ReaperProviders
import ReaperSandbox
import Testing

@Suite("CDCS provider against the sandbox")
struct CDCSProviderTests {
  static let hour: TimeInterval = 3600
  static let awkwardKeys = [
    "a b.bin", "a+b.bin", "100%.bin", "this&that.bin", "上传/文件.bin", "plain.bin", "tmp/x=y?.bin", "~tilde",
  ]

  /// 17 uploads, three under one key, with keys that need encoding.
  static func awkwardBucket(pageLimit: Int?) -> SandboxBucket {
    var uploads: [SandboxUpload] = []
    for (index, key) in awkwardKeys.enumerated() {
      uploads.append(.aged(key, id: "u-\(index)-a", age: Double(index + 1) * hour))
      uploads.append(.aged(key, id: "u-\(index)-b", age: Double(index + 1) * hour - 60))
    }
    uploads.append(.aged("a b.bin", id: "u-0-c", age: 30))
    var quirks = CDCSQuirks()
    quirks.pageLimit = pageLimit
    return SandboxBucket(name: "coffer-1250000000", quirks: quirks, uploads: uploads)
  }

  @Test func pagesAcrossShortTruncatedPagesWithEncodedKeys() async throws {
    let bucket = Self.awkwardBucket(pageLimit: 3)
    #expect(bucket.uploads.count >= 15)
    try await SandboxHarness.with([bucket]) { harness in
      let provider = harness.provider([bucket.name])
      let listed = try await harness.listAll(provider, bucket: bucket.name)
      let expected = harness.store.uploads(in: bucket.name)
      #expect(listed.map(\.uploadID) == expected.map(\.uploadID))
      #expect(listed.map(\.key) == expected.map(\.key))
      for (upload, original) in zip(listed, expected) {
        #expect(abs(upload.initiated.timeIntervalSince(original.initiated)) < 1)
      }
      // Three uploads under one key survive the page boundaries.
      #expect(listed.filter { $0.key == "a b.bin" }.count == 3)
      let log = harness.store.requestLog
      #expect(log.listUploads == (expected.count + 2) / 3)
      #expect(log.listUploads >= 5)
      #expect(log.rejectedSignatures == 0)
      #expect(!log.listParameterNames.contains("delimiter"))
    }
  }

  @Test func prefixFiltersOnTheServer() async throws {
    let bucket = Self.awkwardBucket(pageLimit: 2)
    try await SandboxHarness.with([bucket]) { harness in
      let listed = try await harness.listAll(harness.provider([bucket.name]), bucket: bucket.name, prefix: "上传/")
      #expect(listed.map(\.key) == ["上传/文件.bin", "上传/文件.bin"])
    }
  }

  @Test(
    "every list quirk at once",
    arguments: [false, true])
  func listQuirks(alternate: Bool) async throws {
    var quirks = CDCSQuirks()
    quirks.initiatedFormat = alternate ? .rfc1123 : .ctime
    quirks.serverZoneSeconds = alternate ? 0 : 8 * 3600
    quirks.truncatedAsString = !alternate
    quirks.maxUploadsAsString = alternate
    quirks.uploadIDField = alternate ? "UploadID" : "UploadId"
    quirks.singleUploadAsObject = true
    quirks.contentType = alternate ? "text/plain" : "application/xml"
    quirks.pageLimit = 1
    let uploads = [SandboxUpload.aged("k1", id: "i1", age: 7200), .aged("k2", id: "i2", age: 3600)]
    try await SandboxHarness.with([SandboxBucket(name: "q-1", quirks: quirks, uploads: uploads)]) { harness in
      let zone: Zone = alternate ? .utc : .fixed(secondsEast: 8 * 3600)
      let provider = CDCSProvider(
        target: harness.target(["q-1"], zone: zone), credentials: SandboxHarness.credentials,
        transport: harness.transport)
      let listed = try await harness.listAll(provider, bucket: "q-1")
      #expect(listed.map(\.uploadID) == ["i1", "i2"])
      for (upload, original) in zip(listed, uploads) {
        #expect(abs(upload.initiated.timeIntervalSince(original.initiated)) < 1)
      }
    }
  }

  @Test func partsPagedInJSONAndXML() async throws {
    for asXML in [false, true] {
      var quirks = CDCSQuirks()
      quirks.partsAsXML = asXML
      let parts = (1...2500).map { (size: Int64($0), age: TimeInterval(10_000 - $0)) }
      let upload = SandboxUpload.aged("big file.bin", id: "big", age: 20_000, parts: parts)
      try await SandboxHarness.with([SandboxBucket(name: "p-1", quirks: quirks, uploads: [upload])]) { harness in
        let provider = harness.provider(["p-1"])
        let listed = try await harness.listAll(provider, bucket: "p-1")
        let summary = try await provider.partsSummary(of: try #require(listed.first))
        #expect(summary.count == 2500)
        #expect(summary.bytes == (1...2500).reduce(0, +))
        #expect(summary.highestPartNumber == 2500)
        #expect(abs(summary.newestModified!.timeIntervalSince(upload.parts.last!.lastModified)) < 1)
        #expect(harness.store.requestLog.listParts == 3)
      }
    }
  }

  @Test func a503BurstThenSuccess() async throws {
    let bucket = Self.awkwardBucket(pageLimit: 5)
    try await SandboxHarness.with([bucket]) { harness in
      harness.store.updateFaults { $0.failNext = 3 }
      let listed = try await harness.listAll(harness.provider([bucket.name]), bucket: bucket.name)
      #expect(listed.count == bucket.uploads.count)
      // Three refused requests, then every page once.
      #expect(harness.store.requestLog.total == harness.store.requestLog.listUploads + 3)
      #expect(harness.store.faults.failNext == 0)
    }
  }

  @Test func tooManyFailuresEndTheWalkWithARetryableError() async throws {
    let bucket = Self.awkwardBucket(pageLimit: 5)
    try await SandboxHarness.with([bucket]) { harness in
      harness.store.updateFaults { $0.failNext = 100 }
      let error = await #expect(throws: ProviderError.self) {
        _ = try await harness.listAll(harness.provider([bucket.name]), bucket: bucket.name)
      }
      #expect(error?.kind == .retryable)
      #expect(error?.status == 503)
      #expect(error?.requestID?.hasPrefix("sandbox-") == true)
      #expect(
        error?.description.contains("target sandbox, bucket coffer-1250000000: GET /coffer-1250000000?uploads") == true)
      // Exactly the tries allowed, no more: six by default since reads must outlast one request in seven failing.
      #expect(harness.store.requestLog.total == HTTPSettings().maxAttempts)
    }
  }

  @Test func throttledWithRetryAfterThenSuccess() async throws {
    let bucket = Self.awkwardBucket(pageLimit: nil)
    try await SandboxHarness.with([bucket]) { harness in
      harness.store.updateFaults { $0.throttleNext = 1 }
      let started = Date()
      let listed = try await harness.listAll(harness.provider([bucket.name]), bucket: bucket.name)
      #expect(listed.count == bucket.uploads.count)
      // The sandbox says Retry-After: 1, far longer than the test backoff: the header was honoured.
      #expect(Date().timeIntervalSince(started) >= 0.9)
    }
  }

  @Test func aConnectionResetMidBodyIsRetried() async throws {
    let bucket = Self.awkwardBucket(pageLimit: 4)
    try await SandboxHarness.with([bucket]) { harness in
      harness.store.updateFaults { $0.resetNext = 2 }
      let listed = try await harness.listAll(harness.provider([bucket.name]), bucket: bucket.name)
      #expect(listed.map(\.uploadID) == harness.store.uploads(in: bucket.name).map(\.uploadID))
    }
  }

  @Test func aTruncatedBodyIsAMalformedResponse() async throws {
    let bucket = Self.awkwardBucket(pageLimit: 4)
    try await SandboxHarness.with([bucket]) { harness in
      harness.store.updateFaults { $0.truncateNext = 1 }
      let error = await #expect(throws: ProviderError.self) {
        _ = try await harness.listAll(harness.provider([bucket.name]), bucket: bucket.name)
      }
      #expect(error?.kind == .malformedResponse)
      #expect(error?.message.contains("not valid JSON") == true)
    }
  }

  @Test func aStalledMarkerEndsTheWalkInsteadOfLooping() async throws {
    let bucket = Self.awkwardBucket(pageLimit: 3)
    try await SandboxHarness.with([bucket]) { harness in
      harness.store.updateFaults { $0.stallMarkers = true }
      let error = await #expect(throws: ProviderError.self) {
        _ = try await harness.listAll(harness.provider([bucket.name]), bucket: bucket.name)
      }
      #expect(error?.kind == .malformedResponse)
      #expect(error?.message.contains("did not advance") == true)
      #expect(harness.store.requestLog.listUploads == 2)
    }
  }

  @Test func aPageServedTwiceEndsTheWalk() async throws {
    let bucket = Self.awkwardBucket(pageLimit: 3)
    try await SandboxHarness.with([bucket]) { harness in
      harness.store.updateFaults { $0.repeatFirstPageNext = 1 }
      let error = await #expect(throws: ProviderError.self) {
        _ = try await harness.listAll(harness.provider([bucket.name]), bucket: bucket.name)
      }
      #expect(error?.message.contains("did not advance") == true)
    }
  }

  @Test func abortThenAbortAgainIsGone() async throws {
    let upload = SandboxUpload.aged("tmp/a b+c.bin", id: "doomed", age: 99_999)
    try await SandboxHarness.with([SandboxBucket(name: "a-1", uploads: [upload])]) { harness in
      let provider = harness.provider(["a-1"])
      let listed = try #require(try await harness.listAll(provider, bucket: "a-1").first)
      #expect(try await provider.abort(listed) == .aborted)
      #expect(try await provider.abort(listed) == .gone)
      #expect(harness.store.aborted.map(\.uploadID) == ["doomed"])
      #expect(harness.store.aborted.map(\.key) == ["tmp/a b+c.bin"])
      let error = await #expect(throws: ProviderError.self) { _ = try await provider.partsSummary(of: listed) }
      #expect(error?.kind == .gone)
    }
  }

  @Test func errorsInXMLAreClassifiedToo() async throws {
    var quirks = CDCSQuirks()
    quirks.errorsAsXML = true
    let upload = SandboxUpload.aged("k", id: "u", age: 99_999)
    try await SandboxHarness.with([SandboxBucket(name: "x-1", quirks: quirks, uploads: [upload])]) { harness in
      let provider = harness.provider(["x-1"])
      let ghost = Upload(target: "sandbox", bucket: "x-1", key: "k", uploadID: "nope", initiated: Date())
      let result = try await provider.abort(ghost)
      #expect(result == .gone)
    }
  }

  @Test func wrongCredentialsAreAccessDeniedWithoutRetries() async throws {
    let bucket = Self.awkwardBucket(pageLimit: nil)
    try await SandboxHarness.with([bucket]) { harness in
      let wrong = Credentials(accessKeyID: SandboxHarness.accessKey, secretAccessKey: "not-the-secret")
      let error = await #expect(throws: ProviderError.self) {
        _ = try await harness.listAll(harness.provider([bucket.name], credentials: wrong), bucket: bucket.name)
      }
      #expect(error?.kind == .accessDenied)
      #expect(error?.code == "SignatureDoesNotMatch")
      #expect(error?.description.contains("not-the-secret") == false)
      #expect(harness.store.requestLog.total == 1)
    }
  }

  @Test func aDeniedCofferIsAccessDenied() async throws {
    let bucket = Self.awkwardBucket(pageLimit: nil)
    try await SandboxHarness.with([bucket]) { harness in
      harness.store.updateFaults { $0.denyBuckets = [bucket.name] }
      let error = await #expect(throws: ProviderError.self) {
        _ = try await harness.listAll(harness.provider([bucket.name]), bucket: bucket.name)
      }
      #expect(error?.kind == .accessDenied)
      #expect(error?.status == 403)
    }
  }
}
