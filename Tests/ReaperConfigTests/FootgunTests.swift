import Foundation
import ReaperCore
import Testing

@testable import ReaperConfig

/// Settings that load but give up a margin against a false abort: each warns once, at its own line and key.
@Suite("Footgun warnings")
struct FootgunTests {
  /// Keeps the minimal config's one target covered, so "no rule" warnings stay out of the way.
  static let harmlessRule = "[[rule]]\nname = \"keep\"\ntarget = \"t1\"\nmax_age = \"2h\"\naction = \"log\"\n"

  static let secondTarget = ConfigFixture.defaultTarget.replacingOccurrences(of: "\"t1\"", with: "\"t2\"")

  func warnings(_ toml: String) throws -> [ConfigDiagnostic] {
    let fixture = try ConfigFixture(toml)
    let loaded = try fixture.load()
    #expect(loaded.warnings.allSatisfy { $0.file == fixture.path && $0.severity == .warning })
    return loaded.warnings
  }

  @Test func aCarefulConfigHasNone() throws {
    let toml =
      "[safety]\nmin_age = \"1h\"\nmax_abort_fraction = 0.99\nrecheck_before_abort = true\n"
      + ConfigFixture.valid(
        "\n" + Self.secondTarget + "\n"
          + "[[rule]]\nname = \"t1-b1\"\ntarget = \"t1\"\nbucket = \"b1\"\nprefix = \"tmp/\"\nmax_age = \"2h\"\naction = \"log\"\n"
          // Same prefix: the rule naming the target wins on t1, so this one only decides on t2.
          + "[[rule]]\nname = \"b1-tmp\"\nbucket = \"b1\"\nprefix = \"tmp/\"\nmax_age = \"2h\"\naction = \"abort\"\n"
          // Disjoint from t1-b1's keys: no key where both could apply.
          + "[[rule]]\nname = \"b1-logs\"\nbucket = \"b1\"\nprefix = \"logs/\"\nmax_age = \"2h\"\naction = \"abort\"\n"
          + "[[rule]]\nname = \"t1-abort\"\ntarget = \"t1\"\nmax_age = \"2h\"\naction = \"abort\"\n"
          + "[[rule]]\nname = \"catch-all\"\nmax_age = \"3d\"\naction = \"report\"\n")
    let found = try warnings(toml)
    #expect(found.isEmpty, "\(found)")
  }

  // MARK: rules

  @Test(arguments: ["", "prefix = \"\"\n"])
  func abortRuleReachingEverything(prefix: String) throws {
    let rule = "[[rule]]\nname = \"all\"\n\(prefix)max_age = \"2h\"\naction = \"abort\"\n"
    let found = try warnings(ConfigFixture.valid(rule))
    #expect(found.map(\.key) == ["rule.action"])
    #expect(found.first?.line == (prefix.isEmpty ? 10 : 11))
    #expect(found.first?.message.contains("every upload in every bucket of every target") == true, "\(found)")
  }

  @Test(arguments: [
    "prefix = \"tmp/\"\nmax_age = \"2h\"\naction = \"abort\"\n",
    "target = \"t1\"\nmax_age = \"2h\"\naction = \"abort\"\n",
    "max_age = \"2h\"\naction = \"report\"\n",
  ])
  func narrowerOrGentlerRulesReachingEverythingAreFine(body: String) throws {
    #expect(try warnings(ConfigFixture.valid("[[rule]]\nname = \"r\"\n" + body)).isEmpty)
  }

  @Test func bucketOnlyRuleOutrankingATargetsOwnRule() throws {
    let rules =
      "[[rule]]\nname = \"t1-b1\"\ntarget = \"t1\"\nbucket = \"b1\"\nmax_age = \"2h\"\naction = \"log\"\n"
      + "[[rule]]\nname = \"b1-tmp\"\nbucket = \"b1\"\nprefix = \"tmp/\"\nmax_age = \"2h\"\naction = \"abort\"\n"
    let found = try warnings(ConfigFixture.valid("\n" + Self.secondTarget + "\n" + rules))
    // Only t1 has a rule of its own on b1; on t2 the bucket rule takes nothing away.
    #expect(found.map(\.key) == ["rule.bucket"])
    #expect(found.first?.line == 22)
    #expect(
      found.first?.message.contains(
        "rule \"b1-tmp\" names bucket \"b1\" but no target, so it outranks rule \"t1-b1\" of target \"t1\" (line 15) for keys under \"tmp/\""
      ) == true, "\(found)")
  }

  @Test func bucketOnlyRuleThatNeverAppliesOnTheTargetOutranksNothing() throws {
    // t1-b1-tmp claims every key under tmp/ on t1 first, so b1-tmp never decides there.
    let rules =
      "[[rule]]\nname = \"t1-b1\"\ntarget = \"t1\"\nbucket = \"b1\"\nmax_age = \"2h\"\naction = \"log\"\n"
      + "[[rule]]\nname = \"t1-b1-tmp\"\ntarget = \"t1\"\nbucket = \"b1\"\nprefix = \"tmp/\"\nmax_age = \"2h\"\naction = \"log\"\n"
      + "[[rule]]\nname = \"b1-tmp\"\nbucket = \"b1\"\nprefix = \"tmp/\"\nmax_age = \"2h\"\naction = \"abort\"\n"
    #expect(try warnings(ConfigFixture.valid(rules)).isEmpty)
  }

  @Test func bucketOnlyRuleOverATargetWideRuleIsNotFlagged() throws {
    // A bucket rule beating a rule that names the target but no bucket is the documented precedence
    // (bucket before target); the warning is for a target's rule on that very bucket.
    let rules =
      "[[rule]]\nname = \"t1-all\"\ntarget = \"t1\"\nmax_age = \"2h\"\naction = \"log\"\n"
      + "[[rule]]\nname = \"b1-tmp\"\nbucket = \"b1\"\nprefix = \"tmp/\"\nmax_age = \"2h\"\naction = \"abort\"\n"
    #expect(try warnings(ConfigFixture.valid(rules)).isEmpty)
  }

  // MARK: safety

  @Test(arguments: [
    ("min_age = \"30m\"", "safety.min_age", "30m is under 1h"),
    ("max_abort_fraction = 1", "safety.max_abort_fraction", "turns the circuit breaker off"),
    ("max_abort_fraction = 1.0", "safety.max_abort_fraction", "turns the circuit breaker off"),
    ("recheck_before_abort = false", "safety.recheck_before_abort", "aborts on the listing alone"),
  ])
  func weakenedSafetySetting(line: String, key: String, message: String) throws {
    let found = try warnings("[safety]\n\(line)\n" + ConfigFixture.valid(Self.harmlessRule))
    #expect(found.map(\.key) == [key])
    #expect(found.first?.line == 2)
    #expect(found.first?.message.contains(message) == true, "\(found)")
    #expect(found.first?.description.contains("reaper.toml:2: \(key): warning: ") == true)
  }

  @Test func minAgeOfAnHourIsFine() throws {
    #expect(try warnings("[safety]\nmin_age = \"60m\"\n" + ConfigFixture.valid(Self.harmlessRule)).isEmpty)
  }

  // MARK: pds and timezone

  @Test(arguments: ["UTC", "+08:00", "Mars/Olympus"])
  func timezoneOnAPDSTargetIsRefused(zone: String) throws {
    let toml = """
      [[target]]
      name = "photos"
      provider = "pds"
      endpoint = "https://1a2b3c4d.api.aliyunpds.com"
      buckets = ["11001"]
      credentials_file = "p.cred"
      timezone = "\(zone)"
      """
    let fixture = try ConfigFixture(toml, credentials: ["p.cred": "access_token=example\n"])
    let errors = fixture.errors()
    #expect(errors.count == 1, "\(errors)")
    let error = try #require(errors.first)
    #expect(error.severity == .error)
    #expect(error.line == 7)
    #expect(error.key == "target.timezone")
    #expect(error.message.contains("PDS times always carry their zone"), "\(error)")
  }

  @Test func aPDSTargetWithoutTimezoneLoads() throws {
    let toml = """
      [[target]]
      name = "photos"
      provider = "pds"
      endpoint = "https://1a2b3c4d.api.aliyunpds.com"
      buckets = ["11001"]
      credentials_file = "p.cred"
      """
    let fixture = try ConfigFixture(toml, credentials: ["p.cred": "access_token=example\n"])
    #expect(try fixture.load().config.targets.first?.zone == .utc)
  }
}
