import Testing

@testable import ReaperCore

@Suite("Rule selection")
struct RuleSelectionTests {
  static func rule(
    _ name: String, target: String? = nil, bucket: String? = nil, prefix: String = "", exclude: [String] = []
  ) -> Rule {
    Rule(
      name: name, target: target, bucket: bucket, prefix: prefix, maxAge: TimeSpan(seconds: 86_400),
      exclude: exclude.map(Glob.init), action: .report)
  }

  /// In file order. Each tie-break has a pair of rules that differ only in it.
  static let rules = RuleSet([
    rule("all-old", exclude: ["tmp/*"]),
    rule("tmp", prefix: "tmp/"),
    rule("tmp-b1", bucket: "b1", prefix: "tmp/"),
    rule("tmp-t1", target: "t1", prefix: "tmp/"),
    rule("tmp-t1-b1", target: "t1", bucket: "b1", prefix: "tmp/"),
    rule("tmp-dup", prefix: "tmp/"),
    rule("tmp-deep", prefix: "tmp/deep/", exclude: ["tmp/deep/keep/*", "*.lock", "tmp/deep/??.part"]),
    rule("logs-t2", target: "t2", prefix: "logs/"),
    rule("b2-any", bucket: "b2"),
    rule("t3-any", target: "t3"),
    rule("cjk", prefix: "上传/"),
    rule("decomposed", prefix: "e\u{301}"),
  ])

  enum Expected: Sendable, CustomStringConvertible {
    case rule(String)
    case excluded(String, String)
    case unmatched

    var description: String {
      switch self {
      case .rule(let name): name
      case .excluded(let name, let glob): "\(name) excludes \(glob)"
      case .unmatched: "unmatched"
      }
    }
  }

  struct Case: Sendable, CustomTestStringConvertible {
    let why: String
    let target: String
    let bucket: String
    let key: String
    let expected: Expected
    var testDescription: String { "\(why): \(target)/\(bucket)/\(key) → \(expected)" }
  }

  static let cases: [Case] = [
    Case(why: "only the catch-all matches", target: "t9", bucket: "b9", key: "foo", expected: .rule("all-old")),
    Case(
      why: "longer prefix beats catch-all; earlier of equal rules wins", target: "t9", bucket: "b9", key: "tmp/x",
      expected: .rule("tmp")),
    Case(
      why: "a rule naming the bucket beats one that doesn't", target: "t9", bucket: "b1", key: "tmp/x",
      expected: .rule("tmp-b1")),
    Case(
      why: "a rule naming the target beats one that doesn't", target: "t1", bucket: "b9", key: "tmp/x",
      expected: .rule("tmp-t1")),
    Case(
      why: "naming bucket and target beats naming one", target: "t1", bucket: "b1", key: "tmp/x",
      expected: .rule("tmp-t1-b1")),
    Case(why: "bucket rule applies to any target", target: "t2", bucket: "b1", key: "tmp/x", expected: .rule("tmp-b1")),
    Case(
      why: "bucket beats target on equal prefixes", target: "t3", bucket: "b2", key: "foo", expected: .rule("b2-any")),
    Case(why: "target beats the unscoped catch-all", target: "t3", bucket: "b9", key: "foo", expected: .rule("t3-any")),
    Case(why: "prefix length beats bucket scope", target: "t3", bucket: "b2", key: "tmp/x", expected: .rule("tmp")),
    Case(why: "longest prefix wins", target: "t9", bucket: "b9", key: "tmp/deep/a", expected: .rule("tmp-deep")),
    Case(
      why: "longest prefix beats bucket and target scope", target: "t1", bucket: "b1", key: "tmp/deep/a",
      expected: .rule("tmp-deep")),
    Case(
      why: "winner's exclude keeps it, no fallback", target: "t9", bucket: "b9", key: "tmp/deep/keep/a",
      expected: .excluded("tmp-deep", "tmp/deep/keep/*")),
    Case(
      why: "* crosses /", target: "t9", bucket: "b9", key: "tmp/deep/keep/sub/dir/a",
      expected: .excluded("tmp-deep", "tmp/deep/keep/*")),
    Case(
      why: "* may match nothing", target: "t9", bucket: "b9", key: "tmp/deep/keep/",
      expected: .excluded("tmp-deep", "tmp/deep/keep/*")),
    Case(
      why: "glob must match the whole key", target: "t9", bucket: "b9", key: "tmp/deep/keep",
      expected: .rule("tmp-deep")),
    Case(
      why: "leading * glob", target: "t9", bucket: "b9", key: "tmp/deep/file.lock",
      expected: .excluded("tmp-deep", "*.lock")),
    Case(
      why: "glob anchored at the end", target: "t9", bucket: "b9", key: "tmp/deep/file.lockx",
      expected: .rule("tmp-deep")),
    Case(
      why: "? matches exactly one", target: "t9", bucket: "b9", key: "tmp/deep/ab.part",
      expected: .excluded("tmp-deep", "tmp/deep/??.part")),
    Case(
      why: "? does not match two", target: "t9", bucket: "b9", key: "tmp/deep/abc.part", expected: .rule("tmp-deep")),
    Case(
      why: "target-scoped rule applies to its target", target: "t2", bucket: "b9", key: "logs/a",
      expected: .rule("logs-t2")),
    Case(
      why: "target-scoped rule skips other targets", target: "t1", bucket: "b9", key: "logs/a",
      expected: .rule("all-old")),
    Case(why: "prefixes are case-sensitive", target: "t9", bucket: "b9", key: "TMP/x", expected: .rule("all-old")),
    Case(why: "a key shorter than the prefix", target: "t9", bucket: "b9", key: "tmp", expected: .rule("all-old")),
    Case(why: "the key equal to the prefix", target: "t9", bucket: "b9", key: "tmp/", expected: .rule("tmp")),
    Case(why: "CJK prefix", target: "t9", bucket: "b9", key: "上传/文件 1.bin", expected: .rule("cjk")),
    Case(
      why: "prefix compared byte for byte, not by Unicode equivalence", target: "t9", bucket: "b9", key: "\u{e9}x",
      expected: .rule("all-old")),
    Case(
      why: "decomposed key matches decomposed prefix", target: "t9", bucket: "b9", key: "e\u{301}x",
      expected: .rule("decomposed")),
    Case(
      why: "exclude of a losing rule does not apply", target: "t9", bucket: "b9", key: "tmp/y", expected: .rule("tmp")),
    Case(
      why: "catch-all's own exclude applies when it wins", target: "t3x", bucket: "b9", key: "tmpfile",
      expected: .rule("all-old")),
    Case(
      why: "bucket and target rules need both to match", target: "t1", bucket: "b2", key: "tmp/x",
      expected: .rule("tmp-t1")),
  ]

  @Test("selection table", arguments: cases)
  func selects(_ testCase: Case) {
    let selection = Self.rules.select(target: testCase.target, bucket: testCase.bucket, key: testCase.key)
    switch (testCase.expected, selection) {
    case (.rule(let name), .selected(let rule)):
      #expect(rule.name == name)
    case (.excluded(let name, let glob), .excluded(let rule, let by)):
      #expect(rule.name == name)
      #expect(by.pattern == glob)
    case (.unmatched, .unmatched):
      break
    default:
      Issue.record("expected \(testCase.expected), got \(selection)")
    }
  }

  @Test func unmatchedWithoutACatchAll() {
    let rules = RuleSet([Self.rule("tmp", prefix: "tmp/"), Self.rule("t1", target: "t1")])
    #expect(rules.select(target: "t2", bucket: "b", key: "data/x") == .unmatched)
    #expect(RuleSet([]).select(target: "t", bucket: "b", key: "x") == .unmatched)
  }

  @Test func precedenceOrderIsTotalAndStable() {
    let names = Self.rules.inPrecedenceOrder.map(\.name)
    #expect(
      names == [
        // Longest prefix in bytes: "上传/" is 7, "logs/" 5, "e\u{301}" 3.
        "tmp-deep", "cjk", "logs-t2", "tmp-t1-b1", "tmp-b1", "tmp-t1", "tmp", "tmp-dup", "decomposed", "b2-any",
        "t3-any", "all-old",
      ])
  }

  @Test func shadowedRuleIsFound() {
    let tmpDup = Self.rules.rules.first { $0.name == "tmp-dup" }!
    #expect(Self.rules.shadowingRule(of: tmpDup)?.name == "tmp")
    let tmp = Self.rules.rules.first { $0.name == "tmp" }!
    #expect(Self.rules.shadowingRule(of: tmp) == nil)
  }

  @Test func scopedRulesKnowWhetherPartsAreNeeded() {
    let rules = RuleSet([
      Rule(name: "a", bucket: "b1", maxAge: TimeSpan(seconds: 7200), action: .abort),
      Rule(name: "i", bucket: "b2", maxIdle: TimeSpan(seconds: 7200), action: .abort),
    ])
    #expect(!rules.scoped(target: "t", bucket: "b1").anyNeedsParts)
    #expect(rules.scoped(target: "t", bucket: "b2").anyNeedsParts)
    #expect(rules.scoped(target: "t", bucket: "b3").isEmpty)
  }
}

@Suite("Globs")
struct GlobTests {
  @Test(
    arguments: [
      ("*", "", true), ("*", "anything/at/all", true), ("a*b", "ab", true), ("a*b", "axxb", true),
      ("a*b", "axxbc", false),
      ("a?c", "abc", true), ("a?c", "ac", false), ("*.tmp", "x/y.tmp", true), ("**", "x", true),
      ("a*b*c", "abxbxc", true),
      ("a*b*c", "abxbx", false), ("文*", "文件", true), ("?", "文", true), ("", "", true), ("", "x", false),
    ] as [(String, String, Bool)])
  func matches(pattern: String, key: String, expected: Bool) {
    #expect(Glob(pattern).matches(key) == expected)
  }

  @Test func literalPrefix() {
    #expect(Glob("tmp/keep/*").literalPrefix == "tmp/keep/")
    #expect(Glob("*.lock").literalPrefix == "")
    #expect(Glob("a?b").literalPrefix == "a")
  }
}
