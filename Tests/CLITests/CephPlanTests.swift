import Foundation
import ReaperCore
import ReaperProviders
import TestSupport
import Testing

/// Issue 20's "done when": on a real Ceph RGW a plan is made; one planned upload completes and a new stale one
/// appears; `apply` then aborts exactly the rest of the plan and neither of those two; a plan from another
/// config is refused. In the `scan` suite, so it runs serialized with it and `--skip CephScanTests` skips it too.
extension CephScanTests {
  @Test func applyAbortsExactlyTheRestOfAPlanMadeOnCeph() async throws {
    guard let ceph = CephEnvironment.current else {
      Issue.record(Comment(rawValue: CephEnvironment.missingMessage))
      return
    }
    let transport = HTTPTransport()
    let client = S3TestClient(endpoint: ceph.endpoint, credentials: ceph.credentials, transport: transport)
    let aged = S3TestClient(
      endpoint: ceph.agedEndpoint, credentials: ceph.credentials, transport: transport, clockOffset: -10 * 86_400)
    let bucket = "reaper-plan-\(UUID().uuidString.prefix(8).lowercased())"
    try await client.createBucket(bucket)
    let old = try await aged.initiateMany(bucket: bucket, keys: (0..<12).map { "tmp/old-\($0).bin" })
    let fresh = try await client.initiateMany(bucket: bucket, keys: (0..<12).map { "tmp/new-\($0).bin" })

    let directory = try Self.directory("ceph-plan", credentials: ceph.credentials, file: "ceph.cred")
    func writeConfig(_ name: String, maxAge: String) throws -> String {
      let path = directory.appendingPathComponent(name).path
      try """
      [daemon]
      state_dir = "\(directory.path)/state"

      [[target]]
      name = "ceph"
      provider = "s3"
      endpoint = "\(ceph.endpoint)"
      region = "us-east-1"
      buckets = ["\(bucket)"]
      credentials_file = "ceph.cred"
      path_style = true

      [[rule]]
      name = "old-tmp"
      prefix = "tmp/"
      max_age = "\(maxAge)"
      action = "abort"
      """.write(toFile: path, atomically: true, encoding: .utf8)
      return path
    }
    let config = try writeConfig("reaper.toml", maxAge: "7d")
    let other = try writeConfig("other.toml", maxAge: "8d")
    let planPath = directory.appendingPathComponent("plan.json").path

    let made = try await CLITests.run(["scan", "--config", config, "--plan", planPath])
    #expect(made.status == 0, "\(made.stderr)")
    let plan = try PlanJSON.parse(Data(contentsOf: URL(fileURLWithPath: planPath)))
    #expect(Set(plan.entries.map(\.uploadID)) == Set(old.map(\.1)), "the plan is the old set, exactly")

    // One planned upload completes, as its client would; a new stale one appears.
    let (completedKey, completedID) = old[0]
    try await client.uploadPart(bucket: bucket, key: completedKey, uploadID: completedID, number: 1, size: 1024)
    let parts = try await client.request(
      .GET, path: "/\(bucket)/\(completedKey)", query: [("uploadId", completedID)])
    var etag: String?
    _ = StreamingXML.parse(parts.body) { path, text in if path.last == "ETag" { etag = text } }
    let tag = try #require(etag, "no ETag in \(String(decoding: parts.body, as: UTF8.self))")
    let body =
      "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\(tag)</ETag></Part></CompleteMultipartUpload>"
    try await client.request(
      .POST, path: "/\(bucket)/\(completedKey)", query: [("uploadId", completedID)], body: Array(body.utf8))
    let newer = try await aged.initiateMany(bucket: bucket, keys: ["tmp/late-stale.bin"])

    let refused = try await CLITests.run(["apply", "--config", other, planPath])
    #expect(refused.status == 2)
    #expect(refused.stderr.contains("another config"), "\(refused.stderr)")

    let applied = try await CLITests.run(["apply", "--config", config, "--format", "json", planPath])
    #expect(applied.status == 0, "\(applied.stderr)")
    #expect(!applied.stdout.contains(ceph.secretKey) && !applied.stderr.contains(ceph.secretKey))
    let records = try applied.stdout.split(separator: "\n").map {
      try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }.dropLast()
    let aborted = Set(
      records.filter { $0["outcome"] as? String == "aborted" }.compactMap { $0["upload_id"] as? String })
    #expect(aborted == Set(old.dropFirst().map(\.1)))

    // What the server still holds: the fresh uploads and the late stale one, exactly.
    let provider = S3Provider(
      target: ceph.target(buckets: [bucket]), credentials: ceph.credentials, transport: transport)
    var left: [String] = []
    for try await page in provider.uploads(bucket: bucket, prefix: "") { left += page.uploads.map(\.uploadID) }
    #expect(Set(left) == Set((fresh + newer).map(\.1)))
    await transport.shutdown()
  }
}
