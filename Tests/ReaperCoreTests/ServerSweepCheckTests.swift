import Foundation
import Testing

@testable import ReaperCore

/// The comparison of a bucket's server sweeps (lifecycle AbortIncompleteMultipartUpload) with its reaper rules:
/// which pairs conflict, how much of the rule a sweep covers, and why.
@Suite("Server sweep conflicts")
struct ServerSweepCheckTests {
  static let day: Int64 = 86_400

  static func rule(
    _ name: String, prefix: String = "", maxAge: String? = nil, maxIdle: String? = nil, action: RuleAction = .abort
  ) -> Rule {
    Rule(
      name: name, prefix: prefix, maxAge: maxAge.map { try! TimeSpan.parse($0) },
      maxIdle: maxIdle.map { try! TimeSpan.parse($0) }, action: action)
  }

  static func sweep(_ days: Int, prefix: String = "", id: String = "lc", doubt: String? = nil) -> ServerSweep {
    ServerSweep(ruleID: id, days: days, prefix: prefix, filterDoubt: doubt)
  }

  @Test func aSweepShorterThanMaxAgePreemptsTheRule() {
    let found = ServerSweepCheck.conflicts(rules: [Self.rule("tmp", maxAge: "7d")], sweeps: [Self.sweep(3)])
    #expect(found.count == 1)
    #expect(found.first?.kind == .preempted)
    #expect(found.first?.coverage == .all)
    #expect(found.first?.ruleName == "tmp")
    #expect(found.first?.ruleMaxAge?.seconds == 7 * Self.day)
    #expect(found.first?.description.contains("3 days after initiation in the whole bucket") == true)
    #expect(found.first?.description.contains("max_age 7d") == true)
  }

  /// Equal is no conflict: the reaper aborts only past max_age, and the server no earlier than its days.
  @Test(arguments: [(3, "3d", false), (3, "72h", false), (3, "72h1s", true), (10, "7d", false), (1, "1d1s", true)])
  func theThresholdIsStrict(days: Int, maxAge: String, conflicts: Bool) {
    let found = ServerSweepCheck.conflicts(rules: [Self.rule("r", maxAge: maxAge)], sweeps: [Self.sweep(days)])
    #expect(!found.isEmpty == conflicts)
  }

  @Test func maxIdleRulesKeepActiveUploadsTheServerAborts() {
    // Idle only, within the server's days: the rule may act first on idle uploads, never on active ones.
    let short = ServerSweepCheck.conflicts(rules: [Self.rule("idle", maxIdle: "1d")], sweeps: [Self.sweep(3)])
    #expect(short.map(\.kind) == [.abortsActive])
    #expect(short.first?.description.contains("while it is written to") == true)
    // Idle longer than the server's days: the rule never acts first at all.
    let long = ServerSweepCheck.conflicts(rules: [Self.rule("idle", maxIdle: "5d")], sweeps: [Self.sweep(3)])
    #expect(long.map(\.kind) == [.preempted])
    // Both: the rule acts only past both, so the longer one counts, and max_idle still keeps active uploads.
    let both = ServerSweepCheck.conflicts(
      rules: [Self.rule("both", maxAge: "2d", maxIdle: "1d")], sweeps: [Self.sweep(3)])
    #expect(both.map(\.kind) == [.abortsActive])
    let bothLong = ServerSweepCheck.conflicts(
      rules: [Self.rule("both", maxAge: "1d", maxIdle: "4d")], sweeps: [Self.sweep(3)])
    #expect(bothLong.map(\.kind) == [.preempted])
    #expect(bothLong.first?.ruleLimits == "max_age 1d, max_idle 4d")
  }

  @Test func coverageIsByPrefixEitherWay() {
    let rules = [
      Self.rule("under", prefix: "tmp/uploads/", maxAge: "7d"), Self.rule("above", prefix: "tm", maxAge: "7d"),
      Self.rule("same", prefix: "tmp/", maxAge: "7d"), Self.rule("beside", prefix: "logs/", maxAge: "7d"),
      Self.rule("whole", prefix: "", maxAge: "7d"),
    ]
    let found = ServerSweepCheck.conflicts(rules: rules, sweeps: [Self.sweep(3, prefix: "tmp/")])
    let coverage = Dictionary(uniqueKeysWithValues: found.map { ($0.ruleName, $0.coverage) })
    #expect(coverage == ["under": .all, "same": .all, "above": .part, "whole": .part])
    #expect(found.first { $0.ruleName == "above" }?.description.contains("covers part of rule \"above\"") == true)
    #expect(found.first { $0.ruleName == "under" }?.description.contains("covers all of rule \"under\"") == true)
  }

  /// Keys are bytes: a prefix written in another Unicode normal form covers nothing.
  @Test func prefixesCompareByteWise() {
    let composed = "caf\u{E9}/"
    let decomposed = "cafe\u{301}/"
    #expect(composed == decomposed)
    let found = ServerSweepCheck.conflicts(
      rules: [Self.rule("r", prefix: composed, maxAge: "7d")], sweeps: [Self.sweep(3, prefix: decomposed)])
    #expect(found.isEmpty)
  }

  @Test func aSweepRunningAfterTheRuleIsNoConflict() {
    let found = ServerSweepCheck.conflicts(
      rules: [Self.rule("a", maxAge: "1d"), Self.rule("b", maxAge: "7d", action: .log)], sweeps: [Self.sweep(10)])
    #expect(found.isEmpty)
  }

  @Test func everyPairIsReportedInOrder() {
    let rules = [Self.rule("a", prefix: "a/", maxAge: "30d"), Self.rule("all", maxAge: "14d", action: .report)]
    let sweeps = [Self.sweep(7, prefix: "", id: "one"), Self.sweep(3, prefix: "a/b/", id: "two")]
    let found = ServerSweepCheck.conflicts(rules: rules, sweeps: sweeps)
    #expect(
      found.map { "\($0.sweep.ruleID)/\($0.ruleName)/\($0.coverage.rawValue)" } == [
        "one/a/all", "one/all/all", "two/a/part", "two/all/part",
      ])
  }

  @Test func aDoubtedFilterMayCoverAndSaysWhy() {
    let found = ServerSweepCheck.conflicts(
      rules: [Self.rule("r", maxAge: "7d")], sweeps: [Self.sweep(3, id: "", doubt: "filters by object tag")])
    #expect(found.count == 1)
    let text = found.first?.description ?? ""
    #expect(text.contains("may cover all of"))
    #expect(text.contains("filters by object tag"))
    #expect(text.contains("a lifecycle rule with no ID"))
  }

  @Test func noSweepsOrNoRulesNoConflicts() {
    #expect(ServerSweepCheck.conflicts(rules: [Self.rule("r", maxAge: "7d")], sweeps: []).isEmpty)
    #expect(ServerSweepCheck.conflicts(rules: [], sweeps: [Self.sweep(1)]).isEmpty)
  }

  /// The largest days a lifecycle may say, against the longest a rule may wait: no overflow, no conflict.
  @Test func extremesDoNotOverflow() {
    let found = ServerSweepCheck.conflicts(
      rules: [Self.rule("r", maxAge: "520w")], sweeps: [Self.sweep(ServerSweep.maximumDays)])
    #expect(found.isEmpty)
    let one = ServerSweepCheck.conflicts(rules: [Self.rule("r", maxAge: "520w")], sweeps: [Self.sweep(1)])
    #expect(one.count == 1)
  }
}
