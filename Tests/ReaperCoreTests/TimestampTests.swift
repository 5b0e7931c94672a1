import Foundation
import TestSupport
import Testing

@testable import ReaperCore

@Suite("Timestamps")
struct TimestampTests {
  /// Wed Jan 18 16:12:38 2017 UTC, the seed's `Initiated`.
  static let seedUTC: TimeInterval = 1_484_755_958

  @Test func seedCtimeReadAsUTC() {
    #expect(Timestamp.parseCtime("Wed Jan 18 16:12:38 2017", zone: .utc)?.timeIntervalSince1970 == Self.seedUTC)
  }

  @Test func seedCtimeReadAsPlusEight() throws {
    let zone = try #require(Zone.offset(parsing: "+08:00"))
    #expect(
      Timestamp.parseCtime("Wed Jan 18 16:12:38 2017", zone: zone)?.timeIntervalSince1970 == Self.seedUTC - 8 * 3600)
  }

  @Test func seedCtimeReadInANamedZone() throws {
    let shanghai = try #require(TimeZone(identifier: "Asia/Shanghai"))
    #expect(
      Timestamp.parseCtime("Wed Jan 18 16:12:38 2017", zone: .named(shanghai))?.timeIntervalSince1970
        == Self.seedUTC - 8 * 3600)
    // New York is on EST (-05:00) in January and EDT (-04:00) in July.
    let newYork = try #require(TimeZone(identifier: "America/New_York"))
    #expect(
      Timestamp.parseCtime("Wed Jan 18 16:12:38 2017", zone: .named(newYork))?.timeIntervalSince1970
        == Self.seedUTC + 5 * 3600)
    #expect(
      Timestamp.parseCtime("Tue Jul 18 16:12:38 2017", zone: .named(newYork))?.timeIntervalSince1970
        == TimeInterval(1_500_394_358 + 4 * 3600))
  }

  @Test func ctimeWithASpacePaddedDay() {
    #expect(Timestamp.parseCtime("Sun Jan  8 03:04:05 2017", zone: .utc)?.timeIntervalSince1970 == 1_483_844_645)
    #expect(Timestamp.parseCtime("Sun Jan 8 03:04:05 2017", zone: .utc)?.timeIntervalSince1970 == 1_483_844_645)
  }

  @Test func rfc3339WithAndWithoutFraction() {
    #expect(Timestamp.parseRFC3339("2017-01-18T16:12:38Z")?.timeIntervalSince1970 == Self.seedUTC)
    #expect(Timestamp.parseRFC3339("2017-01-18T16:12:38.000Z")?.timeIntervalSince1970 == Self.seedUTC)
    let fractional = Timestamp.parseRFC3339("2017-01-18T16:12:38.25Z")?.timeIntervalSince1970
    #expect(fractional == Self.seedUTC + 0.25)
    #expect(Timestamp.parseRFC3339("2017-01-19T00:12:38+08:00")?.timeIntervalSince1970 == Self.seedUTC)
    #expect(Timestamp.parseRFC3339("2017-01-18T11:12:38.5-05:00")?.timeIntervalSince1970 == Self.seedUTC + 0.5)
    #expect(Timestamp.parseRFC3339("2017-01-18t16:12:38z")?.timeIntervalSince1970 == Self.seedUTC)
    #expect(Timestamp.parseRFC3339("2017-01-18 16:12:38Z")?.timeIntervalSince1970 == Self.seedUTC)
  }

  @Test func rfc3339WithoutZoneNeedsOne() {
    #expect(Timestamp.parseRFC3339("2017-01-18T16:12:38") == nil)
    #expect(
      Timestamp.parseRFC3339("2017-01-18T16:12:38", zoneless: .fixed(secondsEast: 3600))?.timeIntervalSince1970
        == Self.seedUTC - 3600)
  }

  @Test func rfc1123() {
    #expect(Timestamp.parseRFC1123("Wed, 18 Jan 2017 16:12:38 GMT")?.timeIntervalSince1970 == Self.seedUTC)
    #expect(Timestamp.parseRFC1123("Wed, 18 Jan 2017 16:12:38 UTC")?.timeIntervalSince1970 == Self.seedUTC)
    #expect(Timestamp.parseRFC1123("Thu, 16 May 2019 06:45:51 GMT")?.timeIntervalSince1970 == 1_557_989_151)
  }

  @Test(
    "malformed timestamps are refused, never guessed",
    arguments: [
      "", "garbage", "2017-02-30T00:00:00Z", "2017-13-01T00:00:00Z", "2017-01-18T24:00:00Z", "2017-01-18T16:61:00Z",
      "2017-01-18T16:12:38+25:00", "2017-01-18T16:12:38.Z", "2017-01-18T16:12:38Zjunk", "17-01-18T16:12:38Z",
      "Wed, 18 Jan 2017 16:12:38 PST", "Wed, 18 Foo 2017 16:12:38 GMT", "Wed 18 Jan 2017 16:12:38 GMT",
      "Xyz Jan 18 16:12:38 2017", "Wed Jan 18 16:12 2017", "Wed Jan 32 16:12:38 2017", "Wed Jan 18 16:12:38 17",
      "Wed Feb 29 16:12:38 2017",
    ])
  func refusesMalformed(text: String) {
    #expect(Timestamp.parse(text, zone: .utc) == nil)
  }

  @Test func parseDetectsTheForm() {
    #expect(Timestamp.parse("2017-01-18T16:12:38Z", zone: .utc)?.timeIntervalSince1970 == Self.seedUTC)
    #expect(Timestamp.parse("Wed, 18 Jan 2017 16:12:38 GMT", zone: .utc)?.timeIntervalSince1970 == Self.seedUTC)
    #expect(
      Timestamp.parse("Wed Jan 18 16:12:38 2017", zone: .fixed(secondsEast: 28_800))?.timeIntervalSince1970
        == Self.seedUTC - 28_800)
  }

  @Test func leapDaysAndCenturies() {
    #expect(Timestamp.parseRFC3339("2016-02-29T00:00:00Z")?.timeIntervalSince1970 == 1_456_704_000)
    #expect(Timestamp.parseRFC3339("2000-02-29T00:00:00Z")?.timeIntervalSince1970 == 951_782_400)
    #expect(Timestamp.parseRFC3339("1900-02-29T00:00:00Z") == nil)
    #expect(Timestamp.parseRFC3339("1969-12-31T23:59:59Z")?.timeIntervalSince1970 == -1)
  }

  @Test func zoneOffsets() {
    #expect(Zone.offset(parsing: "+08:00") == .fixed(secondsEast: 28_800))
    #expect(Zone.offset(parsing: "-05:30") == .fixed(secondsEast: -19_800))
    #expect(Zone.offset(parsing: "UTC") == .utc)
    #expect(Zone.offset(parsing: "+8:00") == nil)
    #expect(Zone.offset(parsing: "+19:00") == nil)
    #expect(Zone.offset(parsing: "Asia/Shanghai") == nil)
    #expect(Zone.fixed(secondsEast: -19_800).description == "-05:30")
  }

  @Test func formatsRFC3339InUTC() {
    #expect(Timestamp.formatRFC3339(Date(timeIntervalSince1970: Self.seedUTC + 0.9)) == "2017-01-18T16:12:38Z")
    #expect(Timestamp.formatRFC3339(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00Z")
    #expect(Timestamp.formatRFC3339(Date(timeIntervalSince1970: -1)) == "1969-12-31T23:59:59Z")
  }

  /// The hand-written calendar arithmetic agrees with Foundation's over a spread of instants, both ways.
  @Test func civilArithmeticAgreesWithFoundation() throws {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = try #require(TimeZone(identifier: "UTC"))
    var generator = SplitMix64(seed: 42)
    for _ in 0..<2000 {
      let seconds = Int64(generator.next() % 7_000_000_000) - 1_000_000_000
      let date = Date(timeIntervalSince1970: TimeInterval(seconds))
      let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
      let text = Timestamp.formatRFC3339(date)
      #expect(Timestamp.parseRFC3339(text)?.timeIntervalSince1970 == TimeInterval(seconds), "\(text)")
      let expected = String(
        format: "%04d-%02d-%02dT%02d:%02d:%02dZ", parts.year!, parts.month!, parts.day!, parts.hour!, parts.minute!,
        parts.second!)
      #expect(text == expected)
    }
  }
}
