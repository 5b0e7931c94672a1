import Foundation
import ReaperCore
import ReaperEngine
import Testing

@testable import ReaperConfig

/// The config digest a plan is tied to: it changes with anything that decides an abort, and with nothing else.
@Suite("Plan config digest and file")
struct PlanDigestTests {
  static let base = PlanApplyTests.config()

  @Test func theDigestFollowsWhatDecidesAndNothingElse() {
    let digest = PlanFile.digest(Self.base)
    #expect(digest.count == 64 && digest.allSatisfy { $0.isHexDigit && !$0.isUppercase })
    #expect(PlanFile.digest(Self.base) == digest, "the same config, the same digest")
    var changes: [(String, (inout ReaperConfig) -> Void)] = [
      (
        "a rule's max_age",
        { $0.rules = RuleSet([Rule(name: "stale", prefix: "tmp/", maxAge: TimeSpan(seconds: 1), action: .abort)]) }
      ),
      (
        "a rule's action",
        {
          $0.rules = RuleSet([
            Rule(name: "stale", prefix: "tmp/", maxAge: TimeSpan(seconds: 7 * 86_400), action: .report)
          ])
        }
      ),
      ("min_age", { $0.safety.minAge = TimeSpan(seconds: 7200) }),
      ("the abort budget", { $0.safety.maxAbortsPerCycle = 5 }),
      ("the breaker", { $0.safety.maxAbortFraction = 0.2 }),
      ("the re-check", { $0.safety.recheckBeforeAbort = false }),
      ("an endpoint", { $0.targets[0].endpoint = "http://127.0.0.1:2" }),
      ("the buckets", { $0.targets[0].buckets = ["b"] }),
      ("the timezone", { $0.targets[0].zoneConfigured = true }),
      ("the shard", { $0.daemon.shard = Shard(index: 1, count: 2) }),
    ]
    changes.append(("a target's name", { $0.targets[0].name = "u" }))
    for (what, change) in changes {
      var config = Self.base
      change(&config)
      #expect(PlanFile.digest(config) != digest, "\(what) must change the digest")
    }
    var same = Self.base
    same.credentialSources = ["t": .environment(prefix: "OTHER_")]
    same.targets[0].credentialsFile = "/etc/other.cred"
    same.daemon.concurrency = 1
    same.daemon.stateDirectory = "/var/lib/elsewhere"
    same.daemon.dryRun = true
    same.path = "/elsewhere.toml"
    #expect(PlanFile.digest(same) == digest, "credentials, paths and pacing decide nothing")
    #expect(!Self.base.decisionText.contains("P_"), "no credential source is rendered")
  }

  @Test func aPlanIsWrittenWholeAndPrivate() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("plan-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("plan.json").path
    try "old".write(toFile: path, atomically: false, encoding: .utf8)
    let plan = Plan(configDigest: PlanFile.digest(Self.base), created: Date(), entries: [])
    try PlanFile.write(PlanJSON.render(plan, configPath: "x.toml"), to: path)
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["plan.json"])
    #expect(try PlanFile.read(path).configDigest == plan.configDigest)
    try "{\"format\":".write(toFile: path, atomically: false, encoding: .utf8)
    #expect(throws: PlanError.self) { try PlanFile.read(path) }
    #expect(throws: PlanError.self) { try PlanFile.read(directory.appendingPathComponent("none").path) }
  }
}
