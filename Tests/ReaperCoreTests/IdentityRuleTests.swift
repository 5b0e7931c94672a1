import Foundation
import Testing

@testable import ReaperCore

/// `initiator` and `owner` on a rule: a condition the upload's listed ids must meet for the rule to select it.
/// An upload without the id is passed over, and the next rule in precedence is tried.
@Suite("Rules by initiator or owner")
struct IdentityRuleTests {
  static func rule(
    _ name: String, prefix: String = "", initiator: [String] = [], owner: [String] = [], exclude: [String] = [],
    action: RuleAction = .abort
  ) -> Rule {
    Rule(
      name: name, prefix: prefix, maxAge: TimeSpan(seconds: 86_400), exclude: exclude.map(Glob.init),
      initiator: initiator.map(Glob.init), owner: owner.map(Glob.init), action: action)
  }

  static func selected(_ rules: RuleSet, key: String, initiator: String?, owner: String? = nil) -> String? {
    rules.select(target: "t", bucket: "b", key: key, initiator: initiator, owner: owner).selectedRuleName
  }

  @Test func anInitiatorGlobSelectsOnlyMatchingIDs() {
    let rules = RuleSet([Self.rule("app-a", initiator: ["app-a*", "*:user/batch-?"])])
    #expect(Self.selected(rules, key: "k", initiator: "app-a") == "app-a")
    #expect(Self.selected(rules, key: "k", initiator: "app-a-worker-7") == "app-a")
    #expect(Self.selected(rules, key: "k", initiator: "arn:aws:iam::1:user/batch-3") == "app-a")
    #expect(Self.selected(rules, key: "k", initiator: "arn:aws:iam::1:user/batch-33") == nil)
    #expect(Self.selected(rules, key: "k", initiator: "app-b") == nil)
    #expect(Self.selected(rules, key: "k", initiator: "xapp-a") == nil)
    // Globs match exactly: no case folding, so "APP-A" is someone else.
    #expect(Self.selected(rules, key: "k", initiator: "APP-A") == nil)
  }

  @Test func aMissingIDIsNeverSelectedEvenByStar() {
    let rules = RuleSet([Self.rule("anyone", initiator: ["*"]), Self.rule("owned", prefix: "o/", owner: ["*"])])
    #expect(Self.selected(rules, key: "k", initiator: nil) == nil)
    #expect(rules.select(target: "t", bucket: "b", key: "k") == .unmatched)
    #expect(Self.selected(rules, key: "o/k", initiator: nil, owner: nil) == nil)
    #expect(Self.selected(rules, key: "o/k", initiator: nil, owner: "x") == "owned")
  }

  @Test func initiatorAndOwnerMustBothMatch() {
    let rules = RuleSet([Self.rule("both", initiator: ["app-a"], owner: ["acct-1"])])
    #expect(Self.selected(rules, key: "k", initiator: "app-a", owner: "acct-1") == "both")
    #expect(Self.selected(rules, key: "k", initiator: "app-a", owner: "acct-2") == nil)
    #expect(Self.selected(rules, key: "k", initiator: "app-a", owner: nil) == nil)
    #expect(Self.selected(rules, key: "k", initiator: nil, owner: "acct-1") == nil)
  }

  /// The configured fallthrough: a passed-over upload goes to the next rule by precedence, as the config says.
  /// Here an upload of unknown origin reaches the broader report rule, never the abort rule for app-a.
  @Test func aPassedOverUploadFallsThroughToTheNextRule() {
    let rules = RuleSet([
      Self.rule("rest", action: .report),
      Self.rule("tmp-app-a", prefix: "tmp/", initiator: ["app-a*"]),
      Self.rule("tmp-keep", prefix: "tmp/", action: .log),
    ])
    #expect(Self.selected(rules, key: "tmp/x", initiator: "app-a1") == "tmp-app-a")
    #expect(Self.selected(rules, key: "tmp/x", initiator: "app-b") == "tmp-keep")
    #expect(Self.selected(rules, key: "tmp/x", initiator: nil) == "tmp-keep")
    #expect(Self.selected(rules, key: "other", initiator: "app-a1") == "rest")
    // The identity rule does not shadow the later rule of the same scope: that one still applies.
    #expect(rules.shadowingRule(of: rules.rules[2]) == nil)
  }

  @Test func excludesApplyOnlyToTheRuleThatWon() {
    let rules = RuleSet([
      Self.rule("app-a", prefix: "tmp/", initiator: ["app-a"], exclude: ["*.lock"]),
      Self.rule("tmp", prefix: "tmp/", action: .report),
    ])
    let excluded = rules.select(target: "t", bucket: "b", key: "tmp/x.lock", initiator: "app-a", owner: nil)
    #expect(excluded.selectedRuleName == nil)
    #expect(excluded.rule?.name == "app-a")
    #expect(Self.selected(rules, key: "tmp/x.lock", initiator: "app-b") == "tmp")
  }

  @Test func aRuleWithoutIdentityConditionsIgnoresIDs() {
    let rules = RuleSet([Self.rule("all")])
    #expect(Self.selected(rules, key: "k", initiator: nil) == "all")
    #expect(Self.selected(rules, key: "k", initiator: "anyone", owner: "anyone") == "all")
    #expect(!rules.rules[0].hasIdentityCondition)
  }

  /// A ten-day-old upload app-a started for account o-1, with one part nine days old.
  static func recheckFixture() -> (now: Date, upload: Upload, parts: PartsSummary) {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    var upload = Upload(
      target: "t", bucket: "b", key: "k", uploadID: "u", initiated: now.addingTimeInterval(-10 * 86_400))
    upload.initiatorID = "app-a"
    upload.ownerID = "o-1"
    var parts = PartsSummary()
    parts.add(Part(number: 1, size: 5, lastModified: now.addingTimeInterval(-9 * 86_400)))
    return (now, upload, parts)
  }

  /// Under a rule chosen by initiator, a re-check whose parts listing names someone else keeps the upload; one
  /// that names the same initiator, or none, lets the abort go ahead. Other rules do not look.
  @Test func theRecheckKeepsAnUploadWhosePartsListingNamesAnotherInitiator() {
    let (now, upload, parts) = Self.recheckFixture()
    let chosen = Self.rule("a", initiator: ["app-a*"])
    func verdict(_ rule: Rule, initiators: Set<String>, owners: Set<String> = []) -> String? {
      var after = parts
      after.initiatorIDs = initiators
      after.ownerIDs = owners
      return Recheck.reasonToSkip(before: parts, after: after, rule: rule, upload: upload, decidedAt: now, now: now)
    }
    #expect(verdict(chosen, initiators: ["app-b"])?.contains("names initiator \"app-b\"") == true)
    #expect(verdict(chosen, initiators: ["app-a", "app-b"]) != nil)
    #expect(verdict(chosen, initiators: [], owners: ["o-2"])?.contains("owner") == true)
    #expect(verdict(chosen, initiators: ["app-a"], owners: ["o-1"]) == nil)
    #expect(verdict(chosen, initiators: []) == nil)
    #expect(verdict(Self.rule("any"), initiators: ["app-b"]) == nil)
  }

  /// Where the parts listing documents who started the upload (S3), a rule by initiator or owner needs it to say so:
  /// silence confirms nothing (Ceph 16 names the requester in the listing and nobody in ListParts).
  @Test func whereThePartsListingNamesIdentitiesSilenceConfirmsNothing() {
    let (now, upload, parts) = Self.recheckFixture()
    func verdict(_ rule: Rule, initiators: Set<String>, owners: Set<String>, documented: Bool) -> String? {
      var after = parts
      after.initiatorIDs = initiators
      after.ownerIDs = owners
      return Recheck.reasonToSkip(
        before: parts, after: after, rule: rule, upload: upload, decidedAt: now, now: now,
        partsNameIdentities: documented)
    }
    let byInitiator = Self.rule("a", initiator: ["app-a*"])
    let byOwner = Rule(name: "o", maxAge: TimeSpan(seconds: 86_400), owner: [Glob("o-*")], action: .abort)
    #expect(
      verdict(byInitiator, initiators: [], owners: ["o-1"], documented: true)?.contains("names no initiator") == true)
    #expect(verdict(byInitiator, initiators: ["app-a"], owners: [], documented: true) == nil)
    #expect(verdict(byOwner, initiators: ["app-a"], owners: [], documented: true)?.contains("names no owner") == true)
    #expect(verdict(byOwner, initiators: [], owners: ["o-1"], documented: true) == nil)
    // Where the parts listing has no such fields (CDCS), the uploads listing's word stands unless contradicted.
    #expect(verdict(byInitiator, initiators: [], owners: [], documented: false) == nil)
    // A rule that asks nobody's name needs nobody's confirmation.
    #expect(verdict(Self.rule("any"), initiators: [], owners: [], documented: true) == nil)
    #expect(ProviderKind.s3.partsListingNamesIdentities && !ProviderKind.cdcs.partsListingNamesIdentities)
  }

  /// The identities a rule choice turned on: the winner's, and those of every rule passed over for them.
  @Test func identityAskedCountsTheRulesPassedOver() {
    let rules = RuleSet([
      Self.rule("a", prefix: "data/", initiator: ["app-a*"]), Self.rule("o", prefix: "data/", owner: ["acct-1"]),
      Self.rule("all"),
    ]).scoped(target: "t", bucket: "b")
    let passedBoth = rules.identityAsked(key: "data/x", initiator: "app-b", owner: "acct-2")
    #expect(passedBoth == IdentityAsk(initiator: true, owner: true))
    #expect(rules.identityAsked(key: "data/x", initiator: "app-a", owner: nil) == IdentityAsk(initiator: true))
    #expect(rules.identityAsked(key: "logs/x", initiator: "app-b", owner: nil) == IdentityAsk())
    // A parts listing naming an initiator the uploads listing did not is a contradiction where one decided.
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    var upload = Upload(
      target: "t", bucket: "b", key: "data/x", uploadID: "u", initiated: now.addingTimeInterval(-10 * 86_400))
    upload.ownerID = "acct-2"
    var after = PartsSummary()
    after.initiatorIDs = ["app-a"]
    after.ownerIDs = ["acct-2"]
    let reason = Recheck.reasonToSkip(
      before: nil, after: after, rule: Self.rule("all"), upload: upload, decidedAt: now, now: now,
      partsNameIdentities: true, identity: passedBoth)
    #expect(reason?.contains("the uploads listing none") == true, "\(reason ?? "nil")")
  }
}
