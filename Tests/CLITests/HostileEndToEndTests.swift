import Foundation
import ReaperSandbox
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// The real binary against a server that lies, one test per class of misbehaviour that issue 16 lists: the lie
/// is told about one clearly stale upload (or every response), and the scan must keep that upload, say why,
/// and still abort the clearly stale uploads beside it.
@Suite("Hostile servers, end to end", .serialized)
struct HostileEndToEndTests {
  struct Case: Sendable, CustomTestStringConvertible {
    /// The numbered class.
    let name: String
    let lie: SandboxHostility.Lie
    /// The upload the lie is told about; nil: every response.
    let about: String?
    /// Said in the kept upload's reason, or in the summary's errors when the record itself is unreadable.
    let why: String
    var testDescription: String { name }
  }

  static let cases: [Case] = [
    Case(name: "1 part times that cannot be read", lie: .partTimeMalformed, about: "stale-2", why: "idle time unknown"),
    Case(name: "2 empty identifiers", lie: .emptyKey, about: "stale-1", why: "without a non-empty Key"),
    Case(name: "3 answers about something else", lie: .otherUploadParts, about: "stale-2", why: "not trusted"),
    Case(name: "5 implausible timestamps", lie: .initiatedEpoch, about: "stale-1", why: "implausible Initiated"),
    Case(name: "new: a key a proxy rewrites", lie: .dotSegmentKey, about: "stale-1", why: "path segment"),
  ]

  static func records(_ stdout: String) throws -> (records: [[String: Any]], summary: [String: Any]) {
    let lines = try EndToEndTests.jsonLines(stdout)
    return (Array(lines.dropLast()), try #require(lines.last?["summary"] as? [String: Any]))
  }

  @Test(arguments: cases)
  func theLiedAboutUploadIsKeptAndTheRestAborted(_ lie: Case) async throws {
    let setup = try await EndToEndTests.start()
    defer { Task { await setup.server.stop() } }
    var hostility = SandboxHostility(lies: [lie.lie], rate: 1)
    if let about = lie.about { hostility.uploads = [about] }
    setup.server.store.hostility = hostility
    let result = try await CLITests.run(["scan", "--config", setup.config, "--format", "json"])
    // The lie is an error of the target's (exit 1), never a crash.
    #expect(result.status == 1, "\(result.stderr)")
    let aborted = Set(setup.server.store.aborted.map(\.uploadID))
    let kept = try #require(lie.about)
    #expect(aborted == EndToEndTests.expectedAborts.subtracting([kept]), "\(result.stderr)")
    let (records, summary) = try Self.records(result.stdout)
    let record = records.first { $0["upload_id"] as? String == kept && ($0["key"] as? String)?.isEmpty == false }
    let said = [record?["reason"] as? String ?? ""] + (summary["errors"] as? [String] ?? [])
    #expect(said.contains { $0.contains(lie.why) }, "\(said)")
    #expect(record.map { $0["outcome"] as? String != "aborted" } ?? true)
  }

  /// 4: a `Date` three days ahead of this host's clock. Ages are measured on the earlier clock, the host's, so
  /// exactly the truly stale uploads go, and the report says the clocks disagree.
  @Test func clocksThatDisagree() async throws {
    let setup = try await EndToEndTests.start()
    defer { Task { await setup.server.stop() } }
    setup.server.store.hostility = SandboxHostility(lies: [.dateAhead], rate: 1)
    let result = try await CLITests.run(["scan", "--config", setup.config, "--format", "json"])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(Set(setup.server.store.aborted.map(\.uploadID)) == EndToEndTests.expectedAborts)
    let (_, summary) = try Self.records(result.stdout)
    let notices = summary["notices"] as? [String] ?? []
    #expect(notices.contains { $0.contains("ages are measured on the earlier, this host's") }, "\(notices)")
    #expect(result.stderr.contains("clocks disagree"))
  }

  /// 8: every seventh request answered 503 SlowDown. Listings and re-checks are retried, aborts are tried again
  /// after a fresh re-check: the aborted set is exactly the fault-free one.
  @Test func transientFaults() async throws {
    let setup = try await EndToEndTests.start()
    defer { Task { await setup.server.stop() } }
    setup.server.store.hostility = SandboxHostility(lies: [.slowDown], rate: 1)
    let result = try await CLITests.run(["scan", "--config", setup.config, "--format", "json"])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(Set(setup.server.store.aborted.map(\.uploadID)) == EndToEndTests.expectedAborts)
  }

  /// 6: an S3-compatible server that writes zone-less stamps in its local time (UTC-8). Without `timezone` such a
  /// stamp has a reading per zone and is unreadable: nothing is aborted. With `timezone = "-08:00"` it is read
  /// right, and exactly the stale set goes.
  @Test func zonelessLocalTimeOnS3() async throws {
    let setup = try await EndToEndTests.start()
    defer { Task { await setup.server.stop() } }
    setup.server.store.hostility = SandboxHostility(lies: [.zonelessLocal], rate: 1)
    let original = try String(contentsOfFile: setup.config, encoding: .utf8)
    let s3 = original.replacingOccurrences(of: "provider = \"cdcs\"", with: "provider = \"s3\"")
    try s3.write(toFile: setup.config, atomically: true, encoding: .utf8)
    let unset = try await CLITests.run(["scan", "--config", setup.config, "--format", "json"])
    #expect(unset.status == 1, "\(unset.stderr)")
    #expect(setup.server.store.aborted.isEmpty)
    let (_, summary) = try Self.records(unset.stdout)
    #expect((summary["errors"] as? [String] ?? []).contains { $0.contains("unreadable Initiated") })

    let zoned = s3.replacingOccurrences(
      of: "credentials_file = \"sandbox.cred\"", with: "credentials_file = \"sandbox.cred\"\ntimezone = \"-08:00\"")
    try zoned.write(toFile: setup.config, atomically: true, encoding: .utf8)
    let set = try await CLITests.run(["scan", "--config", setup.config, "--format", "json"])
    #expect(set.status == 0, "\(set.stderr)")
    #expect(Set(setup.server.store.aborted.map(\.uploadID)) == EndToEndTests.expectedAborts)
  }

  /// 7: the PDS delete answered 503 while the client completes its upload. The delete is not sent again blind:
  /// the file is read again, found finished, and left alone.
  @Test func aDeleteThatRacesCompletionIsNotRetriedBlind() async throws {
    let setup = try await PDSEndToEndTests.start()
    defer { Task { await setup.server.stop() } }
    var hostility = SandboxHostility(lies: [.deleteRacesCompletion], rate: 1)
    hostility.uploads = ["U-stale-1"]
    setup.server.store.hostility = hostility
    let result = try await CLITests.run(["scan", "--config", setup.config, "--format", "json"])
    #expect(result.status == 0 || result.status == 1, "\(result.stderr)")
    let deleted = setup.server.store.aborted
    // Without the fault that test of the PDS end to end sets, tmp/finishing.bin is stale as well.
    #expect(Set(deleted.map(\.uploadID)) == ["U-scratch", "U-finishing"])
    #expect(deleted.allSatisfy { !$0.uploadID.isEmpty }, "a finished file was deleted: \(deleted)")
    let completed = setup.server.store.files(in: PDSEndToEndTests.drive)
    #expect(completed.contains { $0.key.hasSuffix("stale 1.mov") }, "the completed file is gone")
    let (records, _) = try Self.records(result.stdout)
    #expect(records.first { $0["upload_id"] as? String == "U-stale-1" }?["outcome"] as? String == "gone")
  }

  /// 9: SIGTERM in the middle of a cycle. No new page, parts listing or abort starts afterwards: what the server
  /// receives after the signal is at most what was already in flight.
  @Test func aStopStartsNothingNew() async throws {
    let setup = try await EndToEndTests.start()
    defer { Task { await setup.server.stop() } }
    setup.server.store.updateFaults { $0.latencyMilliseconds = 300 }
    let daemon = try DaemonTests.launch(setup, watchdogMicroseconds: 10_000_000)
    defer { daemon.notify.stop() }
    #expect(await daemon.notify.wait(for: { $0.hasPrefix("READY=1") }, within: 10) != nil)
    // The first cycle starts two seconds in; at 300 ms a request it is mid-walk a second later.
    try await Task.sleep(for: .seconds(3))
    let atSignal = setup.server.store.requestLog.total
    kill(daemon.process.processIdentifier, SIGTERM)
    daemon.process.waitUntilExit()
    #expect(daemon.process.terminationStatus == 0)
    let after = setup.server.store.requestLog.total - atSignal
    // `concurrency = 4` requests at most were in flight; one page may be on its way besides.
    #expect(after <= 5, "\(after) requests reached the server after SIGTERM")
    #expect(Set(setup.server.store.aborted.map(\.uploadID)).isSubset(of: EndToEndTests.expectedAborts))
  }
}
