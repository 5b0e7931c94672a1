import Foundation
import ReaperSandbox
import Testing

/// `check-config --online` against the sandbox's S3 dialect: a working target, one whose bucket is missing, one whose
/// secret is wrong, one whose listing is denied and one where nothing answers, each told apart by its line; and
/// nothing is ever aborted.
@Suite("check-config --online")
struct OnlineCheckTests {
  static let accessKey = "AKIDONLINE"
  static let secret = "online-secret-that-must-never-print"

  static func target(_ name: String, endpoint: String, buckets: String, credentials: String = "good.cred") -> String {
    """

    [[target]]
    name = "\(name)"
    provider = "s3"
    endpoint = "\(endpoint)"
    buckets = \(buckets)
    credentials_file = "\(credentials)"
    """
  }

  static let rule = """

    [[rule]]
    name = "stale"
    max_age = "10d"
    action = "abort"
    """

  static func run(_ toml: String, store: SandboxStore) async throws -> CLITests.Result {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("online-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    for (name, secret) in [("good.cred", Self.secret), ("bad.cred", "not-the-secret")] {
      let path = directory.appendingPathComponent(name).path
      try "access_key_id=\(accessKey)\nsecret_access_key=\(secret)\n".write(
        toFile: path, atomically: true, encoding: .utf8)
      try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    }
    let config = directory.appendingPathComponent("reaper.toml").path
    try toml.write(toFile: config, atomically: true, encoding: .utf8)
    return try await CLITests.run(["check-config", "--config", config, "--online"])
  }

  static func buckets() -> [SandboxBucket] {
    let stale = SandboxUpload(key: "data/old.bin", uploadID: "old", initiated: Date().addingTimeInterval(-10 * 86_400))
    return [
      SandboxBucket(name: "logs-1", uploads: [stale]), SandboxBucket(name: "logs-2", uploads: []),
      SandboxBucket(name: "denied", uploads: []),
    ]
  }

  @Test func aWorkingTargetIsToldFromBrokenOnes() async throws {
    let store = SandboxStore(buckets: Self.buckets(), credentials: [Self.accessKey: Self.secret])
    let server = try await SandboxServer.start(store: store)
    defer { Task { await server.stop() } }
    store.updateFaults { $0.denyBuckets = ["denied"] }
    // logs-2's own lifecycle aborts incomplete uploads after 3 days, before the rule's 10 would.
    store.setLifecycle(
      .configuration(
        "<LifecycleConfiguration><Rule><ID>tidy</ID><Status>Enabled</Status><Filter><Prefix></Prefix></Filter><AbortIncompleteMultipartUpload><DaysAfterInitiation>3</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule></LifecycleConfiguration>"
      ), for: "logs-2")
    let endpoint = "http://127.0.0.1:\(server.port)"
    let working = try await Self.run(
      Self.target("works", endpoint: endpoint, buckets: #"["logs-*"]"#) + Self.rule, store: store)
    #expect(working.status == 0, "\(working.stdout)\n\(working.stderr)")
    #expect(
      working.stdout.contains("ok      works (bucket list): reachable, authenticated, 3 bucket(s) listed, 2 matched"))
    #expect(
      working.stdout.contains("ok      works/logs-1: reachable, authenticated, can list: 1 upload(s) on the first page")
    )
    #expect(working.stdout.contains("ok      works/logs-2:"))
    // A lifecycle that sweeps first is advice: said, and the target still works.
    #expect(working.stdout.contains("warn    works/logs-2: server-side sweep:"), "\(working.stdout)")
    #expect(!working.stdout.contains("warn    works/logs-1:"))
    #expect(working.stdout.contains("online: every target works"))

    let toml =
      Self.target("works", endpoint: endpoint, buckets: #"["logs-1"]"#)
      + Self.target("missing", endpoint: endpoint, buckets: #"["no-such"]"#)
      + Self.target("badkey", endpoint: endpoint, buckets: #"["logs-1"]"#, credentials: "bad.cred")
      + Self.target("denied", endpoint: endpoint, buckets: #"["denied"]"#)
      + Self.target("nobody", endpoint: "http://127.0.0.1:9", buckets: #"["b"]"#) + Self.rule
    let broken = try await Self.run(toml, store: store)
    #expect(broken.status == 1, "\(broken.stdout)\n\(broken.stderr)")
    let out = broken.stdout
    #expect(out.contains("ok      works/logs-1:"), "\(out)")
    #expect(out.contains("FAILED  missing/no-such: no such bucket:"), "\(out)")
    #expect(out.contains("FAILED  badkey/logs-1: not authenticated:"), "\(out)")
    #expect(out.contains("FAILED  denied/denied: authenticated, cannot list:"), "\(out)")
    #expect(out.contains("FAILED  nobody/b: unreachable:"), "\(out)")
    #expect(out.contains("online: 4 failed"))
    #expect(!out.contains(Self.secret) && !broken.stderr.contains(Self.secret))
    // It only reads: nothing aborted, no parts listed.
    #expect(store.aborted.isEmpty)
    #expect(store.requestLog.aborts == 0 && store.requestLog.listParts == 0)
  }
}
