import Foundation
import ReaperConfig
import ReaperCore
import ReaperProviders
import TestSupport
import Testing

extension CephScanTests {
  /// Issue 19's "done when", as far as Ceph 16 (Debian's) allows, through the CLI as an operator runs it, with
  /// two users. reaper-owner owns several buckets (the reaper runs as it: ListBuckets shows it only its own);
  /// reaper-other starts uploads in them.
  /// - `buckets = ["*"]` less `exclude_buckets` finds every bucket, and an age rule aborts exactly the stale
  ///   uploads in them, never in the excluded one.
  /// - Ceph 16 names the requester as every upload's Initiator (tracker 52716, fixed in 17) and its ListParts names
  ///   none, so an initiator rule for the reaper's own user selects everyone's uploads by the listing's word: the
  ///   re-check finds nothing to confirm it, and nothing is aborted. A rule for reaper-other selects nothing.
  @Test func everyBucketIsFoundAndCephsInitiatorLieAbortsNothing() async throws {
    guard let ceph = CephEnvironment.current else {
      Issue.record(Comment(rawValue: CephEnvironment.missingMessage))
      return
    }
    guard let ownerCredentials = ceph.ownerCredentials, let otherCredentials = ceph.otherCredentials else {
      Issue.record("UPLOAD_REAPER_CEPH_OWNER_*/OTHER_* are not set: scripts/ceph start creates both users")
      return
    }
    let transport = HTTPTransport()
    defer { Task { await transport.shutdown() } }
    let day: TimeInterval = 86_400
    func client(_ credentials: Credentials, aged: Bool) -> S3TestClient {
      S3TestClient(
        endpoint: aged ? ceph.agedEndpoint : ceph.endpoint, credentials: credentials, transport: transport,
        clockOffset: aged ? -10 * day : 0)
    }
    let owner = client(ownerCredentials, aged: false)
    // What an earlier run on this cluster left behind would be found by the glob too: start from nothing.
    for bucket in try await owner.bucketNames() {
      for upload in try await owner.uploads(in: bucket) {
        try? await owner.abort(bucket: bucket, key: upload.key, uploadID: upload.uploadID)
      }
    }
    let run = UUID().uuidString.prefix(6).lowercased()
    let buckets = ["disc-\(run)-a", "disc-\(run)-b", "disc-\(run)-c"]
    let held = "disc-\(run)-legal-hold"
    for bucket in buckets + [held] { try await owner.createSharedBucket(bucket) }
    var ownerStale: Set<String> = []
    var all: Set<String> = []
    for bucket in buckets + [held] {
      let stale = try await client(ownerCredentials, aged: true).initiate(bucket: bucket, key: "data/owner-old.bin")
      if bucket != held { ownerStale.insert(stale) }
      all.insert(stale)
      all.insert(try await client(otherCredentials, aged: true).initiate(bucket: bucket, key: "data/other-old.bin"))
      all.insert(try await client(ownerCredentials, aged: false).initiate(bucket: bucket, key: "data/owner-new.bin"))
      all.insert(try await client(otherCredentials, aged: false).initiate(bucket: bucket, key: "data/other-new.bin"))
    }
    func left() async throws -> Set<String> {
      var found: Set<String> = []
      for bucket in buckets + [held] { found.formUnion(try await owner.uploads(in: bucket).map { $0.uploadID }) }
      return found
    }

    let directory = try Self.directory("ceph-disc", credentials: ownerCredentials, file: "owner.cred")
    func scan(rule: String) async throws -> (records: [[String: Any]], stderr: String) {
      let config = directory.appendingPathComponent("reaper.toml").path
      try """
      [safety]
      max_abort_fraction = 1.0

      [[target]]
      name = "ceph-all"
      provider = "s3"
      endpoint = "\(ceph.endpoint)"
      buckets = ["*"]
      exclude_buckets = ["*-legal-hold"]
      credentials_file = "owner.cred"

      [[rule]]
      name = "under-test"
      max_age = "2d"
      action = "abort"
      \(rule)
      """.write(toFile: config, atomically: true, encoding: .utf8)
      let result = try await CLITests.run(["scan", "--config", config, "--format", "json"])
      #expect(result.status == 0 || result.status == 1, "\(result.stderr)")
      #expect(!result.stdout.contains(ownerCredentials.secretAccessKey ?? "-"))
      let records = try result.stdout.split(separator: "\n").dropLast().map {
        try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
      }
      return (records, result.stderr)
    }
    func ids(_ records: [[String: Any]], _ outcome: String) -> Set<String> {
      Set(records.filter { $0["outcome"] as? String == outcome }.compactMap { $0["upload_id"] as? String })
    }

    // A rule for the requester's own id: Ceph 16's listing says that is everyone. Nothing is confirmed, nothing
    // aborted.
    let mine = try await scan(rule: #"initiator = ["reaper-owner"]"#)
    #expect(ids(mine.records, "aborted").isEmpty, "\(mine.records)")
    #expect(try await left() == all)
    // A rule for the other user: the listing never names it, so it selects nothing.
    let theirs = try await scan(rule: #"initiator = ["reaper-other"]"#)
    #expect(ids(theirs.records, "aborted").isEmpty)
    #expect(try await left() == all)
    // Every bucket the glob finds, the legal hold left out: the owner's stale uploads there, exactly.
    let aged = try await scan(rule: #"prefix = "data/owner-""#)
    #expect(ids(aged.records, "aborted") == ownerStale, "\(aged.stderr)")
    #expect(Set(aged.records.compactMap { $0["bucket"] as? String }) == Set(buckets))
    #expect(try await left() == all.subtracting(ownerStale))
  }
}
