import Foundation
import ReaperConfig
import ReaperCore
import ReaperSandbox
import Testing

@testable import ReaperProviders

/// The s3 provider against the sandbox's S3 dialect: the same store, faults and checks as CDCS.
@Suite("S3 provider against the sandbox")
struct S3SandboxTests {
  static func provider(
    _ harness: SandboxHarness, buckets: [String], pageSize: Int = 1000, secret: String? = nil
  )
    -> S3Provider
  {
    let target = Target(
      name: "sandbox-s3", provider: .s3, endpoint: harness.endpoint, region: "us-east-1", buckets: buckets,
      credentialsFile: nil, pathStyle: true)
    let credentials = Credentials(
      accessKeyID: SandboxHarness.accessKey, secretAccessKey: secret ?? SandboxHarness.secretKey)
    return S3Provider(target: target, credentials: credentials, transport: harness.transport, pageSize: pageSize)
  }

  static func listAll(_ provider: S3Provider, bucket: String) async throws -> [Upload] {
    var uploads: [Upload] = []
    for try await page in provider.uploads(bucket: bucket, prefix: "") { uploads += page.uploads }
    return uploads
  }

  /// Five uploads under one key, so pages split a key's uploads: the marker pair must carry on exactly.
  static func bucket(pageLimit: Int?) -> SandboxBucket {
    var quirks = CDCSQuirks()
    quirks.pageLimit = pageLimit
    let uploads =
      (0..<5).map { SandboxUpload.aged("same key+1.bin", id: "same-\($0)", age: Double(10_000 - $0)) }
      + ["a b", "上传/文件", "100%", "x&y=z"].enumerated().map { SandboxUpload.aged($1, id: "k-\($0)", age: 500) }
    return SandboxBucket(name: "s3-bucket", quirks: quirks, uploads: uploads)
  }

  @Test func markerPairsNeverSkipOrRepeatUploadsOfOneKey() async throws {
    try await SandboxHarness.with([Self.bucket(pageLimit: 2)]) { harness in
      let listed = try await Self.listAll(Self.provider(harness, buckets: ["s3-bucket"]), bucket: "s3-bucket")
      let expected = harness.store.uploads(in: "s3-bucket")
      #expect(listed.map(\.uploadID) == expected.map(\.uploadID))
      #expect(listed.map(\.key) == expected.map(\.key))
      #expect(harness.store.requestLog.listUploads == 5)
      #expect(harness.store.requestLog.listParameterNames.isSuperset(of: ["key-marker", "upload-id-marker"]))
      #expect(!harness.store.requestLog.listParameterNames.contains("delimiter"))
      #expect(harness.store.requestLog.rejectedSignatures == 0)
    }
  }

  @Test func faultsEndOrRecoverTheWalk() async throws {
    try await SandboxHarness.with([Self.bucket(pageLimit: 2)]) { harness in
      let provider = Self.provider(harness, buckets: ["s3-bucket"])
      harness.store.updateFaults { $0.failNext = 2 }
      let recovered = try await Self.listAll(provider, bucket: "s3-bucket")
      #expect(recovered.count == 9)
      harness.store.updateFaults { $0.stallMarkers = true }
      let stalled = await #expect(throws: ProviderError.self) {
        _ = try await Self.listAll(provider, bucket: "s3-bucket")
      }
      #expect(stalled?.message.contains("did not advance") == true)
      harness.store.updateFaults {
        $0.stallMarkers = false
        $0.truncateNext = 1
      }
      let truncated = await #expect(throws: ProviderError.self) {
        _ = try await Self.listAll(provider, bucket: "s3-bucket")
      }
      #expect(truncated?.kind == .malformedResponse)
    }
  }

  @Test func partsAbortAndWrongSecret() async throws {
    let upload = SandboxUpload.aged("p.bin", id: "p", age: 99_999, parts: [(size: 7, age: 9000), (size: 8, age: 8000)])
    try await SandboxHarness.with([SandboxBucket(name: "s3-parts", uploads: [upload])]) { harness in
      let provider = Self.provider(harness, buckets: ["s3-parts"])
      let listed = try #require(try await Self.listAll(provider, bucket: "s3-parts").first)
      let summary = try await provider.partsSummary(of: listed)
      #expect(summary.bytes == 15)
      #expect(summary.count == 2)
      let first = try await provider.abort(listed)
      let second = try await provider.abort(listed)
      #expect(first == .aborted)
      #expect(second == .gone)
      let wrong = Self.provider(harness, buckets: ["s3-parts"], secret: "nope")
      let error = await #expect(throws: ProviderError.self) { _ = try await Self.listAll(wrong, bucket: "s3-parts") }
      #expect(error?.kind == .accessDenied)
      #expect(error?.code == "SignatureDoesNotMatch")
    }
  }
}

@Suite("S3 addressing and session tokens")
struct S3AddressingTests {
  static func target(_ endpoint: String, pathStyle: Bool) -> Target {
    Target(
      name: "t", provider: .s3, endpoint: endpoint, region: "eu-west-1", buckets: ["b"], credentialsFile: nil,
      pathStyle: pathStyle)
  }

  @Test func pathStyleAndVirtualHosted() async throws {
    let transport = HTTPTransport()
    let credentials = Credentials(accessKeyID: "AK", secretAccessKey: "SK")
    let path = S3Provider(
      target: Self.target("http://127.0.0.1:7480", pathStyle: true), credentials: credentials, transport: transport)
    #expect(path.address(bucket: "b", key: "a b/c") == ("127.0.0.1:7480", "http://127.0.0.1:7480", "/b/a b/c"))
    #expect(path.address(bucket: "b", key: nil) == ("127.0.0.1:7480", "http://127.0.0.1:7480", "/b"))
    let virtual = S3Provider(
      target: Self.target("https://s3.eu-west-1.amazonaws.com", pathStyle: false), credentials: credentials,
      transport: transport)
    #expect(
      virtual.address(bucket: "my-bucket", key: "k")
        == ("my-bucket.s3.eu-west-1.amazonaws.com", "https://my-bucket.s3.eu-west-1.amazonaws.com", "/k"))
    #expect(
      virtual.address(bucket: "my-bucket", key: nil)
        == ("my-bucket.s3.eu-west-1.amazonaws.com", "https://my-bucket.s3.eu-west-1.amazonaws.com", "/"))
    await transport.shutdown()
  }

  @Test func aSessionTokenIsSentAndSigned() async throws {
    let upload = SandboxUpload.aged("k", id: "u", age: 100)
    try await SandboxHarness.with([SandboxBucket(name: "tok", uploads: [upload])]) { harness in
      let target = Target(
        name: "sandbox-s3", provider: .s3, endpoint: harness.endpoint, region: "us-east-1", buckets: ["tok"],
        credentialsFile: nil, pathStyle: true)
      let credentials = Credentials(
        accessKeyID: SandboxHarness.accessKey, secretAccessKey: SandboxHarness.secretKey, sessionToken: "session-xyz")
      let provider = S3Provider(target: target, credentials: credentials, transport: harness.transport)
      var listed: [Upload] = []
      for try await page in provider.uploads(bucket: "tok", prefix: "") { listed += page.uploads }
      #expect(listed.map(\.uploadID) == ["u"])
      #expect(harness.store.requestLog.rejectedSignatures == 0)
      #expect(harness.store.lastSignedHeaders.contains("x-amz-security-token"))
    }
  }
}
