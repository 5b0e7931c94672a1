import Testing

@testable import ReaperCore

@Suite("Durations")
struct TimeSpanTests {
  @Test(
    "valid durations",
    arguments: [
      ("90s", 90), ("45m", 2700), ("36h", 129_600), ("7d", 604_800), ("2w", 1_209_600), ("1d12h", 129_600),
      ("1w2d3h4m5s", 788_645), ("0s", 0), ("007m", 420),
    ] as [(String, Int64)])
  func parsesValid(text: String, seconds: Int64) throws {
    #expect(try TimeSpan.parse(text).seconds == seconds)
  }

  @Test(
    "invalid durations name the problem",
    arguments: [
      ("3600", "has no unit: write it as \"3600s\""),
      ("", "empty duration"),
      ("5y", "unexpected \"y\""),
      ("h", "expected a number before \"h\""),
      ("1.5h", "fractions are not allowed"),
      ("30m1h", "units must go from largest to smallest"),
      ("1h1h", "units must go from largest to smallest"),
      ("-5m", "unexpected \"-\""),
      (" 5m", "unexpected \" \""),
      ("5m ", "unexpected \" \""),
      ("12", "has no unit"),
      ("10", "has no unit"),
      ("99999999999w", "longer than ten years"),
      ("600w", "longer than ten years"),
      ("5", "has no unit"),
      ("5mm", "expected a number before \"m\""),
      ("4H", "unexpected \"H\""),
    ])
  func rejectsInvalid(text: String, fragment: String) {
    #expect {
      _ = try TimeSpan.parse(text)
    } throws: { error in
      (error as? TimeSpanError)?.message.contains(fragment) == true
    }
  }

  @Test func descriptionKeepsTheWrittenUnit() throws {
    #expect(try TimeSpan.parse("36h").description == "36h")
    #expect(try TimeSpan.parse("24h").description == "24h")
    #expect(try TimeSpan.parse("1d12h").description == "1d12h")
    #expect(try TimeSpan.parse("2w").description == "2w")
    #expect(TimeSpan(seconds: 86_400).description == "1d")
  }

  @Test func equalityIsByLength() throws {
    #expect(try TimeSpan.parse("24h") == TimeSpan.parse("1d"))
    #expect(try TimeSpan.parse("59m") < TimeSpan.parse("1h"))
  }

  @Test func humanizeGivesTheTwoLargestParts() {
    #expect(TimeSpan.humanize(seconds: 0) == "0s")
    #expect(TimeSpan.humanize(seconds: 45) == "45s")
    #expect(TimeSpan.humanize(seconds: 3 * 86_400 + 4 * 3600 + 59) == "3d 4h")
    #expect(TimeSpan.humanize(seconds: 86_400 + 5 * 60) == "1d 5m")
    #expect(TimeSpan.humanize(seconds: -90) == "-1m 30s")
  }

  @Test func humanizeLikeAThresholdSpeaksInItsUnit() throws {
    let day = try TimeSpan.parse("24h")
    #expect(TimeSpan.humanize(seconds: 34 * 3600, like: day) == "34h")
    #expect(TimeSpan.humanize(seconds: 34 * 3600 + 720, like: day) == "34h 12m")
    #expect(TimeSpan.humanize(seconds: 24 * 3600 + 30, like: day) == "24h 30s")
    #expect(TimeSpan.humanize(seconds: 1800, like: day) == "30m")
    #expect(TimeSpan.humanize(seconds: 10 * 86_400, like: try TimeSpan.parse("7d")) == "10d")
    #expect(TimeSpan.humanize(seconds: 99 * 3600 + 60, like: day) == "99h 1m")
    #expect(TimeSpan.humanize(seconds: 405 * 3600 + 3300, like: day) == "16d 21h")
    #expect(TimeSpan.humanize(seconds: 5 * 3600, like: try TimeSpan.parse("45m")) == "5h")
  }
}
