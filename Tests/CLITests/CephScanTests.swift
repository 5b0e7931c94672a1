import Foundation
import ReaperConfig
import ReaperCore
import ReaperProviders
import TestSupport
import Testing

/// `upload-reaper scan` against a real Ceph RGW, as an operator would run it.
@Suite("scan against Ceph RGW", .serialized, .enabled(if: !CephEnvironment.explicitlySkipped))
struct CephScanTests {
  /// A fresh directory for a config, with `credentials` written beside it as `file`, mode 0600.
  static func directory(_ label: String, credentials: Credentials, file: String) throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let path = directory.appendingPathComponent(file).path
    try "access_key_id=\(credentials.accessKeyID ?? "")\nsecret_access_key=\(credentials.secretAccessKey ?? "")\n"
      .write(toFile: path, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    return directory
  }

  @Test func scanReportsEveryUploadOnceAndAbortsOnlyTheOldOnes() async throws {
    guard let ceph = CephEnvironment.current else {
      Issue.record(Comment(rawValue: CephEnvironment.missingMessage))
      return
    }
    let transport = HTTPTransport()
    let client = S3TestClient(endpoint: ceph.endpoint, credentials: ceph.credentials, transport: transport)
    let aged = S3TestClient(
      endpoint: ceph.agedEndpoint, credentials: ceph.credentials, transport: transport, clockOffset: -10 * 86_400)
    let bucket = "reaper-cli-\(UUID().uuidString.prefix(8).lowercased())"
    try await client.createBucket(bucket)
    let old = try await aged.initiateMany(bucket: bucket, keys: (0..<150).map { "logs/old \($0)+x.gz" })
    let fresh = try await client.initiateMany(bucket: bucket, keys: (0..<160).map { "logs/new-\($0).gz" })

    let directory = try Self.directory("ceph-cli", credentials: ceph.credentials, file: "ceph.cred")
    let config = directory.appendingPathComponent("reaper.toml").path
    try """
    [[target]]
    name = "ceph"
    provider = "s3"
    endpoint = "\(ceph.endpoint)"
    region = "us-east-1"
    buckets = ["\(bucket)"]
    credentials_file = "ceph.cred"
    path_style = true

    [[rule]]
    name = "old-logs"
    prefix = "logs/"
    max_age = "7d"
    action = "abort"
    """.write(toFile: config, atomically: true, encoding: .utf8)

    let result = try await CLITests.run(["scan", "--config", config, "--format", "json"])
    #expect(result.status == 0, "\(result.stderr)")
    let lines = try result.stdout.split(separator: "\n").map {
      try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }
    let records = lines.dropLast()
    let ids = records.compactMap { $0["upload_id"] as? String }
    #expect(ids.count == 310)
    #expect(Set(ids).count == ids.count, "every upload exactly once")
    #expect(Set(ids) == Set((old + fresh).map(\.1)))
    let aborted = Set(
      records.filter { $0["outcome"] as? String == "aborted" }.compactMap { $0["upload_id"] as? String })
    #expect(aborted == Set(old.map(\.1)))
    #expect(!result.stdout.contains(ceph.secretKey) && !result.stderr.contains(ceph.secretKey))

    // What the server still holds is the fresh set, exactly.
    let provider = S3Provider(
      target: ceph.target(buckets: [bucket]), credentials: ceph.credentials, transport: transport)
    var left: [String] = []
    for try await page in provider.uploads(bucket: bucket, prefix: "") { left += page.uploads.map(\.uploadID) }
    #expect(Set(left) == Set(fresh.map(\.1)))
    await transport.shutdown()
  }
}
