import Foundation
import ReaperCore
import Testing

@testable import ReaperProviders

/// `GetBucketLifecycleConfiguration` answers, honest and hostile: only an enabled rule with one readable number of
/// days is a sweep, a filter not read in full is said, and a document that is not a lifecycle configuration is an
/// error rather than "no sweeps".
@Suite("S3 lifecycle decoder")
struct LifecycleDecoderTests {
  static func document(_ rules: String) -> [UInt8] {
    Array(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><LifecycleConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\(rules)</LifecycleConfiguration>"
        .utf8)
  }

  static func rule(
    id: String? = "r", status: String? = "Enabled", filter: String = "<Filter><Prefix>tmp/</Prefix></Filter>",
    abort: String? =
      "<AbortIncompleteMultipartUpload><DaysAfterInitiation>3</DaysAfterInitiation></AbortIncompleteMultipartUpload>"
  ) -> String {
    "<Rule>" + (id.map { "<ID>\($0)</ID>" } ?? "") + filter + (status.map { "<Status>\($0)</Status>" } ?? "")
      + (abort ?? "") + "</Rule>"
  }

  static func decode(_ rules: String) throws -> LifecycleReading {
    try S3LifecycleDecoder.decode(document(rules))
  }

  @Test func anEnabledRuleWithAFilterPrefixIsASweep() throws {
    let reading = try Self.decode(Self.rule())
    #expect(reading.sweeps == [ServerSweep(ruleID: "r", days: 3, prefix: "tmp/")])
    #expect(reading.problems.isEmpty)
  }

  @Test func everyWayOfWritingThePrefix() throws {
    let legacy = try Self.decode(Self.rule(filter: "<Prefix>old/</Prefix>"))
    #expect(legacy.sweeps.map(\.prefix) == ["old/"])
    #expect(legacy.sweeps.first?.filterDoubt == nil)
    let and = try Self.decode(
      Self.rule(
        filter: "<Filter><And><Prefix>a/</Prefix><ObjectSizeGreaterThan>0</ObjectSizeGreaterThan></And></Filter>"))
    #expect(and.sweeps.map(\.prefix) == ["a/"])
    #expect(and.sweeps.first?.filterDoubt?.contains("object size") == true)
    let empty = try Self.decode(Self.rule(filter: "<Filter></Filter>"))
    #expect(empty.sweeps.map(\.prefix) == [""])
    #expect(empty.sweeps.first?.filterDoubt == nil)
    let none = try Self.decode(Self.rule(filter: ""))
    #expect(none.sweeps.map(\.prefix) == [""])
    let escaped = try Self.decode(Self.rule(filter: "<Filter><Prefix>a&amp;b/上传/</Prefix></Filter>"))
    #expect(escaped.sweeps.map(\.prefix) == ["a&b/上传/"])
  }

  @Test func aFilterNotReadInFullIsSaidAndReadAsCoveringMore() throws {
    let tagged = try Self.decode(
      Self.rule(filter: "<Filter><And><Prefix>t/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter>"))
    #expect(tagged.sweeps.map(\.prefix) == ["t/"])
    #expect(tagged.sweeps.first?.filterDoubt?.contains("tag") == true)
    let tagOnly = try Self.decode(Self.rule(filter: "<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter>"))
    #expect(tagOnly.sweeps.map(\.prefix) == [""])
    #expect(tagOnly.sweeps.first?.filterDoubt?.contains("tag") == true)
    let unknown = try Self.decode(Self.rule(filter: "<Filter><Suffix>.tmp</Suffix></Filter>"))
    #expect(unknown.sweeps.first?.filterDoubt?.contains("Suffix") == true)
    // Two prefixes that disagree: their common part, said.
    let both = try Self.decode(Self.rule(filter: "<Prefix>logs/a/</Prefix><Filter><Prefix>logs/b/</Prefix></Filter>"))
    #expect(both.sweeps.map(\.prefix) == ["logs/"])
    #expect(both.sweeps.first?.filterDoubt?.contains("more than one prefix") == true)
    // Cut inside a multi-byte character: back to a whole one.
    let split = try Self.decode(Self.rule(filter: "<Prefix>上传</Prefix><Filter><Prefix>上下</Prefix></Filter>"))
    #expect(split.sweeps.map(\.prefix) == ["上"])
  }

  @Test func rulesThatDoNotSweepAreLeftOut() throws {
    let disabled = try Self.decode(Self.rule(status: "Disabled"))
    #expect(disabled.sweeps.isEmpty)
    #expect(disabled.problems.isEmpty)
    let expiryOnly = try Self.decode(
      Self.rule(abort: "<Expiration><Days>3</Days></Expiration>"))
    #expect(expiryOnly == .none)
    let empty = try S3LifecycleDecoder.decode(Array("<LifecycleConfiguration/>".utf8))
    #expect(empty == .none)
  }

  @Test(arguments: ["0", "-3", "3.5", "three", "", "99999999999999999999", "36501", " "])
  func daysThatAreNotAWholeNumberOfDaysAreAProblemNotASweep(days: String) throws {
    let reading = try Self.decode(
      Self.rule(
        abort:
          "<AbortIncompleteMultipartUpload><DaysAfterInitiation>\(days)</DaysAfterInitiation></AbortIncompleteMultipartUpload>"
      ))
    #expect(reading.sweeps.isEmpty)
    #expect(reading.problems.count == 1)
    #expect(reading.problems.first?.contains("lifecycle rule \"r\"") == true)
    #expect(reading.problems.first?.contains("not compared") == true)
  }

  @Test func missingOrRepeatedDaysAndUnclearStatusAreProblems() throws {
    let missing = try Self.decode(Self.rule(abort: "<AbortIncompleteMultipartUpload></AbortIncompleteMultipartUpload>"))
    #expect(missing.sweeps.isEmpty)
    #expect(missing.problems.first?.contains("no DaysAfterInitiation") == true)
    let twice = try Self.decode(
      Self.rule(
        abort:
          "<AbortIncompleteMultipartUpload><DaysAfterInitiation>3</DaysAfterInitiation><DaysAfterInitiation>30</DaysAfterInitiation></AbortIncompleteMultipartUpload>"
      ))
    #expect(twice.sweeps.isEmpty)
    #expect(twice.problems.count == 1)
    for status in [nil, "Maybe", ""] as [String?] {
      let reading = try Self.decode(Self.rule(status: status))
      #expect(reading.sweeps.isEmpty)
      #expect(reading.problems.first?.contains("neither Enabled nor Disabled") == true)
    }
    // Two statuses that disagree are no status.
    let torn = try Self.decode(Self.rule(status: "Enabled</Status><Status>Disabled"))
    #expect(torn.sweeps.isEmpty)
    #expect(torn.problems.count == 1)
    let noID = try Self.decode(Self.rule(id: nil, status: "Maybe"))
    #expect(noID.problems.first?.contains("a lifecycle rule with no ID") == true)
  }

  @Test func manyRulesEachReadOnItsOwn() throws {
    let rules =
      Self.rule(id: "a", filter: "<Filter><Prefix>a/</Prefix></Filter>")
      + Self.rule(id: "b", status: "Disabled", filter: "<Filter><Prefix>b/</Prefix></Filter>")
      + Self.rule(
        id: "c", filter: "",
        abort:
          "<AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload>"
      )
    let reading = try Self.decode(rules)
    #expect(
      reading.sweeps == [
        ServerSweep(ruleID: "a", days: 3, prefix: "a/"), ServerSweep(ruleID: "c", days: 7, prefix: ""),
      ])
  }

  @Test func hostileDocumentsAreErrorsNotAnAbsenceOfSweeps() throws {
    let cases: [(String, [UInt8])] = [
      ("truncated", Array(Self.document(Self.rule()).dropLast(30))),
      ("not XML", Array("{\"Rules\":[]}".utf8)),
      (
        "another document",
        Array("<ListMultipartUploadsResult><IsTruncated>false</IsTruncated></ListMultipartUploadsResult>".utf8)
      ),
      (
        "DOCTYPE", Array("<!DOCTYPE x [<!ENTITY a \"aaaa\">]><LifecycleConfiguration>&a;</LifecycleConfiguration>".utf8)
      ),
      (
        "not UTF-8",
        [UInt8]("<LifecycleConfiguration><Rule><ID>".utf8) + [0xFF, 0xFE]
          + Array("</ID></Rule></LifecycleConfiguration>".utf8)
      ),
      ("empty", []),
      ("huge", Self.document(String(repeating: Self.rule(), count: 20_000))),
    ]
    for (name, body) in cases {
      #expect(throws: WireFailure.self, "\(name)") { try S3LifecycleDecoder.decode(body) }
    }
  }

  @Test func beyondTheRuleLimitTheRestIsSaidNotRead() throws {
    let rules = String(repeating: Self.rule(), count: S3LifecycleDecoder.maximumRules + 5)
    let reading = try Self.decode(rules)
    #expect(reading.sweeps.count == S3LifecycleDecoder.maximumRules)
    #expect(reading.problems.count == 1)
    #expect(reading.problems.first?.contains("\(S3LifecycleDecoder.maximumRules + 5) rules") == true)
  }

  @Test func rulesNestedElsewhereAreNotRules() throws {
    // A <Rule> below another element is not one of the configuration's rules.
    let body = Array(
      "<LifecycleConfiguration><Other><Rule><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule></Other></LifecycleConfiguration>"
        .utf8)
    #expect(try S3LifecycleDecoder.decode(body) == .none)
  }
}
