import Foundation
import TestSupport
import Testing

@testable import ReaperCore

@Suite("When parts are worth listing")
struct PartsCanMatterTests {
  static let now = PolicyTests.now
  static let safety = PolicyTests.safety

  static func span(_ seconds: Int64) -> TimeSpan { TimeSpan(seconds: seconds, leadingUnit: .hours) }

  @Test func youngerThanEveryThresholdNeedsNoParts() {
    let rule = Rule(name: "r", maxAge: Self.span(86_400), maxIdle: Self.span(7_200), action: .abort)
    let upload = PolicyTests.upload(age: 86_400)
    #expect(!Policy.partsCanMatter(upload: upload, now: Self.now, selection: .selected(rule), safety: Self.safety))
    let older = PolicyTests.upload(age: 86_401)
    #expect(Policy.partsCanMatter(upload: older, now: Self.now, selection: .selected(rule), safety: Self.safety))
  }

  @Test func idleOnlyRulesNeedPartsOncePastMaxIdle() {
    let rule = Rule(name: "r", maxIdle: Self.span(7_200), action: .report)
    #expect(
      !Policy.partsCanMatter(
        upload: PolicyTests.upload(age: 7_200), now: Self.now, selection: .selected(rule), safety: Self.safety))
    #expect(
      Policy.partsCanMatter(
        upload: PolicyTests.upload(age: 7_201), now: Self.now, selection: .selected(rule), safety: Self.safety))
  }

  @Test func theSafetyFloorOnlyCountsForAbortRules() {
    let abort = Rule(name: "a", minBytes: 1, action: .abort)
    let report = Rule(name: "r", minBytes: 1, action: .report)
    let upload = PolicyTests.upload(age: 60)
    #expect(!Policy.partsCanMatter(upload: upload, now: Self.now, selection: .selected(abort), safety: Self.safety))
    #expect(Policy.partsCanMatter(upload: upload, now: Self.now, selection: .selected(report), safety: Self.safety))
  }

  @Test func unselectedAndFutureUploadsNeedNoParts() {
    let rule = Rule(name: "r", minBytes: 1, action: .report)
    #expect(
      !Policy.partsCanMatter(
        upload: PolicyTests.upload(age: 86_400), now: Self.now, selection: .unmatched, safety: Self.safety))
    #expect(
      !Policy.partsCanMatter(
        upload: PolicyTests.upload(age: -10), now: Self.now, selection: .selected(rule), safety: Self.safety))
  }

  /// The skip is only an optimisation: wherever it says parts cannot matter, every possible set of parts gives
  /// the same decision as none.
  @Test func skippingPartsNeverChangesADecision() {
    var random = SplitMix64(seed: 0x5EED_CAFE)
    let thresholds: [Int64?] = [nil, 60, 3_600, 86_400, 7 * 86_400]
    var skipped = 0
    for _ in 0..<20_000 {
      let maxAge = thresholds.randomElement(using: &random)!
      let maxIdle = thresholds.randomElement(using: &random)!
      let minBytes: Int64? = [nil, 0, 1, 1 << 20].randomElement(using: &random)!
      let action: RuleAction = [.log, .report, .abort].randomElement(using: &random)!
      let rule = Rule(
        name: "r", maxAge: maxAge.map(Self.span), maxIdle: maxIdle.map(Self.span), minBytes: minBytes, action: action)
      let age = Double(Int64.random(in: -100...(10 * 86_400), using: &random))
      let upload = PolicyTests.upload(age: age)
      guard !Policy.partsCanMatter(upload: upload, now: Self.now, selection: .selected(rule), safety: Self.safety)
      else { continue }
      skipped += 1
      let without = Policy.decide(
        upload: upload, parts: nil, now: Self.now, selection: .selected(rule), safety: Self.safety)
      #expect(without.kind == DecisionKind.keep)
      for _ in 0..<4 {
        let newestAgo: Double? = Bool.random(using: &random) ? nil : Double.random(in: -50...age + 50, using: &random)
        let parts = PartsSummary(
          count: Int.random(in: 0...5, using: &random), bytes: Int64.random(in: 0...(1 << 22), using: &random),
          newestModified: newestAgo.map { Self.now.addingTimeInterval(-$0) })
        let with = Policy.decide(
          upload: upload, parts: parts, now: Self.now, selection: .selected(rule), safety: Self.safety)
        #expect(with.kind == without.kind, "rule \(rule), age \(age), parts \(parts)")
      }
    }
    #expect(skipped > 1_000, "the generator must exercise the skip")
  }
}
