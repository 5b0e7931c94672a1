import Foundation
import Testing

@testable import ReaperCore

/// A keep is doubtful when the reaper could not tell, not when the rule says the upload is fine: the default report
/// lists the doubtful ones and only counts the others, so the flag must be right both ways.
@Suite("Doubtful keeps")
struct DoubtfulKeepTests {
  static let now = PolicyTests.now

  static func decide(
    _ rule: Rule, age: TimeInterval, parts: PartsSummary? = nil, selection: RuleSet.Selection? = nil
  ) -> Decision {
    Policy.decide(
      upload: PolicyTests.upload(age: age), parts: parts, now: now, selection: selection ?? .selected(rule),
      safety: PolicyTests.safety)
  }

  static func parts(_ list: [Part]) -> PartsSummary {
    var summary = PartsSummary()
    for part in list { summary.add(part) }
    return summary
  }

  @Test func aRuleSayingNotYetIsAPlainKeep() {
    let aged = Rule(name: "r", maxAge: PolicyTests.span("1d"), action: .abort)
    let fresh = Self.decide(aged, age: 3600)
    #expect(fresh.kind == .keep && fresh.reason.contains("<= max_age") && !fresh.doubtful)
    let small = Rule(name: "r", maxAge: PolicyTests.span("1d"), minBytes: 1 << 20, action: .abort)
    let listed = Self.decide(small, age: 2 * 86_400, parts: PolicyTests.parts(newestAgo: 86_400, bytes: 10))
    #expect(listed.kind == .keep && !listed.doubtful)
    let young = Rule(name: "r", action: .abort)
    #expect(Self.decide(young, age: 600).reason.contains("safety.min_age"))
    #expect(!Self.decide(young, age: 600).doubtful)
  }

  @Test func anExcludedUploadIsAPlainKeep() {
    let rule = Rule(name: "r", maxAge: PolicyTests.span("1d"), exclude: [Glob("tmp/*")], action: .abort)
    let decision = Self.decide(rule, age: 9 * 86_400, selection: .excluded(rule, by: Glob("tmp/*")))
    #expect(decision.reason.hasPrefix("excluded by"))
    #expect(!decision.doubtful)
  }

  /// Parts go unlisted for an upload too young for them to matter: its "idle time unknown" is no doubt.
  @Test func partsUnlistedBecauseTooYoungArePlain() {
    let idle = Rule(name: "r", maxIdle: PolicyTests.span("6h"), action: .abort)
    let young = Self.decide(idle, age: 3600)
    #expect(young.reason == "idle time unknown: parts not listed")
    #expect(!young.doubtful)
    let old = Self.decide(idle, age: 86_400)
    #expect(old.reason == "idle time unknown: parts not listed")
    #expect(old.doubtful, "parts that could have mattered were not listed")
    let sized = Rule(name: "r", minBytes: 1, action: .abort)
    #expect(!Self.decide(sized, age: 600).doubtful)
    #expect(Self.decide(sized, age: 86_400).doubtful)
  }

  @Test func whatTheServerGotWrongIsADoubt() {
    let idle = Rule(name: "r", maxIdle: PolicyTests.span("6h"), action: .abort)
    let unreadable = Self.decide(
      idle, age: 86_400,
      parts: Self.parts([Part(number: 1, size: 10, lastModified: nil, unreadableTime: "yesterday-ish")]))
    #expect(unreadable.reason.hasPrefix("idle time unknown: part 1 has an unreadable LastModified"))
    #expect(unreadable.doubtful)
    let sized = Rule(name: "r", minBytes: 1, action: .abort)
    let huge = Self.decide(
      sized, age: 86_400, parts: Self.parts([Part(number: 1, size: 6 << 30, lastModified: Self.now)]))
    #expect(huge.reason.hasPrefix("size unknown: part 1 claims"))
    #expect(huge.doubtful)
    let future = Self.decide(Rule(name: "r", maxAge: PolicyTests.span("1d"), action: .abort), age: -120)
    #expect(future.reason == "initiated 2m in the future")
    #expect(future.doubtful)
  }

  @Test func staleDecisionsAreNeverDoubtful() {
    let rule = Rule(name: "r", maxAge: PolicyTests.span("1d"), action: .report)
    let decision = Self.decide(rule, age: 3 * 86_400)
    #expect(decision.kind == .report && !decision.doubtful)
  }
}
