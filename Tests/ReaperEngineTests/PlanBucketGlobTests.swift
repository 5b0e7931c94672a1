import Foundation
import ReaperCore
import ReaperEngine
import ReaperProviders
import TestSupport
import Testing

@testable import ReaperConfig

/// A plan applied to a target whose `buckets` are globs or whose `exclude_buckets` changed: every planned upload
/// gets exactly one record, and that record says what happened to it.
@Suite("Applying a plan over bucket globs")
struct PlanBucketGlobTests {
  static let now = PlanApplyTests.now

  /// The memory provider, with a bucket listing for the globs to match.
  struct Listed: UploadProvider {
    let inner: MemoryProvider
    let names: [String]?
    var target: Target { inner.target }
    func uploads(bucket: String, prefix: String) -> Pages<UploadPage> { inner.uploads(bucket: bucket, prefix: prefix) }
    func parts(of upload: Upload) -> Pages<PartPage> { inner.parts(of: upload) }
    func abort(_ upload: Upload) async throws(ProviderError) -> AbortResult { try await inner.abort(upload) }
    func bucketNames() -> Pages<BucketNamePage> {
      let names = names
      return Pages(
        stalled: { ProviderError(kind: .malformedResponse, target: "t", bucket: "", request: "", message: $0) },
        fetch: { (_: String?) async throws(ProviderError) -> (BucketNamePage, next: String?) in
          guard let names else {
            throw ProviderError(kind: .retryable, target: "t", bucket: "", request: "GET /", message: "503")
          }
          var page = BucketNamePage()
          page.names = names
          return (page, nil)
        })
    }
  }

  static func config(buckets: [String], exclude: [String] = []) -> ReaperConfig {
    var config = PlanApplyTests.config()
    config.targets[0].buckets = buckets
    config.targets[0].excludeBuckets = exclude.map(Glob.init)
    return config
  }

  static let world = [PlanApplyTests.upload(0), PlanApplyTests.upload(1, bucket: "c")]

  static func plan(_ config: ReaperConfig) async -> [PlanEntry] {
    let provider = Listed(inner: PlanApplyTests.provider(world), names: ["b", "c"])
    let (_, records) = await MemoryCycle.run(
      config, provider: provider, now: now, options: CycleOptions(mode: .dryRun))
    let collector = PlanCollector()
    for record in records { await collector.emit(record) }
    return await collector.sortedEntries
  }

  static func apply(
    _ entries: [PlanEntry], config: ReaperConfig, listed: [String]?
  ) async -> (MemoryProvider, [UploadRecord]) {
    var options = CycleOptions()
    options.plan = PlanSet(entries)
    let memory = PlanApplyTests.provider(world)
    let (_, records) = await MemoryCycle.run(
      config, provider: Listed(inner: memory, names: listed), now: now, options: options)
    return (memory, records)
  }

  static func records(_ id: String, in records: [UploadRecord]) -> [UploadRecord] {
    records.filter { $0.upload.uploadID == id }
  }

  @Test func aPlannedUploadInADiscoveredBucketHasOneRecordAndItIsTheAbort() async throws {
    let config = Self.config(buckets: ["*"])
    let entries = await Self.plan(config)
    #expect(Set(entries.map(\.uploadID)) == ["u0", "u1"])
    let (provider, records) = await Self.apply(entries, config: config, listed: ["b", "c"])
    #expect(Set(provider.abortedUploads.map(\.uploadID)) == ["u0", "u1"])
    for id in ["u0", "u1"] {
      let mine = Self.records(id, in: records)
      #expect(mine.count == 1, "\(id): \(mine.map { "\($0.outcome) \($0.reason)" })")
      #expect(mine.first?.outcome == .aborted)
    }
  }

  @Test func aPlannedBucketTheGlobsNoLongerFindIsKeptAndSaid() async throws {
    let config = Self.config(buckets: ["*"])
    let entries = await Self.plan(config)
    let (provider, records) = await Self.apply(entries, config: config, listed: ["b"])
    #expect(provider.abortedUploads.map(\.uploadID) == ["u0"])
    let kept = Self.records("u1", in: records)
    #expect(kept.count == 1, "\(kept.map(\.reason))")
    #expect(kept.allSatisfy { $0.outcome == .kept && $0.doubtful })
  }

  @Test func aFailedBucketListingKeepsThePlannedUploadsOfDiscoveredBuckets() async throws {
    let config = Self.config(buckets: ["*"])
    let entries = await Self.plan(config)
    let (provider, records) = await Self.apply(entries, config: config, listed: nil)
    #expect(provider.abortedUploads.isEmpty)
    for id in ["u0", "u1"] {
      let mine = Self.records(id, in: records)
      #expect(mine.count == 1, "\(id): \(mine.map(\.reason))")
      #expect(mine.allSatisfy { $0.outcome == .kept && $0.doubtful })
    }
  }

  @Test func aPlannedBucketNowExcludedIsNotListedAndSaysSo() async throws {
    let entries = await Self.plan(Self.config(buckets: ["b", "c"]))
    let (provider, records) = await Self.apply(
      entries, config: Self.config(buckets: ["b", "c"], exclude: ["c"]), listed: ["b", "c"])
    #expect(provider.abortedUploads.map(\.uploadID) == ["u0"])
    let kept = Self.records("u1", in: records)
    #expect(kept.count == 1, "an excluded bucket's planned upload still has its record")
    #expect(kept.allSatisfy { $0.outcome == .kept && $0.doubtful && $0.reason.contains("exclude_buckets") })
  }

  @Test func aPlannedDiscoveredBucketNowExcludedIsNotListedAndSaysSo() async throws {
    let entries = await Self.plan(Self.config(buckets: ["*"]))
    let (provider, records) = await Self.apply(
      entries, config: Self.config(buckets: ["*"], exclude: ["c"]), listed: ["b", "c"])
    #expect(provider.abortedUploads.map(\.uploadID) == ["u0"])
    let kept = Self.records("u1", in: records)
    #expect(kept.count == 1, "\(kept.map(\.reason))")
    #expect(kept.allSatisfy { $0.outcome == .kept && $0.doubtful && $0.reason.contains("exclude_buckets") })
  }
}
