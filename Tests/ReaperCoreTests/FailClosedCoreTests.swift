import Foundation
import Testing

@testable import ReaperCore

/// The core's share of "an abort needs positive, validated evidence": what the policy, the re-check, the
/// address type and the clocks do when a server's data cannot be trusted.
@Suite("Fail closed: the core")
struct FailClosedCoreTests {
  static let now = PolicyTests.now
  static let idleRule = Rule(name: "idle", maxIdle: PolicyTests.span("6h"), action: .abort)
  static let ageRule = Rule(name: "age", maxAge: PolicyTests.span("24h"), action: .abort)

  /// An old upload with one part written a minute ago, whose time the server sent unreadable.
  static func partsWithUnreadableTime(_ text: String = "yesterday-ish") -> PartsSummary {
    var summary = PartsSummary()
    summary.add(Part(number: 1, size: 5, lastModified: now.addingTimeInterval(-10 * 86_400)))
    summary.add(Part(number: 2, size: 7, lastModified: nil, unreadableTime: text))
    return summary
  }

  @Test func anUnreadablePartTimeKeepsAnIdleRulesUpload() {
    let decision = PolicyTests.decide(Self.idleRule, age: 30 * 86_400, parts: Self.partsWithUnreadableTime())
    #expect(decision.kind == .keep)
    #expect(decision.reason == "idle time unknown: part 2 has an unreadable LastModified \"yesterday-ish\"")
  }

  @Test func aMissingPartTimeKeepsItToo() {
    var summary = PartsSummary()
    summary.add(Part(number: 4, size: 1, lastModified: nil, unreadableTime: "missing"))
    summary.add(Part(number: 5, size: 1, lastModified: nil, unreadableTime: "0001-01-01T00:00:00Z"))
    let decision = PolicyTests.decide(Self.idleRule, age: 30 * 86_400, parts: summary)
    #expect(decision.kind == .keep)
    #expect(decision.reason.contains("part 4 has an unreadable LastModified \"missing\" (and 1 more)"))
  }

  /// Part times do not matter to an age-only rule: the clearly stale upload beside them is still aborted.
  @Test func anAgeOnlyRuleIsNotBlindedByPartTimes() {
    let decision = PolicyTests.decide(Self.ageRule, age: 30 * 86_400, parts: Self.partsWithUnreadableTime())
    #expect(decision.kind == .abort)
  }

  @Test func partsWithoutATimeOfTheirOwnAreNotUnreadable() {
    // PDS keeps no time per part: idle is then measured from the upload's own activity, as before.
    var summary = PartsSummary()
    summary.add(Part(number: 1, size: 5, lastModified: nil))
    #expect(summary.idleUnknownReason(initiated: Self.now.addingTimeInterval(-30 * 86_400)) == nil)
    #expect(PolicyTests.decide(Self.idleRule, age: 30 * 86_400, parts: summary).kind == .abort)
  }

  @Test func theRecheckSkipsWhenAPartTimeTurnsUnreadable() {
    var before = PartsSummary()
    before.add(Part(number: 1, size: 5, lastModified: Self.now.addingTimeInterval(-10 * 86_400)))
    var after = before
    after.newestModified = before.newestModified
    after.unreadableTimes = 1
    after.firstUnreadableTime = "part 1 has an unreadable LastModified \"?\""
    let reason = Recheck.reasonToSkip(
      before: before, after: after, rule: Self.idleRule, upload: PolicyTests.upload(age: 30 * 86_400),
      decidedAt: Self.now, now: Self.now)
    #expect(reason?.hasPrefix("recheck: idle time unknown") == true)
  }

  @Test func anAddressCannotHoldAnEmptyKeyIdOrBucket() {
    #expect(throws: UploadAddress.Refusal.self) {
      try UploadAddress(bucket: "b", key: "", uploadID: "u", keyInPath: true)
    }
    #expect(throws: UploadAddress.Refusal.self) {
      try UploadAddress(bucket: "b", key: "k", uploadID: "", keyInPath: false)
    }
    #expect(throws: UploadAddress.Refusal.self) {
      try UploadAddress(bucket: "", key: "k", uploadID: "u", keyInPath: false)
    }
    #expect((try? UploadAddress(bucket: "b", key: "k", uploadID: "u", keyInPath: true))?.key == "k")
  }

  @Test(arguments: [".", "..", "a/../b", "a/./b", "../b", "a/.."])
  func aKeyInAPathRefusesDotSegments(key: String) {
    #expect(throws: UploadAddress.Refusal.self) {
      try UploadAddress(bucket: "b", key: key, uploadID: "u", keyInPath: true)
    }
    // Where the key never becomes a path (PDS addresses files by id), the same key is fine.
    #expect((try? UploadAddress(bucket: "b", key: key, uploadID: "u", keyInPath: false)) != nil)
  }

  @Test(arguments: ["/a", "a//b", "//"])
  func aKeyInAPathRefusesEmptySegments(key: String) {
    #expect(throws: UploadAddress.Refusal.self) {
      try UploadAddress(bucket: "b", key: key, uploadID: "u", keyInPath: true)
    }
  }

  @Test(arguments: ["a..b", "...", "a/.b", ".a", "a/", "a b/c"])
  func keysThatOnlyLookLikeDotSegmentsAreAddressable(key: String) {
    #expect((try? UploadAddress(bucket: "b", key: key, uploadID: "u", keyInPath: true)) != nil)
  }

  @Test func timesBeforeTheFloorAreImplausible() {
    #expect(!Plausible.time(Date(timeIntervalSince1970: 0)))
    #expect(!Plausible.time(Timestamp.parse("0001-01-01T00:00:00Z", zone: .utc)!))
    #expect(!Plausible.time(Date(timeIntervalSince1970: 946_684_799)))
    #expect(Plausible.time(Date(timeIntervalSince1970: 946_684_800)))
    #expect(Plausible.problem(Date(timeIntervalSince1970: 0))?.contains("before 2000-01-01") == true)
  }

  @Test func agesAreMeasuredOnTheEarlierClock() {
    let host = Self.now
    #expect(ClockCheck.measuringNow(server: host.addingTimeInterval(3 * 86_400), host: host) == host)
    #expect(ClockCheck.measuringNow(server: host.addingTimeInterval(-90), host: host) == host.addingTimeInterval(-90))
    #expect(ClockCheck.measuringNow(server: nil, host: host) == host)
    // A Date header at the epoch makes every upload young: kept, never aborted early.
    #expect(ClockCheck.measuringNow(server: Date(timeIntervalSince1970: 0), host: host).timeIntervalSince1970 == 0)
  }
}
