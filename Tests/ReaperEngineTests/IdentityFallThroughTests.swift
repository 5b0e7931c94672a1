import Foundation
import ReaperCore
import ReaperEngine
import ReaperProviders
import TestSupport
import Testing

@testable import ReaperConfig

/// A rule by initiator or owner that is passed over lets an upload fall through to the rules after it, on the
/// uploads listing's word that the upload is not that user's. Ceph before 17 names the requester as every
/// upload's initiator and owner, so that word is worthless: the re-check must confirm it before the abort a lower
/// rule decided, as it confirms the word of an abort rule by initiator.
@Suite("Identity rules passed over are confirmed at the re-check")
struct IdentityFallThroughTests {
  static let now = PlanApplyTests.now

  /// The memory provider, with a parts listing that names identities as ListParts does.
  struct Naming: UploadProvider {
    let inner: MemoryProvider
    let initiators: Set<String>
    let owners: Set<String>
    var target: Target { inner.target }
    func uploads(bucket: String, prefix: String) -> Pages<UploadPage> { inner.uploads(bucket: bucket, prefix: prefix) }
    func parts(of upload: Upload) -> Pages<PartPage> {
      let (initiators, owners) = (initiators, owners)
      let parts = [Part(number: 1, size: 1000, lastModified: upload.initiated.addingTimeInterval(60))]
      return Pages(
        stalled: { ProviderError(kind: .malformedResponse, target: "t", bucket: "", request: "", message: $0) },
        fetch: { (_: String?) async throws(ProviderError) -> (PartPage, next: String?) in
          (PartPage(parts: parts, initiatorIDs: initiators, ownerIDs: owners), nil)
        })
    }
    func abort(_ upload: Upload) async throws(ProviderError) -> AbortResult { try await inner.abort(upload) }
  }

  static func run(rules: [Rule], initiators: Set<String>, owners: Set<String>) async -> (MemoryProvider, [UploadRecord])
  {
    var upload = PlanApplyTests.upload(0)
    // What Ceph 16 lists for every upload: the requester, here the reaper's own user.
    upload.initiatorID = "reaper"
    upload.ownerID = "reaper"
    let memory = PlanApplyTests.provider([upload])
    let (_, records) = await MemoryCycle.run(
      PlanApplyTests.config(rules: rules),
      provider: Naming(inner: memory, initiators: initiators, owners: owners), now: now)
    return (memory, records)
  }

  static let stale = PlanApplyTests.stale

  @Test func aReportRuleForAliceIsNotDefeatedByTheListingNamingTheRequester() async {
    let alice = Rule(
      name: "alice", prefix: "tmp/", maxAge: TimeSpan(seconds: 86_400), initiator: [Glob("alice")], action: .report)
    // Ceph 16's ListParts names no initiator: nothing confirms the upload is not alice's.
    let (provider, records) = await Self.run(rules: [alice, Self.stale], initiators: [], owners: ["alice"])
    #expect(provider.abortedUploads.isEmpty)
    #expect(records.first?.outcome == .skippedRecheck, "\(records.map(\.reason))")
  }

  @Test func anOwnerRulePassedOverIsConfirmedByTheOwnerThePartsListingNames() async {
    let alice = Rule(
      name: "alice", prefix: "tmp/", maxAge: TimeSpan(seconds: 86_400), owner: [Glob("alice")], action: .log)
    let (provider, records) = await Self.run(rules: [alice, Self.stale], initiators: [], owners: ["alice"])
    #expect(provider.abortedUploads.isEmpty, "the parts listing says alice owns it")
    #expect(records.first?.outcome == .skippedRecheck)
    // When the parts listing confirms the listing's word, the lower rule's abort goes ahead.
    let (confirmed, _) = await Self.run(rules: [alice, Self.stale], initiators: ["reaper"], owners: ["reaper"])
    #expect(confirmed.abortedUploads.map(\.uploadID) == ["u0"])
  }

  @Test func withoutAnIdentityRuleNothingNeedsConfirming() async {
    let (provider, _) = await Self.run(rules: [Self.stale], initiators: [], owners: [])
    #expect(provider.abortedUploads.map(\.uploadID) == ["u0"])
  }
}
