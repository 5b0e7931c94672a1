import Foundation
import ReaperCore
import ReaperSandbox
import Testing

/// `scan --plan` and `apply` with the real binary against the sandbox: what was aborted is read back from the
/// sandbox's own state.
@Suite("scan --plan and apply")
struct PlanCLITests {
  static let day: TimeInterval = 86_400

  struct Setup {
    let server: SandboxServer
    let directory: URL
    let config: String

    var planPath: String { directory.appendingPathComponent("plan.json").path }
    var store: SandboxStore { server.store }

    /// The same config with the rule's max_age changed: another digest.
    func otherConfig() throws -> String {
      let text = try String(contentsOfFile: config, encoding: .utf8)
      let path = directory.appendingPathComponent("other.toml").path
      try text.replacingOccurrences(of: "max_age = \"1d\"", with: "max_age = \"2d\"").write(
        toFile: path, atomically: true, encoding: .utf8)
      return path
    }
  }

  static func start() async throws -> Setup {
    let uploads = [
      EndToEndTests.upload("tmp/a.bin", "plan-a", age: 3 * day),
      EndToEndTests.upload("tmp/b.bin", "plan-b", age: 3 * day),
      EndToEndTests.upload("tmp/c.bin", "plan-c", age: 4 * day),
      EndToEndTests.upload("tmp/d.bin", "plan-d", age: 5 * day),
      EndToEndTests.upload("tmp/young.bin", "young", age: 600),
    ]
    let store = SandboxStore(
      buckets: [SandboxBucket(name: "plan-1250000000", uploads: uploads)],
      credentials: [EndToEndTests.accessKey: EndToEndTests.secret])
    let server = try await SandboxServer.start(store: store)
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("plan-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let credentials = directory.appendingPathComponent("sandbox.cred").path
    try "access_key_id=\(EndToEndTests.accessKey)\nsecret_access_key=\(EndToEndTests.secret)\n".write(
      toFile: credentials, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: credentials)
    let config = directory.appendingPathComponent("reaper.toml").path
    try """
    [daemon]
    state_dir = "\(directory.path)/state"

    [safety]
    max_abort_fraction = 1.0

    [[target]]
    name = "sandbox"
    provider = "cdcs"
    endpoint = "http://127.0.0.1:\(server.port)"
    buckets = ["plan-1250000000"]
    credentials_file = "sandbox.cred"

    [[rule]]
    name = "tmp-abort"
    prefix = "tmp/"
    max_age = "1d"
    action = "abort"
    """.write(toFile: config, atomically: true, encoding: .utf8)
    return Setup(server: server, directory: directory, config: config)
  }

  static let planned: Set<String> = ["plan-a", "plan-b", "plan-c", "plan-d"]
  static let verbose = ["UPLOAD_REAPER_LOG_LEVEL": "notice"]

  @Test func applyAbortsExactlyTheRestOfThePlan() async throws {
    let setup = try await Self.start()
    defer { Task { await setup.server.stop() } }
    let made = try await CLITests.run(["scan", "--config", setup.config, "--plan", setup.planPath])
    #expect(made.status == 0, "\(made.stderr)")
    #expect(setup.store.aborted.isEmpty, "making a plan aborts nothing")
    #expect(made.stdout.contains("plan: 4 upload(s) to abort"), "\(made.stdout)")
    #expect(made.stdout.contains("sandbox/plan-1250000000 rule tmp-abort: 4 upload(s)"))
    let attributes = try FileManager.default.attributesOfItem(atPath: setup.planPath)
    #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
    let plan = try PlanJSON.parse(Data(contentsOf: URL(fileURLWithPath: setup.planPath)))
    #expect(Set(plan.entries.map(\.uploadID)) == Self.planned)

    setup.store.complete(uploadID: "plan-b", in: "plan-1250000000")
    setup.store.put([EndToEndTests.upload("tmp/new.bin", "new-stale", age: 6 * Self.day)], in: "plan-1250000000")
    let applied = try await CLITests.run(
      ["apply", "--config", setup.config, "--format", "json", setup.planPath], environment: Self.verbose)
    #expect(applied.status == 0, "\(applied.stderr)")
    #expect(Set(setup.store.aborted.map(\.uploadID)) == ["plan-a", "plan-c", "plan-d"])
    #expect(applied.stderr.contains(ReaperEvent.planApplied.messageID), "\(applied.stderr)")
    let lines = try EndToEndTests.jsonLines(applied.stdout)
    let newer = try #require(lines.first { $0["upload_id"] as? String == "new-stale" })
    #expect(newer["outcome"] as? String == "kept")
    let gone = try #require(lines.first { $0["upload_id"] as? String == "plan-b" })
    #expect(gone["outcome"] as? String == "gone")
    // Like a scan, it leaves its cycle report.
    let reports = try FileManager.default.contentsOfDirectory(
      atPath: setup.directory.appendingPathComponent("state").path)
    #expect(reports.contains { $0.hasPrefix("cycle-") })
  }

  @Test func aPlanFromAnotherConfigIsRefusedUnlessForced() async throws {
    let setup = try await Self.start()
    defer { Task { await setup.server.stop() } }
    let made = try await CLITests.run(["scan", "--config", setup.config, "--plan", setup.planPath])
    #expect(made.status == 0, "\(made.stderr)")
    let other = try setup.otherConfig()
    let refused = try await CLITests.run(["apply", "--config", other, setup.planPath])
    #expect(refused.status == 2)
    #expect(refused.stderr.contains("another config"), "\(refused.stderr)")
    #expect(setup.store.aborted.isEmpty)
    let blank = try await CLITests.run(["apply", "--config", other, "--force", " ", setup.planPath])
    #expect(blank.status == 2 && setup.store.aborted.isEmpty)

    let forced = try await CLITests.run(
      ["apply", "--config", other, "--force", "reviewed in ticket 42", setup.planPath], environment: Self.verbose)
    #expect(forced.status == 0, "\(forced.stderr)")
    #expect(Set(setup.store.aborted.map(\.uploadID)) == Self.planned)
    #expect(forced.stderr.contains("reviewed in ticket 42"))
    #expect(forced.stderr.contains(ReaperEvent.planApplied.messageID))
    #expect(forced.stdout.contains("applied under --force"), "the summary's notices say so")
  }

  @Test func aStaleOrMalformedPlanIsRefused() async throws {
    let setup = try await Self.start()
    defer { Task { await setup.server.stop() } }
    let made = try await CLITests.run(["scan", "--config", setup.config, "--plan", setup.planPath])
    #expect(made.status == 0, "\(made.stderr)")
    let text = try String(contentsOfFile: setup.planPath, encoding: .utf8)
    let plan = try PlanJSON.parse(Data(text.utf8))
    let created = PlanTime.format(plan.created)
    let old = text.replacingOccurrences(
      of: "\"created\": \"\(created)\"",
      with: "\"created\": \"\(PlanTime.format(plan.created.addingTimeInterval(-2 * Self.day)))\"")
    #expect(old != text)
    try old.write(toFile: setup.planPath, atomically: true, encoding: .utf8)
    let tooOld = try await CLITests.run(["apply", "--config", setup.config, setup.planPath])
    #expect(tooOld.status == 2)
    #expect(tooOld.stderr.contains("older than --max-age"), "\(tooOld.stderr)")
    let longer = try await CLITests.run([
      "apply", "--config", setup.config, "--max-age", "3d", "--dry-run", setup.planPath,
    ])
    #expect(longer.status == 0, "\(longer.stderr)")
    #expect(setup.store.aborted.isEmpty, "--dry-run aborts nothing")

    try String(text.dropLast(20)).write(toFile: setup.planPath, atomically: true, encoding: .utf8)
    let broken = try await CLITests.run(["apply", "--config", setup.config, "--force", "anyway", setup.planPath])
    #expect(broken.status == 2)
    #expect(broken.stderr.contains("not a usable plan"), "\(broken.stderr)")
    #expect(setup.store.aborted.isEmpty)
  }
}
