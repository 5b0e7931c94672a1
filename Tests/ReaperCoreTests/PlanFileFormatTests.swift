import Foundation
import ReaperCore
import Testing

/// A plan file is untrusted input: anything malformed is refused whole, and `--force` cannot override that.
@Suite("Plan file format")
struct PlanFileFormatTests {
  static let created = Date(timeIntervalSince1970: 1_800_000_000.25)
  static let digest = String(repeating: "ab", count: 32)

  static func entry(_ id: String, key: String = "tmp/a.bin", bytes: Int64? = 1000) -> PlanEntry {
    PlanEntry(
      target: "t", bucket: "b", key: key, uploadID: id, initiated: Date(timeIntervalSince1970: 1_799_000_000.123),
      rule: "stale", bytes: bytes, reason: "age 11d > max_age 7d; dry run")
  }

  static let valid = Plan(
    configDigest: digest, created: created,
    entries: [entry("u1"), entry("u2", key: "tmp/上传 \"quoted\"\n.bin", bytes: nil)])

  static func text(_ plan: Plan = valid) -> String { PlanJSON.render(plan, configPath: "/etc/r.toml") }

  @Test func aRenderedPlanReadsBackTheSame() throws {
    let parsed = try PlanJSON.parse(Data(Self.text().utf8))
    #expect(parsed == Self.valid)
    #expect(PlanTime.format(Self.created) == "2027-01-15T08:00:00.250Z")
    let empty = Plan(configDigest: Self.digest, created: Self.created, entries: [])
    #expect(try PlanJSON.parse(Data(Self.text(empty).utf8)) == empty)
  }

  /// Each mutation of a valid plan, and the words the refusal must contain.
  static let malformed: [(String, String)] = [
    ("", "not valid JSON"),
    ("[]", "wrong type"),
    ("{\"format\":\"upload-reaper-plan\"}", "\"version\" is missing"),
    (text().replacingOccurrences(of: "upload-reaper-plan", with: "other"), "\"format\""),
    (text().replacingOccurrences(of: "\"version\": 1", with: "\"version\": 2"), "version"),
    (text().replacingOccurrences(of: "\"version\": 1", with: "\"version\": \"1\""), "wrong type"),
    (text().replacingOccurrences(of: digest, with: digest.uppercased()), "config_digest"),
    (text().replacingOccurrences(of: digest, with: "abc"), "config_digest"),
    (text().replacingOccurrences(of: "2027-01-15T08:00:00.250Z", with: "2027-01-15 08:00:00"), "created"),
    (text().replacingOccurrences(of: "\"upload_id\":\"u1\"", with: "\"upload_id\":\"\""), "\"upload_id\" is empty"),
    (text().replacingOccurrences(of: "\"upload_id\":\"u1\",", with: ""), "\"upload_id\" is missing"),
    (text().replacingOccurrences(of: "\"upload_id\":\"u2\"", with: "\"upload_id\":\"u1\""), "two keys"),
    (text().replacingOccurrences(of: "2027-01-03T18:13:20.123Z", with: "yesterday"), "initiated"),
    (text().replacingOccurrences(of: "\"bytes\":1000", with: "\"bytes\":-1"), "negative"),
    (text().replacingOccurrences(of: "\"bytes\":1000", with: "\"bytes\":1.5"), "bytes"),
    (text().replacingOccurrences(of: "\"rule\":\"stale\",\"bytes\":1000", with: "\"bytes\":1000"), "\"rule\""),
    (String(text().dropLast(4)), "not valid JSON"),
  ]

  @Test(arguments: malformed.indices) func aMalformedPlanIsRefused(_ index: Int) {
    let (text, words) = Self.malformed[index]
    #expect(text != Self.text(), "the mutation \(index) changed nothing")
    do {
      let plan = try PlanJSON.parse(Data(text.utf8))
      Issue.record("mutation \(index) was accepted: \(plan)")
    } catch {
      #expect(error.message.contains(words), "mutation \(index): \(error.message)")
    }
  }

  @Test func anUploadNamedTwiceIsRefused() {
    let twice = Plan(configDigest: Self.digest, created: Self.created, entries: [Self.entry("u1"), Self.entry("u1")])
    #expect(throws: PlanError.self) { try PlanJSON.parse(Data(Self.text(twice).utf8)) }
  }

  @Test func aPlanIsRefusedUnderAnotherConfigWhenTooOldOrFromTheFuture() {
    let day = TimeSpan(seconds: 86_400)
    let plan = Self.valid
    #expect(plan.refusals(configDigest: Self.digest, now: Self.created.addingTimeInterval(3600), maxAge: day).isEmpty)
    let other = plan.refusals(configDigest: String(repeating: "cd", count: 32), now: Self.created, maxAge: day)
    #expect(other.count == 1 && other[0].contains("another config"))
    let old = plan.refusals(configDigest: Self.digest, now: Self.created.addingTimeInterval(86_401), maxAge: day)
    #expect(old.count == 1 && old[0].contains("older than --max-age"))
    // Within the clocks' tolerance a plan from a little ahead is fine; beyond it, refused.
    #expect(plan.refusals(configDigest: Self.digest, now: Self.created.addingTimeInterval(-60), maxAge: day).isEmpty)
    let future = plan.refusals(configDigest: Self.digest, now: Self.created.addingTimeInterval(-3600), maxAge: day)
    #expect(future.count == 1 && future[0].contains("future"))
  }

  @Test func aListedUploadIsPlannedOnlyWithTheSameAddressAndStart() {
    let set = PlanSet([Self.entry("u1")])
    let same = Upload(
      target: "t", bucket: "b", key: "tmp/a.bin", uploadID: "u1",
      initiated: Date(timeIntervalSince1970: 1_799_000_000.123))
    #expect(set.check(same) == .planned(Self.entry("u1")))
    var otherKey = same
    otherKey.key = "tmp/b.bin"
    #expect(set.check(otherKey) == .outside)
    var otherBucket = same
    otherBucket.bucket = "c"
    #expect(set.check(otherBucket) == .outside)
    var later = same
    later.initiated = later.initiated.addingTimeInterval(1)
    guard case .mismatch = set.check(later) else {
      Issue.record("a reused upload id was taken for the planned upload")
      return
    }
    // A key that Swift calls equal under canonical equivalence is another object to a server.
    let composed = PlanSet([Self.entry("u1", key: "caf\u{E9}")])
    var decomposed = same
    decomposed.key = "cafe\u{301}"
    #expect(composed.check(decomposed) == .outside)
  }
}
