import Foundation
import ReaperCore
import Testing

@testable import ReaperConfig

/// `buckets` globs and `exclude_buckets` in `[[target]]`, and bucket globs in `[[rule]]`.
@Suite("Bucket globs in the config")
struct BucketConfigTests {
  static func target(provider: String = "s3", buckets: String, extra: String = "") -> String {
    """
    [[target]]
    name = "t1"
    provider = "\(provider)"
    endpoint = "http://127.0.0.1:7480"
    buckets = \(buckets)
    credentials_file = "a.cred"
    \(extra)
    """
  }

  @Test func globsAndExclusionsLoad() throws {
    let toml = Self.target(buckets: #"["*", "named"]"#, extra: #"exclude_buckets = ["*-legal-hold"]"#)
    let config = try ConfigFixture(toml).load().config
    #expect(config.targets[0].buckets == ["*", "named"])
    #expect(config.targets[0].excludeBuckets.map(\.pattern) == ["*-legal-hold"])
    #expect(config.targets[0].discoversBuckets)
  }

  /// CDCS documents no bucket listing, so a glob there could never match: refused at its line.
  @Test func aGlobOnCDCSIsRefusedAtItsLine() throws {
    let fixture = try ConfigFixture(Self.target(provider: "cdcs", buckets: #"["logs-*"]"#))
    let errors = fixture.errors()
    #expect(errors.count == 1, "\(errors)")
    #expect(errors.first?.line == 5)
    #expect(errors.first?.key == "target.buckets")
    #expect(errors.first?.message.contains("documents no listing of buckets") == true)
  }

  @Test func aNameThatCannotBeABucketIsRefused() throws {
    let errors = try ConfigFixture(Self.target(buckets: #"["a/b"]"#)).errors()
    #expect(errors.count == 1, "\(errors)")
    #expect(errors.first?.line == 5)
  }

  @Test func anExclusionThatTakesBackANamedBucketIsAWarning() throws {
    let toml = Self.target(buckets: #"["keep", "x-hold", "*"]"#, extra: #"exclude_buckets = ["*-hold"]"#)
    let loaded = try ConfigFixture(toml).load()
    #expect(loaded.warnings.contains { $0.key == "target.exclude_buckets" && $0.message.contains("x-hold") })
  }

  @Test func aRuleMayNameABucketGlobOrABucketOnlyAGlobFinds() throws {
    let rules = """

      [[rule]]
      name = "logs"
      target = "t1"
      bucket = "logs-*"
      max_age = "2d"
      action = "report"

      [[rule]]
      name = "media"
      bucket = "media"
      max_age = "2d"
      action = "report"
      """
    let config = try ConfigFixture(Self.target(buckets: #"["*"]"#) + rules).load().config
    #expect(config.rules.rules.map(\.bucket) == ["logs-*", "media"])
    // Without a glob among the target's buckets, a rule for a bucket it does not name is still refused.
    let errors = try ConfigFixture(Self.target(buckets: #"["b1"]"#) + rules).errors()
    #expect(errors.count == 2, "\(errors)")
  }
}
