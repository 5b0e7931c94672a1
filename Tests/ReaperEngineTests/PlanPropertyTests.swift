import Foundation
import ReaperCore
import ReaperEngine
import ReaperProviders
import TestSupport
import Testing

@testable import ReaperConfig

/// Over many random worlds: between the plan and the apply, uploads complete, appear, and come back under
/// reused ids; plans are cut down and padded with uploads that never existed. `apply` must abort exactly the
/// planned uploads still listed as planned and still stale, and nothing else.
@Suite("Plan properties")
struct PlanPropertyTests {
  static let day: TimeInterval = 86_400

  @Test(arguments: 0..<60) func applyAbortsExactlyWhatIsPlannedStillListedAndStale(_ seed: Int) async {
    var random = SplitMix64(seed: UInt64(seed) &* 0x9E37_79B9 &+ 7)
    let now = PlanApplyTests.now
    var world: [Upload] = []
    for index in 0..<Int.random(in: 5...40, using: &random) {
      let bucket = Bool.random(using: &random) ? "b" : "c"
      let prefix = ["tmp/", "tmp/", "other/"].randomElement(using: &random)!
      let age = [3600, 3 * Self.day, 8 * Self.day, 30 * Self.day].randomElement(using: &random)!
      world.append(
        Upload(
          target: "t", bucket: bucket, key: "\(prefix)\(index).bin", uploadID: "u\(index)",
          initiated: now.addingTimeInterval(-age + Double.random(in: 0..<1, using: &random))))
    }
    var entries = await PlanApplyTests.plan(world).filter { _ in Int.random(in: 0..<4, using: &random) > 0 }
    // Uploads that never existed, and planned ones under another bucket: never to be aborted.
    entries.append(
      PlanEntry(
        target: "t", bucket: "b", key: "tmp/ghost.bin", uploadID: "ghost",
        initiated: now.addingTimeInterval(-9 * Self.day),
        rule: "stale", bytes: 1, reason: "made up"))
    // Between plan and apply: completions, new stale uploads, ids reused by new uploads.
    var later: [Upload] = []
    for upload in world {
      switch Int.random(in: 0..<6, using: &random) {
      case 0: continue
      case 1:
        var reused = upload
        reused.initiated = reused.initiated.addingTimeInterval(-Double(Int.random(in: 1...5, using: &random)))
        later.append(reused)
      default: later.append(upload)
      }
    }
    for index in 0..<Int.random(in: 0...5, using: &random) {
      later.append(
        Upload(
          target: "t", bucket: "b", key: "tmp/new-\(index).bin", uploadID: "n\(index)",
          initiated: now.addingTimeInterval(-20 * Self.day)))
    }
    let time = now.addingTimeInterval(Double.random(in: 0..<3600, using: &random))
    let (summary, provider, _) = await PlanApplyTests.apply(entries, to: later, at: time)
    let planned = Dictionary(uniqueKeysWithValues: entries.map { ($0.uploadID, $0) })
    let expected = Set(
      later.filter { upload in
        guard let entry = planned[upload.uploadID], entry.bucket == upload.bucket, entry.key == upload.key else {
          return false
        }
        return PlanTime.milliseconds(entry.initiated) == PlanTime.milliseconds(upload.initiated)
          && upload.key.hasPrefix("tmp/") && time.timeIntervalSince(upload.initiated) > 7 * Self.day
      }.map(\.uploadID))
    #expect(Set(provider.abortedUploads.map(\.uploadID)) == expected, "seed \(seed)")
    #expect(summary.aborted == expected.count)
  }

  /// Whatever bytes a plan file holds, reading it returns a plan or a refusal; a plan accepted reads back the same.
  @Test(arguments: 0..<40) func anyMutationOfAPlanIsReadOrRefusedWhole(_ seed: Int) throws {
    var random = SplitMix64(seed: UInt64(seed) &+ 1000)
    let valid = PlanFileFormatFixture.text
    var bytes = Array(valid.utf8)
    for _ in 0..<Int.random(in: 1...6, using: &random) {
      let index = Int.random(in: 0..<bytes.count, using: &random)
      switch Int.random(in: 0..<3, using: &random) {
      case 0: bytes[index] = UInt8.random(in: 0...255, using: &random)
      case 1: bytes.remove(at: index)
      default: bytes.insert(Array("{}[],:\"0-.e\\".utf8).randomElement(using: &random)!, at: index)
      }
    }
    do {
      let plan = try PlanJSON.parse(Data(bytes))
      let again = try PlanJSON.parse(Data(PlanJSON.render(plan, configPath: "x").utf8))
      #expect(again == plan)
    } catch {
      #expect(!error.message.isEmpty)
    }
  }
}

enum PlanFileFormatFixture {
  static let text = PlanJSON.render(
    Plan(
      configDigest: String(repeating: "0f", count: 32), created: Date(timeIntervalSince1970: 1_800_000_000.5),
      entries: (0..<3).map {
        PlanEntry(
          target: "t", bucket: "b", key: "tmp/\($0).bin", uploadID: "u\($0)",
          initiated: Date(timeIntervalSince1970: 1_799_000_000 + Double($0)), rule: "stale", bytes: 1000,
          reason: "age > max_age")
      }), configPath: "/etc/upload-reaper/config.toml")
}
