import Foundation
import TestSupport
import Testing

@testable import ReaperCore

/// An abort rule on age alone is decided without listing parts, and the re-check's listing is the only one
/// (issue 18: two requests per abort, not three). These properties hold the skip to what it claims: the
/// decision is the same with or without the parts, and the re-check keeps at least whatever it kept when the
/// decision had listed them.
@Suite("The re-check as the only parts listing")
struct RecheckOnlyListingTests {
  static let now = PolicyTests.now
  static let safety = PolicyTests.safety
  static let thresholds: [Int64?] = [nil, 3_600, 86_400, 7 * 86_400]

  static func span(_ seconds: Int64) -> TimeSpan { TimeSpan(seconds: seconds, leadingUnit: .hours) }

  /// Parts as a server might list them: some timed, some late, some with a time that cannot be read.
  static func randomParts(age: Double, using random: inout SplitMix64) -> PartsSummary {
    var parts = PartsSummary()
    for number in 0..<Int.random(in: 0...4, using: &random) {
      var part = Part(
        number: number + 1, size: Int64.random(in: 0...(1 << 20), using: &random),
        lastModified: now.addingTimeInterval(-Double.random(in: -5...max(0, age), using: &random)))
      if Int.random(in: 0..<10, using: &random) == 0 {
        part = Part(number: number + 1, size: part.size, lastModified: nil, unreadableTime: "yesterday-ish")
      }
      parts.add(part)
    }
    return parts
  }

  @Test func onlyAgeAloneAbortRulesLeaveTheListingToTheRecheck() {
    #expect(!Policy.decisionReadsParts(Rule(name: "a", maxAge: Self.span(86_400), action: .abort)))
    #expect(!Policy.decisionReadsParts(Rule(name: "a", maxAge: Self.span(86_400), minBytes: 0, action: .abort)))
    #expect(Policy.decisionReadsParts(Rule(name: "a", maxIdle: Self.span(3_600), action: .abort)))
    #expect(Policy.decisionReadsParts(Rule(name: "a", maxAge: Self.span(86_400), minBytes: 1, action: .abort)))
  }

  /// Over random rules, ages and parts: wherever a rule does not read parts, deciding without them gives the
  /// same decision as deciding with them; and the re-check that has no earlier listing to compare with skips
  /// every abort the comparing re-check skipped, whether the parts stood still or a part arrived in between.
  /// It may keep more, but only for the two reasons it gives: a part dated since the decision, or a part time
  /// it cannot read.
  @Test func theSkipChangesNoDecisionAndNoRecheckVerdictTowardAborting() {
    var random = SplitMix64(seed: 0x18_2B0D)
    var skippable = 0
    var keptMore = 0
    for _ in 0..<20_000 {
      let maxAge = Self.thresholds.randomElement(using: &random)!
      let maxIdle = Self.thresholds.randomElement(using: &random)!
      let minBytes: Int64? = [nil, 0, 1, 1 << 19].randomElement(using: &random)!
      let rule = Rule(
        name: "r", maxAge: maxAge.map(Self.span), maxIdle: maxIdle.map(Self.span), minBytes: minBytes, action: .abort)
      guard rule.maxAge != nil || rule.maxIdle != nil else { continue }
      let age = Double(Int64.random(in: -100...(10 * 86_400), using: &random))
      let upload = PolicyTests.upload(age: age)
      let listed = Self.randomParts(age: age, using: &random)
      let selection = RuleSet.Selection.selected(rule)
      let with = Policy.decide(upload: upload, parts: listed, now: Self.now, selection: selection, safety: Self.safety)
      guard !Policy.decisionReadsParts(rule) else { continue }
      skippable += 1
      let without = Policy.decide(upload: upload, parts: nil, now: Self.now, selection: selection, safety: Self.safety)
      // Only the idle time shown differs: the decision did not read it.
      #expect(
        with.kind == without.kind && with.reason == without.reason && with.ruleName == without.ruleName,
        "rule \(rule), age \(age), parts \(listed)")
      guard without.kind == .abort else { continue }

      // The re-check runs a little later; the parts either stood still or one arrived after the decision.
      let later = Self.now.addingTimeInterval(Double.random(in: 0...120, using: &random))
      var recheckListing = listed
      let partArrived = Bool.random(using: &random)
      if partArrived {
        recheckListing.add(
          Part(
            number: listed.highestPartNumber + 1, size: 1,
            lastModified: Self.now.addingTimeInterval(Double.random(in: 0...120, using: &random))))
      }
      let comparing = Recheck.reasonToSkip(
        before: listed, after: recheckListing, rule: rule, upload: upload, decidedAt: Self.now, now: later)
      let alone = Recheck.reasonToSkip(
        before: nil, after: recheckListing, rule: rule, upload: upload, decidedAt: Self.now, now: later)
      if partArrived {
        #expect(comparing != nil && alone != nil, "a part arrived: \(recheckListing)")
      }
      if comparing != nil {
        #expect(alone != nil, "kept with the earlier listing, aborted without: rule \(rule), parts \(recheckListing)")
      }
      if comparing == nil, let alone {
        keptMore += 1
        #expect(
          alone.contains("since the decision"), "kept for an undocumented reason: \(alone), parts \(recheckListing)")
      }
    }
    #expect(skippable > 1_000)
    #expect(keptMore > 0, "the cases where the re-check alone keeps more were never exercised")
  }

  @Test func aPartDatedWithinTheStampsResolutionOfTheDecisionIsASignOfLife() {
    let rule = Rule(name: "r", maxAge: Self.span(86_400), action: .abort)
    let upload = PolicyTests.upload(age: 10 * 86_400)
    var parts = PartsSummary()
    parts.add(Part(number: 1, size: 1, lastModified: Self.now.addingTimeInterval(-0.5)))
    let reason = Recheck.reasonToSkip(
      before: nil, after: parts, rule: rule, upload: upload, decidedAt: Self.now, now: Self.now.addingTimeInterval(3))
    #expect(reason?.contains("since the decision") == true)
    var older = PartsSummary()
    older.add(Part(number: 1, size: 1, lastModified: Self.now.addingTimeInterval(-60)))
    #expect(
      Recheck.reasonToSkip(
        before: nil, after: older, rule: rule, upload: upload, decidedAt: Self.now, now: Self.now.addingTimeInterval(3))
        == nil)
  }
}
