import Foundation
import ReaperCore
import Testing

@testable import ReaperConfig

/// Without the re-check nothing confirms the uploads listing's word for who started an upload: not for an abort
/// rule by initiator or owner, nor for a `report` or `log` rule by one that passes uploads over to an abort rule
/// after it (on Ceph 16 every upload reads as the requester's, so alice's would fall through).
@Suite("Identity rules without the re-check")
struct IdentityRecheckFootgunTests {
  func warnings(_ toml: String) throws -> [ConfigDiagnostic] {
    try ConfigFixture(toml).load().warnings
  }

  static let rules =
    "[[rule]]\nname = \"alice\"\nprefix = \"tmp/\"\nmax_age = \"2h\"\ninitiator = [\"alice\"]\naction = \"report\"\n"
    + "[[rule]]\nname = \"stale\"\nmax_age = \"3d\"\naction = \"abort\"\n"

  @Test func aKeepingRuleByInitiatorBeforeAnAbortRuleIsWarnedAbout() throws {
    let found = try warnings("[safety]\nrecheck_before_abort = false\n" + ConfigFixture.valid("\n" + Self.rules))
    #expect(found.contains { $0.message.contains("\"alice\"") && $0.message.contains("passes over") }, "\(found)")
  }

  @Test func withTheRecheckThereIsNothingToSay() throws {
    let found = try warnings(ConfigFixture.valid("\n" + Self.rules))
    #expect(!found.contains { $0.message.contains("passes over") }, "\(found)")
  }
}
