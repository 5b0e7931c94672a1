import Foundation
import Testing

@testable import ReaperCore

/// PDS parts carry no time: idle is measured from the upload's last activity, and the reason says from what.
@Suite("Idle time from the upload's last activity")
struct ActivityIdleTests {
  static let now = Date(timeIntervalSince1970: 1_800_000_000)
  static let rule = Rule(
    name: "r", maxAge: try! TimeSpan.parse("3d"), maxIdle: try! TimeSpan.parse("1d"), action: .abort)

  static func upload(age: TimeInterval, activityAgo: TimeInterval?, source: String = "updated_at") -> Upload {
    Upload(
      target: "t", bucket: "9001", key: "相册/a.mov", uploadID: "U", initiated: now.addingTimeInterval(-age),
      handle: "F", lastActivity: activityAgo.map { Activity(date: now.addingTimeInterval(-$0), source: source) })
  }

  static func decide(_ upload: Upload, parts: PartsSummary?) -> Decision {
    Policy.decide(upload: upload, parts: parts, now: now, selection: .selected(rule), safety: SafetySettings())
  }

  /// Parts as PDS lists them: sizes, no times.
  static let untimed = PartsSummary(count: 3, bytes: 3 << 20, newestModified: nil, highestPartNumber: 3)

  @Test func idleRunsFromUpdatedAt() {
    let decision = Self.decide(Self.upload(age: 5 * 86_400, activityAgo: 2 * 86_400), parts: Self.untimed)
    #expect(decision.kind == .abort)
    #expect(decision.idleSeconds == Int64(2 * 86_400))
    #expect(decision.reason == "age 5d > max_age 3d, idle 2d > max_idle 1d (since updated_at)")
  }

  @Test func aRecentUpdateKeepsTheUpload() {
    let decision = Self.decide(Self.upload(age: 5 * 86_400, activityAgo: 3600), parts: Self.untimed)
    #expect(decision.kind == .keep)
    #expect(decision.reason == "idle 1h <= max_idle 1d (since updated_at)")
  }

  @Test func withoutUpdatedAtTheReasonNamesCreatedAt() {
    let upload = Self.upload(age: 5 * 86_400, activityAgo: 5 * 86_400, source: "created_at")
    let decision = Self.decide(upload, parts: PartsSummary())
    #expect(decision.reason == "age 5d > max_age 3d, idle 5d > max_idle 1d (since created_at)")
  }

  @Test func timedPartsStillWinAndNothingChangesForOtherProviders() {
    let timed = PartsSummary(count: 1, bytes: 1, newestModified: Self.now.addingTimeInterval(-7200))
    let withActivity = Self.decide(Self.upload(age: 5 * 86_400, activityAgo: 2 * 86_400), parts: timed)
    #expect(withActivity.idleSeconds == 7200)
    #expect(withActivity.reason == "idle 2h <= max_idle 1d")
    let plain = Self.decide(Self.upload(age: 5 * 86_400, activityAgo: nil), parts: PartsSummary())
    #expect(plain.reason == "age 5d > max_age 3d, idle 5d > max_idle 1d")
  }

  @Test func anActivityBeforeTheStartCountsFromTheStart() {
    let decision = Self.decide(Self.upload(age: 2 * 86_400, activityAgo: 9 * 86_400), parts: Self.untimed)
    #expect(decision.idleSeconds == Int64(2 * 86_400))
  }

  @Test func bytesHeldSaturateInsteadOfTrapping() {
    var summary = PartsSummary()
    summary.add(Part(number: 1, size: .max - 10, lastModified: nil))
    summary.add(Part(number: 2, size: 1 << 40, lastModified: nil))
    #expect(summary.bytes == .max)
    #expect(summary.count == 2)
  }
}
