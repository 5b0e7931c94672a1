import Foundation
import Logging
import ReaperCore
import ReaperEngine
import ReaperProviders
import ReaperSandbox
import TestSupport
import Testing

@testable import ReaperConfig

/// A rule by initiator against the sandbox's S3 and CDCS dialects: in one bucket of two applications' stale
/// uploads, `initiator = ["app-a*"]` with `action = "abort"` aborts exactly app-a's; an upload whose listing names
/// no initiator is never taken for app-a's, and goes to the next rule.
@Suite("Rules by initiator against the sandbox")
struct InitiatorRuleTests {
  static let day: TimeInterval = 86_400

  static func upload(_ id: String, initiator: String?, age: TimeInterval = 3 * day) -> SandboxUpload {
    var upload = SandboxUpload.aged("data/\(id).bin", id: id, age: age)
    upload.initiator = initiator
    upload.owner = "acct-1"
    return upload
  }

  static let uploads = [
    upload("a-1", initiator: "app-a"), upload("a-2", initiator: "app-a-worker-2"),
    upload("a-fresh", initiator: "app-a", age: 3600), upload("b-1", initiator: "app-b"),
    upload("b-2", initiator: "xapp-a"), upload("nobody", initiator: SandboxUpload.unnamed),
    upload("blank", initiator: "  "), upload("b-fresh", initiator: "app-b", age: 3600),
  ]

  static let rules = [
    Rule(
      name: "app-a-abort", maxAge: TimeSpan(seconds: 86_400), initiator: [Glob("app-a*")], owner: [Glob("acct-*")],
      action: .abort),
    Rule(name: "rest", maxAge: TimeSpan(seconds: 86_400), action: .report),
  ]

  static func run(_ provider: ProviderKind, harness: SandboxHarness) async -> (CycleSummary, [UploadRecord]) {
    var config = CycleTests.config(harness, buckets: ["mixed"], rules: Self.rules)
    config.targets[0].provider = provider
    if provider == .s3 { config.targets[0].region = "us-east-1" }
    let transport = harness.transport
    let sink = CollectingSink()
    let cycle = Cycle(
      config: config, options: CycleOptions(), environment: CycleTests.environment,
      makeProvider: { target, credentials -> any UploadProvider in
        switch target.provider {
        case .s3: S3Provider(target: target, credentials: credentials, transport: transport)
        default: CDCSProvider(target: target, credentials: credentials, transport: transport)
        }
      }, sink: sink, logger: Logger(label: "test"))
    let summary = await cycle.run()
    return (summary, await sink.records)
  }

  @Test(arguments: [ProviderKind.s3, .cdcs])
  func exactlyAppAsStaleUploadsAreAborted(provider: ProviderKind) async throws {
    try await SandboxHarness.with([SandboxBucket(name: "mixed", uploads: Self.uploads)]) { harness in
      let (summary, records) = await Self.run(provider, harness: harness)
      #expect(summary.errors.isEmpty, "\(summary.errors)")
      #expect(Set(harness.store.aborted.map(\.uploadID)) == ["a-1", "a-2"])
      #expect(summary.aborted == 2)
      let byID = Dictionary(uniqueKeysWithValues: records.map { ($0.upload.uploadID, $0) })
      #expect(byID.count == Self.uploads.count)
      // Every record says whose it is, as the listing said; blank and missing initiators read as unknown.
      #expect(byID["a-2"]?.upload.initiatorID == "app-a-worker-2")
      #expect(byID["a-2"]?.upload.ownerID == "acct-1")
      #expect(byID["nobody"]?.upload.initiatorID == nil)
      #expect(byID["blank"]?.upload.initiatorID == nil)
      // Not app-a's, or not known to be: the abort rule passes them over, and the report rule takes them.
      for id in ["b-1", "b-2", "nobody", "blank"] {
        #expect(byID[id]?.rule == "rest", "\(id)")
        #expect(byID[id]?.outcome == .reported, "\(id)")
      }
      #expect(byID["a-fresh"]?.rule == "app-a-abort")
      #expect(byID["a-fresh"]?.outcome == .kept)
      #expect(harness.store.uploads(in: "mixed").count == Self.uploads.count - 2)
      // The report line carries the initiator when the listing named one, and leaves it out when not.
      let named = try #require(byID["a-1"].map(ReportFormat.jsonLine))
      #expect(named.contains(#""upload_id":"a-1","initiator":"app-a","initiated":"#), "\(named)")
      let unnamed = try #require(byID["nobody"].map(ReportFormat.jsonLine))
      #expect(!unnamed.contains("initiator\""), "\(unnamed)")
    }
  }

  /// One cycle over the bucket "mixed" in the S3 dialect, the listing naming the requester for the `lie` uploads.
  static func runS3(_ harness: SandboxHarness, rules: [Rule], lie: Set<String>) async -> [UploadRecord] {
    var hostility = SandboxHostility(lies: [.identityOfRequester], rate: 1)
    hostility.uploads = lie
    harness.store.hostility = hostility
    var config = CycleTests.config(harness, buckets: ["mixed"], rules: rules)
    config.targets[0].provider = .s3
    config.targets[0].region = "us-east-1"
    config.safety.maxAbortFraction = 1
    let transport = harness.transport
    let sink = CollectingSink()
    let cycle = Cycle(
      config: config, options: CycleOptions(), environment: CycleTests.environment,
      makeProvider: { target, credentials -> any UploadProvider in
        S3Provider(target: target, credentials: credentials, transport: transport)
      }, sink: sink, logger: Logger(label: "test"))
    _ = await cycle.run()
    return await sink.records
  }

  /// With only the app-a rule, an upload without an initiator is unmatched: never aborted, whatever its age.
  @Test func anUploadWithoutInitiatorIsNeverAbortedByTheRule() async throws {
    let uploads = [Self.upload("a-1", initiator: "app-a"), Self.upload("nobody", initiator: SandboxUpload.unnamed)]
    try await SandboxHarness.with([SandboxBucket(name: "mixed", uploads: uploads)]) { harness in
      var config = CycleTests.config(harness, buckets: ["mixed"], rules: [Self.rules[0]])
      config.safety.maxAbortFraction = 1
      let (summary, records) = await CycleTests.run(config, harness: harness)
      #expect(Set(harness.store.aborted.map(\.uploadID)) == ["a-1"])
      #expect(summary.unmatched == 1)
      let nobody = try #require(records.first { $0.upload.uploadID == "nobody" })
      #expect(nobody.decision == .unmatched)
      #expect(nobody.outcome == .kept)
    }
  }

  /// The uploads listing says app-a started the upload; by the re-check, the server's ListParts says app-b did.
  /// The two answers disagree about what the abort rests on, so the upload is kept and the reason says why.
  @Test func aReCheckThatNamesAnotherInitiatorKeepsTheUpload() async throws {
    let uploads = [Self.upload("a-1", initiator: "app-a"), Self.upload("a-2", initiator: "app-a")]
    try await SandboxHarness.with([SandboxBucket(name: "mixed", uploads: uploads)]) { harness in
      var config = CycleTests.config(harness, buckets: ["mixed"], rules: [Self.rules[0]])
      config.targets[0].provider = .s3
      config.targets[0].region = "us-east-1"
      config.safety.maxAbortFraction = 1
      let store = harness.store
      let transport = harness.transport
      let sink = CollectingSink()
      let cycle = Cycle(
        config: config, options: CycleOptions(), environment: CycleTests.environment,
        makeProvider: { target, credentials -> any UploadProvider in
          RenamedBeforeParts(
            inner: S3Provider(target: target, credentials: credentials, transport: transport),
            rename: { upload in
              guard upload.uploadID == "a-1",
                var changed = store.uploads(in: "mixed").first(where: { $0.uploadID == "a-1" })
              else { return }
              changed.initiator = "app-b"
              store.put([changed], in: "mixed")
            })
        }, sink: sink, logger: Logger(label: "test"))
      let summary = await cycle.run()
      let records = await sink.records
      #expect(harness.store.aborted.map(\.uploadID) == ["a-2"])
      #expect(summary.aborted == 1)
      let renamed = try #require(records.first { $0.upload.uploadID == "a-1" })
      #expect(renamed.outcome == .skippedRecheck)
      #expect(renamed.reason.contains(#"names initiator "app-b""#), "\(renamed.reason)")
    }
  }

  /// Ceph before 17 names the requester as every upload's Initiator and Owner, and ListParts names neither. A
  /// rule for the reaper's own user then selects everyone's stale uploads by the listing's word; the re-check finds
  /// nothing that confirms it, so every one is kept and the reason says so. Honest uploads beside them (the lie
  /// falls on half) are aborted as usual.
  @Test func aListingThatNamesTheRequesterForEveryUploadAbortsNothingUnconfirmed() async throws {
    let uploads = (1...8).map { Self.upload("r-\($0)", initiator: $0 % 2 == 0 ? "app-b" : SandboxHostility.requester) }
    try await SandboxHarness.with([SandboxBucket(name: "mixed", uploads: uploads)]) { harness in
      let lied: Set<String> = ["r-1", "r-2", "r-3", "r-4"]
      let requesterRule = Rule(
        name: "mine", maxAge: TimeSpan(seconds: 86_400), initiator: [Glob(SandboxHostility.requester)], action: .abort)
      let records = await Self.runS3(harness, rules: [requesterRule], lie: lied)
      // Only the honest requester's uploads outside the lie: r-5 and r-7.
      #expect(Set(harness.store.aborted.map(\.uploadID)) == ["r-5", "r-7"])
      for id in lied {
        let record = try #require(records.first { $0.upload.uploadID == id })
        #expect(record.outcome == .skippedRecheck, "\(id)")
        #expect(record.reason.contains("names no initiator"), "\(record.reason)")
      }
    }
  }

  /// The lie moves an upload between rules: app-a's upload, which its own rule keeps for 30 days, is listed as
  /// the requester's and falls through to a catch-all that aborts after one. The choice of rule turned on the
  /// initiator, so the re-check must confirm it, finds nothing, and keeps the upload; app-b's, which fell through
  /// on its true initiator, is confirmed and aborted.
  @Test func aLieThatMovesAnUploadPastAnInitiatorRuleIsCaughtByTheRecheck() async throws {
    let uploads = [Self.upload("a-lied", initiator: "app-a"), Self.upload("b-true", initiator: "app-b")]
    try await SandboxHarness.with([SandboxBucket(name: "mixed", uploads: uploads)]) { harness in
      let rules = [
        Rule(
          name: "app-a-patient", maxAge: TimeSpan(seconds: 30 * 86_400), initiator: [Glob("app-a*")], action: .abort),
        Rule(name: "everyone-else", maxAge: TimeSpan(seconds: 86_400), action: .abort),
      ]
      let records = await Self.runS3(harness, rules: rules, lie: ["a-lied"])
      #expect(harness.store.aborted.map(\.uploadID) == ["b-true"])
      let lied = try #require(records.first { $0.upload.uploadID == "a-lied" })
      #expect(lied.rule == "everyone-else")
      #expect(lied.outcome == .skippedRecheck)
      #expect(lied.reason.contains("names no initiator"), "\(lied.reason)")
    }
  }
}

/// A provider whose server changes an upload just before its parts are listed.
private struct RenamedBeforeParts: UploadProvider {
  let inner: any UploadProvider
  let rename: @Sendable (Upload) -> Void

  var target: Target { inner.target }
  func uploads(bucket: String, prefix: String) -> Pages<UploadPage> { inner.uploads(bucket: bucket, prefix: prefix) }
  func parts(of upload: Upload) -> Pages<PartPage> {
    rename(upload)
    return inner.parts(of: upload)
  }
  func abort(_ upload: Upload) async throws(ProviderError) -> AbortResult { try await inner.abort(upload) }
}
