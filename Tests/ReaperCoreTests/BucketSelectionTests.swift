import ReaperCore
import Testing

/// Resolving a target's `buckets` entries against what its endpoint lists, and which rules reach a bucket.
@Suite("Bucket globs and exclusions")
struct BucketSelectionTests {
  @Test func literalsStayGlobsMatchTheListingAndExclusionsWin() {
    let resolution = BucketResolution.resolve(
      entries: ["named", "logs-*", "a?c"], listed: ["logs-1", "abc", "logs-legal-hold", "x", "named", "logs-1"],
      exclude: [Glob("*-legal-hold")])
    #expect(resolution.buckets == ["named", "logs-1", "abc"])
    #expect(resolution.discovered == ["logs-1", "abc"])
    #expect(resolution.excludedLiterals.isEmpty)
  }

  @Test func anExcludedLiteralIsNotWatched() {
    let resolution = BucketResolution.resolve(entries: ["keep", "hold-1"], listed: nil, exclude: [Glob("hold-*")])
    #expect(resolution.buckets == ["keep"])
    #expect(resolution.excludedLiterals == ["hold-1"])
  }

  @Test func withoutAListingGlobsMatchNothing() {
    let resolution = BucketResolution.resolve(entries: ["*", "named"], listed: nil, exclude: [])
    #expect(resolution.buckets == ["named"])
    #expect(resolution.discovered.isEmpty)
  }

  @Test func changesAreWhatAppearedAndWhatVanished() {
    let changes = BucketChanges.between(previous: ["a", "b", "c"], current: ["b", "c", "d"])
    #expect(changes.appeared == ["d"])
    #expect(changes.vanished == ["a"])
    #expect(BucketChanges.between(previous: ["a"], current: ["a"]).isEmpty)
  }

  /// A listed name becomes a path segment of every request about the bucket: anything that could step out of it,
  /// or be read two ways, is never walked.
  @Test(arguments: ["", ".", "..", "a/b", "a\u{0}", "a b", "a%2F", "é", "a\nb", String(repeating: "a", count: 256)])
  func aNameThatCannotBeABucketIsRefused(name: String) {
    #expect(BucketPattern.problem(inListedName: name) != nil)
  }

  @Test(arguments: ["b", "my-bucket.example", "Legacy_Name", "1250000000", "a..b"])
  func ordinaryNamesPass(name: String) {
    #expect(BucketPattern.problem(inListedName: name) == nil)
  }

  @Test func aRuleBucketGlobReachesMatchingBucketsAndRanksBelowANamedBucket() {
    let named = Rule(name: "named", bucket: "logs-1", maxAge: TimeSpan(seconds: 60), action: .report)
    let globbed = Rule(name: "globbed", bucket: "logs-*", maxAge: TimeSpan(seconds: 60), action: .abort)
    let everywhere = Rule(name: "everywhere", target: "t", maxAge: TimeSpan(seconds: 60), action: .log)
    let rules = RuleSet([everywhere, globbed, named])
    #expect(rules.select(target: "t", bucket: "logs-1", key: "k").selectedRuleName == "named")
    #expect(rules.select(target: "t", bucket: "logs-2", key: "k").selectedRuleName == "globbed")
    #expect(rules.select(target: "t", bucket: "media", key: "k").selectedRuleName == "everywhere")
    #expect(rules.scoped(target: "t", bucket: "logsX").rules.map(\.name) == ["everywhere"])
  }

  @Test func mayWatchKnowsGlobsAndExclusions() {
    var target = Target(
      name: "t", provider: .s3, endpoint: "http://h", region: "r", buckets: ["named", "app-*"], credentialsFile: nil)
    target.excludeBuckets = [Glob("*-hold")]
    #expect(target.mayWatch("named"))
    #expect(target.mayWatch("anything"), "a glob entry may match any name the endpoint lists")
    #expect(!target.mayWatch("x-hold"))
    target.buckets = ["named"]
    #expect(!target.mayWatch("other"))
    #expect(target.mayWatch("nam*"))
    #expect(!target.mayWatch("z*"))
  }
}
