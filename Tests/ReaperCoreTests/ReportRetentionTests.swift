import Foundation
import ReaperCore
import Testing

@Suite("Cycle IDs and report retention")
struct ReportRetentionTests {
  static let base = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18T11:06:40Z

  static func id(_ offset: TimeInterval, _ sequence: Int = 0) -> CycleID {
    CycleID(started: base.addingTimeInterval(offset), sequence: sequence)
  }

  @Test func idsRoundTripThroughEveryAcceptedSpelling() throws {
    let id = CycleID(started: Date(timeIntervalSince1970: 1_795_900_200.75))
    #expect(id.description == "20261128T211000Z")
    #expect(id.fileName == "cycle-20261128T211000Z.jsonl")
    for spelling in ["20261128T211000Z", "cycle-20261128T211000Z.jsonl", "2026-11-28T21:10:00Z"] {
      #expect(CycleID(parsing: spelling) == id, "\(spelling)")
    }
    let second = CycleID(started: id.started, sequence: 2)
    #expect(second.description == "20261128T211000Z-2")
    #expect(CycleID(parsing: "cycle-20261128T211000Z-2.jsonl") == second)
    #expect(CycleID(parsing: "2026-11-28T21:10:00Z-2") == second)
    #expect(id < second)
  }

  @Test(arguments: [
    "", "cycle-.jsonl", "20261118T191000", "20261118X191000Z", "2026111T191000Z", "20261128T211000Z-",
    "20261128T211000Z-x", "20261128T211000Z-0", "20261318T191000Z", "yesterday", "20261128T211000Z-99999999",
  ])
  func malformedIDsAreRejected(text: String) {
    #expect(CycleID(parsing: text) == nil)
  }

  @Test func countKeepsTheNewestAndDeletesOldestFirst() {
    let ids = [Self.id(300), Self.id(0), Self.id(200), Self.id(100), Self.id(100, 1)]
    #expect(ReportRetention.count(2).expired(ids, now: Self.base) == [Self.id(0), Self.id(100), Self.id(100, 1)])
    #expect(ReportRetention.count(5).expired(ids, now: Self.base).isEmpty)
    #expect(ReportRetention.count(200).expired([], now: Self.base).isEmpty)
  }

  @Test func ageDeletesOlderThanTheSpanButNeverTheNewest() throws {
    let day: TimeInterval = 86_400
    let ids = [Self.id(0), Self.id(5 * day), Self.id(9 * day), Self.id(10 * day)]
    let now = Self.base.addingTimeInterval(10 * day + 60)
    let week = try TimeSpan.parse("7d")
    #expect(ReportRetention.age(week).expired(ids, now: now) == [Self.id(0)])
    // After a month offline every report is old; the newest still stays so `report` has something to show.
    let later = now.addingTimeInterval(30 * day)
    #expect(ReportRetention.age(week).expired(ids, now: later) == [Self.id(0), Self.id(5 * day), Self.id(9 * day)])
  }
}
