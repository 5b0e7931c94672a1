import Foundation
import Testing

@testable import ReaperCore

@Suite("Decisions")
struct PolicyTests {
  static let now = Date(timeIntervalSince1970: 1_800_000_000)
  static let safety = SafetySettings(minAge: TimeSpan(seconds: 3600, leadingUnit: .hours))

  static func upload(age: TimeInterval) -> Upload {
    Upload(target: "t", bucket: "b", key: "tmp/a.bin", uploadID: "u1", initiated: now.addingTimeInterval(-age))
  }

  static func span(_ text: String) -> TimeSpan { try! TimeSpan.parse(text) }

  static func decide(_ rule: Rule, age: TimeInterval, parts: PartsSummary? = nil) -> Decision {
    Policy.decide(upload: upload(age: age), parts: parts, now: now, selection: .selected(rule), safety: safety)
  }

  static func parts(newestAgo: TimeInterval?, bytes: Int64 = 1000, count: Int = 1) -> PartsSummary {
    PartsSummary(count: count, bytes: bytes, newestModified: newestAgo.map { now.addingTimeInterval(-$0) })
  }

  @Test func ageEqualToMaxAgeIsNotStale() {
    let rule = Rule(name: "r", maxAge: Self.span("24h"), action: .abort)
    let decision = Self.decide(rule, age: 86_400)
    #expect(decision.kind == .keep)
    #expect(decision.reason == "age 24h <= max_age 24h")
  }

  @Test func oneSecondPastMaxAgeIsStale() {
    let rule = Rule(name: "r", maxAge: Self.span("24h"), action: .abort)
    let decision = Self.decide(rule, age: 86_401)
    #expect(decision.kind == .abort)
    #expect(decision.reason == "age 24h 1s > max_age 24h")
    #expect(decision.ruleName == "r")
    #expect(decision.ageSeconds == 86_401)
  }

  @Test func aFractionPastMaxAgeIsStale() {
    let rule = Rule(name: "r", maxAge: Self.span("24h"), action: .report)
    #expect(Self.decide(rule, age: 86_400.001).kind == .report)
    #expect(Self.decide(rule, age: 86_399.999).kind == .keep)
  }

  @Test func reasonReadsInTheRuleUnit() {
    let rule = Rule(name: "r", maxAge: Self.span("24h"), action: .abort)
    #expect(Self.decide(rule, age: 34 * 3600).reason == "age 34h > max_age 24h")
  }

  @Test func idleEqualToMaxIdleIsNotStale() {
    let rule = Rule(name: "r", maxAge: Self.span("24h"), maxIdle: Self.span("6h"), action: .abort)
    let decision = Self.decide(rule, age: 90_000, parts: Self.parts(newestAgo: 6 * 3600))
    #expect(decision.kind == .keep)
    #expect(decision.reason == "idle 6h <= max_idle 6h")
    #expect(decision.idleSeconds == Int64(6 * 3600))
  }

  @Test func idlePastMaxIdleIsStale() {
    let rule = Rule(name: "r", maxAge: Self.span("24h"), maxIdle: Self.span("6h"), action: .abort)
    let decision = Self.decide(rule, age: 90_000, parts: Self.parts(newestAgo: 6 * 3600 + 1))
    #expect(decision.kind == .abort)
    #expect(decision.reason == "age 25h > max_age 24h, idle 6h 1s > max_idle 6h")
  }

  @Test func aRecentPartKeepsASlowOldUpload() {
    let rule = Rule(name: "r", maxAge: Self.span("24h"), maxIdle: Self.span("6h"), action: .abort)
    #expect(Self.decide(rule, age: 10 * 86_400, parts: Self.parts(newestAgo: 60)).kind == .keep)
  }

  @Test func noPartsCountsIdleFromInitiated() {
    let rule = Rule(name: "r", maxIdle: Self.span("6h"), action: .abort)
    let empty = PartsSummary()
    #expect(Self.decide(rule, age: 6 * 3600, parts: empty).kind == .keep)
    let decision = Self.decide(rule, age: 6 * 3600 + 1, parts: empty)
    #expect(decision.kind == .abort)
    #expect(decision.idleSeconds == Int64(6 * 3600 + 1))
  }

  @Test func aPartStampedBeforeInitiatedCountsFromInitiated() {
    let rule = Rule(name: "r", maxIdle: Self.span("6h"), action: .abort)
    let decision = Self.decide(rule, age: 2 * 3600, parts: Self.parts(newestAgo: 30 * 86_400))
    #expect(decision.kind == .keep)
    #expect(decision.idleSeconds == Int64(2 * 3600))
  }

  @Test func idleRuleWithoutPartsKeeps() {
    let rule = Rule(name: "r", maxAge: Self.span("1d"), maxIdle: Self.span("6h"), action: .abort)
    let decision = Self.decide(rule, age: 30 * 86_400, parts: nil)
    #expect(decision.kind == .keep)
    #expect(decision.reason == "idle time unknown: parts not listed")
    #expect(decision.idleSeconds == nil)
  }

  @Test func minBytesIsAtLeast() {
    let rule = Rule(name: "r", maxAge: Self.span("1d"), minBytes: 1000, action: .abort)
    #expect(Self.decide(rule, age: 2 * 86_400, parts: Self.parts(newestAgo: nil, bytes: 1000)).kind == .abort)
    let small = Self.decide(rule, age: 2 * 86_400, parts: Self.parts(newestAgo: nil, bytes: 999))
    #expect(small.kind == .keep)
    #expect(small.reason == "holds 999 B < min_bytes 1000 B")
    #expect(Self.decide(rule, age: 2 * 86_400, parts: nil).reason == "size unknown: parts not listed")
  }

  @Test func zeroMinBytesNeedsNoParts() {
    let rule = Rule(name: "r", maxAge: Self.span("1d"), minBytes: 0, action: .abort)
    #expect(!rule.needsParts)
    #expect(Self.decide(rule, age: 2 * 86_400, parts: nil).kind == .abort)
  }

  @Test func safetyFloorHoldsForIdleOnlyAbortRules() {
    let rule = Rule(name: "r", maxIdle: Self.span("10m"), action: .abort)
    let atFloor = Self.decide(rule, age: 3600, parts: PartsSummary())
    #expect(atFloor.kind == .keep)
    #expect(atFloor.reason == "age 1h <= safety.min_age 1h")
    #expect(Self.decide(rule, age: 3601, parts: PartsSummary()).kind == .abort)
  }

  @Test func safetyFloorDoesNotSilenceReports() {
    let rule = Rule(name: "r", maxIdle: Self.span("10m"), action: .report)
    #expect(Self.decide(rule, age: 1200, parts: PartsSummary()).kind == .report)
  }

  @Test func uploadFromTheFutureIsKept() {
    let rule = Rule(name: "r", maxAge: Self.span("1h"), action: .abort)
    let decision = Self.decide(rule, age: -8 * 3600)
    #expect(decision.kind == .keep)
    #expect(decision.reason == "initiated 8h in the future")
  }

  @Test func actionsMapToDecisions() {
    for (action, kind) in [(RuleAction.log, DecisionKind.log), (.report, .report), (.abort, .abort)] {
      let rule = Rule(name: "r", maxAge: Self.span("2h"), action: action)
      #expect(Self.decide(rule, age: 3 * 3600).kind == kind)
    }
  }

  @Test func excludedAndUnmatched() {
    let rule = Rule(name: "r", maxAge: Self.span("2h"), action: .abort)
    let excluded = Policy.decide(
      upload: Self.upload(age: 99_999), parts: nil, now: Self.now, selection: .excluded(rule, by: Glob("tmp/*")),
      safety: Self.safety)
    #expect(excluded.kind == .keep)
    #expect(excluded.reason == "excluded by \"tmp/*\"")
    #expect(excluded.ruleName == "r")
    let unmatched = Policy.decide(
      upload: Self.upload(age: 99_999), parts: nil, now: Self.now, selection: .unmatched, safety: Self.safety)
    #expect(unmatched.kind == .unmatched)
    #expect(unmatched.ruleName == nil)
    #expect(unmatched.outcomeWithoutAbort == .kept)
  }

  @Test func partsSummaryFoldsPages() {
    var summary = PartsSummary()
    summary.add(Part(number: 1, size: 5, lastModified: Self.now.addingTimeInterval(-100)))
    summary.add(Part(number: 3, size: 7, lastModified: Self.now.addingTimeInterval(-10)))
    summary.add(Part(number: 2, size: 11, lastModified: nil))
    #expect(summary.count == 3)
    #expect(summary.bytes == 23)
    #expect(summary.highestPartNumber == 3)
    #expect(summary.newestModified == Self.now.addingTimeInterval(-10))
  }

  @Test func byteCounts() {
    #expect(ByteCount.humanize(1023) == "1023 B")
    #expect(ByteCount.humanize(1024) == "1 KiB")
    #expect(ByteCount.humanize(1_503_238_553) == "1.4 GiB")
    #expect(ByteCount.parse("64MiB") == 67_108_864)
    #expect(ByteCount.parse("5 GB") == 5_000_000_000)
    #expect(ByteCount.parse("100") == 100)
    #expect(ByteCount.parse("5 parsecs") == nil)
    #expect(ByteCount.parse("99999999999TiB") == nil)
  }
}
