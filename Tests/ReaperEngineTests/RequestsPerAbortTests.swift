import Foundation
import ReaperCore
import ReaperEngine
import ReaperProviders
import TestSupport
import Testing

@testable import ReaperConfig

/// Issue 18: with the re-check on, an abort costs two requests (the re-check's parts listing and the abort)
/// plus its share of the listing pages, unless the rule's decision reads the parts.
@Suite("Requests per abort")
struct RequestsPerAbortTests {
  static let now = Date(timeIntervalSince1970: 1_800_000_000)
  static let stale = 40
  static let fresh = 10

  static func world() -> (uploads: [String: [Upload]], parts: [String: [Part]]) {
    var uploads: [Upload] = []
    var parts: [String: [Part]] = [:]
    for index in 0..<(stale + fresh) {
      let age: TimeInterval = index < stale ? 20 * 86_400 : 3_600
      let upload = Upload(
        target: "t", bucket: "b", key: "tmp/\(index).bin", uploadID: "u\(index)",
        initiated: now.addingTimeInterval(-age))
      uploads.append(upload)
      parts[upload.uploadID] = [Part(number: 1, size: 1000, lastModified: now.addingTimeInterval(-age + 60))]
    }
    return (["b": uploads], parts)
  }

  static func run(
    rule: Rule, recheck: Bool = true, dryRun: Bool = false
  ) async -> (
    CycleSummary, MemoryProvider, [UploadRecord]
  ) {
    let target = Target(
      name: "t", provider: .s3, endpoint: "http://127.0.0.1:1", region: "us-east-1", buckets: ["b"],
      credentialsFile: nil)
    let world = world()
    let provider = MemoryProvider(
      target: target, uploads: world.uploads, parts: world.parts, serverNow: now, pageSize: 7)
    let config = ReaperConfig(
      path: "requests.toml",
      daemon: DaemonSettings(
        interval: TimeSpan(seconds: 900), jitter: TimeSpan(seconds: 60), concurrency: 4, stateDirectory: "/tmp",
        dryRun: dryRun),
      safety: SafetySettings(
        minAge: TimeSpan(seconds: 3600), maxAbortsPerCycle: 1000, maxAbortFraction: 1, recheckBeforeAbort: recheck),
      targets: [target], rules: RuleSet([rule]), credentialSources: ["t": .environment(prefix: "P_")])
    let (summary, records) = await MemoryCycle.run(config, provider: provider, now: now)
    return (summary, provider, records)
  }

  @Test func anAgeRuleListsPartsOnlyInTheRecheckAndStillAccountsTheBytes() async {
    let rule = Rule(name: "stale", maxAge: TimeSpan(seconds: 7 * 86_400), action: .abort)
    let (summary, provider, records) = await Self.run(rule: rule)
    #expect(summary.aborted == Self.stale)
    #expect(provider.partsListings == Self.stale, "one parts listing per abort, the re-check's")
    #expect(summary.bytesReclaimed == Int64(Self.stale) * 1000)
    let aborted = records.filter { $0.outcome == .aborted }
    #expect(aborted.count == Self.stale)
    #expect(aborted.allSatisfy { $0.bytes == 1000 && $0.parts == 1 })
  }

  @Test func aRuleThatReadsPartsListsThemToDecideAndAgainToRecheck() async {
    let idle = Rule(
      name: "idle", maxAge: TimeSpan(seconds: 7 * 86_400), maxIdle: TimeSpan(seconds: 86_400), action: .abort)
    let (idleSummary, idleProvider, _) = await Self.run(rule: idle)
    #expect(idleSummary.aborted == Self.stale)
    #expect(idleProvider.partsListings == 2 * Self.stale)
    let sized = Rule(name: "sized", maxAge: TimeSpan(seconds: 7 * 86_400), minBytes: 1, action: .abort)
    let (sizedSummary, sizedProvider, _) = await Self.run(rule: sized)
    #expect(sizedSummary.aborted == Self.stale)
    #expect(sizedProvider.partsListings == 2 * Self.stale)
  }

  /// Without a re-check, or in a dry run, the decision's listing is the only chance to say what is reclaimed.
  @Test func withoutARecheckTheDecisionListsTheParts() async {
    let rule = Rule(name: "stale", maxAge: TimeSpan(seconds: 7 * 86_400), action: .abort)
    let (unchecked, uncheckedProvider, _) = await Self.run(rule: rule, recheck: false)
    #expect(unchecked.aborted == Self.stale)
    #expect(uncheckedProvider.partsListings == Self.stale)
    #expect(unchecked.bytesReclaimed == Int64(Self.stale) * 1000)
    let (dry, dryProvider, records) = await Self.run(rule: rule, dryRun: true)
    #expect(dry.aborted == 0 && dryProvider.abortedUploads.isEmpty)
    #expect(dryProvider.partsListings == Self.stale)
    #expect(records.filter { $0.outcome == .wouldAbort }.allSatisfy { $0.bytes == 1000 })
  }
}
