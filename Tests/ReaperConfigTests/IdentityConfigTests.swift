import Foundation
import ReaperCore
import Testing

@testable import ReaperConfig

/// `initiator` and `owner` in `[[rule]]`: arrays of globs, refused with FILE:LINE when mistyped, empty, or on a
/// rule that can reach a pds target, whose listing carries no such id.
@Suite("Rule keys initiator and owner")
struct IdentityConfigTests {
  static let rule = """
    [[rule]]
    name = "app-a"
    max_age = "2d"
    action = "abort"
    """

  static let pdsTarget = """
    [[target]]
    name = "photos"
    provider = "pds"
    endpoint = "https://1a2b3c4d.api.aliyunpds.com"
    buckets = ["11001"]
    credentials_file = "p.cred"
    """

  static let credentials = [
    "a.cred": "access_key_id=AK\nsecret_access_key=SK\n", "p.cred": "access_token=example\n",
  ]

  /// The only error of `toml`, which must be one.
  static func onlyError(_ toml: String) throws -> ConfigDiagnostic {
    let fixture = try ConfigFixture(toml, credentials: credentials)
    let errors = fixture.errors()
    #expect(errors.count == 1, "\(errors)")
    let error = try #require(errors.first)
    #expect(error.severity == .error)
    #expect(error.file == fixture.path)
    #expect(error.description.hasPrefix("\(fixture.path):\(error.line.map(String.init) ?? "-"):"), "\(error)")
    return error
  }

  @Test func globsLoadIntoTheRule() throws {
    let toml = ConfigFixture.valid(Self.rule + "\ninitiator = [\"app-a*\", \"batch-?\"]\nowner = [\"acct-1\"]\n")
    let config = try ConfigFixture(toml).load().config
    let rule = try #require(config.rules.rules.first)
    #expect(rule.initiator.map(\.pattern) == ["app-a*", "batch-?"])
    #expect(rule.owner.map(\.pattern) == ["acct-1"])
  }

  @Test func withoutTheKeysThereIsNoCondition() throws {
    let rule = try #require(try ConfigFixture(ConfigFixture.valid(Self.rule)).load().config.rules.rules.first)
    #expect(rule.initiator.isEmpty && rule.owner.isEmpty)
  }

  // The valid target takes lines 1-6, the rule lines 7-10, so the key under test is on line 11.
  @Test(arguments: ["initiator", "owner"])
  func aStringInsteadOfAnArrayIsRefused(key: String) throws {
    let error = try Self.onlyError(ConfigFixture.valid(Self.rule + "\n\(key) = \"app-a*\"\n"))
    #expect(error.line == 11)
    #expect(error.key == "rule.\(key)")
    #expect(error.message.contains("expected an array of strings"), "\(error)")
  }

  @Test(arguments: ["initiator", "owner"])
  func aNumberInTheArrayIsRefused(key: String) throws {
    let error = try Self.onlyError(ConfigFixture.valid(Self.rule + "\n\(key) = [\"app-a\", 7]\n"))
    #expect(error.line == 11)
    #expect(error.key == "rule.\(key)")
  }

  /// `[]` would read as "no condition" and widen an abort rule to everyone's uploads.
  @Test func anEmptyListIsRefused() throws {
    let error = try Self.onlyError(ConfigFixture.valid(Self.rule + "\ninitiator = []\n"))
    #expect(error.line == 11)
    #expect(error.key == "rule.initiator")
    #expect(error.message.contains("an empty list sets no condition"), "\(error)")
  }

  @Test func anEmptyGlobIsRefused() throws {
    let error = try Self.onlyError(ConfigFixture.valid(Self.rule + "\nowner = [\"acct-1\", \"\"]\n"))
    #expect(error.line == 11)
    #expect(error.key == "rule.owner")
  }

  @Test(arguments: ["initiator", "owner"])
  func aRuleForAPDSTargetIsRefused(key: String) throws {
    let toml = Self.pdsTarget + "\n\n" + Self.rule + "\ntarget = \"photos\"\n\(key) = [\"*\"]\n"
    let error = try Self.onlyError(toml)
    #expect(error.line == 13)
    #expect(error.key == "rule.\(key)")
    #expect(error.message.contains("pds listings carry no \(key) id"), "\(error)")
    #expect(error.message.contains("\"photos\""), "\(error)")
  }

  /// No target: the rule reaches every target, the pds one included.
  @Test func aRuleWithoutTargetIsRefusedWhenAnyTargetIsPDS() throws {
    let toml = ConfigFixture.defaultTarget + "\n" + Self.pdsTarget + "\n\n" + Self.rule + "\ninitiator = [\"app-a*\"]\n"
    let error = try Self.onlyError(toml)
    #expect(error.line == 18)
    #expect(error.key == "rule.initiator")
  }

  @Test func aRuleForTheS3TargetBesideAPDSOneLoads() throws {
    let toml =
      ConfigFixture.defaultTarget + "\n" + Self.pdsTarget + "\n\n" + Self.rule
      + "\ntarget = \"t1\"\ninitiator = [\"app-a*\"]\n"
    let config = try ConfigFixture(toml, credentials: Self.credentials).load().config
    #expect(config.rules.rules.first?.initiator.map(\.pattern) == ["app-a*"])
  }

  /// A bucket only the s3 target holds keeps the rule off the pds target.
  @Test func aRuleWhoseBucketIsOnlyOnS3Loads() throws {
    let toml =
      ConfigFixture.defaultTarget + "\n" + Self.pdsTarget + "\n\n" + Self.rule + "\nbucket = \"b1\"\nowner = [\"o\"]\n"
    let config = try ConfigFixture(toml, credentials: Self.credentials).load().config
    #expect(config.rules.rules.first?.owner.map(\.pattern) == ["o"])
  }

  /// An identity rule lets what it passes over through, so a later rule of the same scope is not shadowed.
  @Test func anIdentityRuleShadowsNothing() throws {
    let toml = ConfigFixture.valid(
      Self.rule + "\ninitiator = [\"app-a*\"]\n\n[[rule]]\nname = \"rest\"\nmax_age = \"2d\"\naction = \"report\"\n")
    let loaded = try ConfigFixture(toml).load()
    #expect(!loaded.warnings.contains { $0.message.contains("can never apply") }, "\(loaded.warnings)")
  }
}
