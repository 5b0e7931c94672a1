import Foundation
import ReaperCore
import ReaperProviders
import ReaperSandbox
import Testing

/// How the hostile mode is switched, and that its lies stay on the wire while the store keeps the truth.
@Suite("Sandbox hostile mode switches")
struct HostileSwitchTests {
  @Test func namesParseAndUnknownNamesAreRefused() throws {
    #expect(try SandboxHostility.parse(names: "empty-key, date-ahead") == [.emptyKey, .dateAhead])
    #expect(try SandboxHostility.parse(names: "all") == Set(SandboxHostility.Lie.allCases))
    #expect(throws: SandboxHostility.UnknownLie.self) { try SandboxHostility.parse(names: "empty-key,lying") }
  }

  @Test func theControlEndpointSetsAndShowsTheLies() throws {
    let store = SandboxStore(buckets: [], credentials: [:])
    let body = #"{"lies":["empty-key","slow-down"],"rate":0.25,"seed":42,"slow_down_every":5}"#
    let set = store.handle(SandboxRequest(method: "PUT", uri: "/_sandbox/hostile", headers: [], body: Array(body.utf8)))
    #expect(set.status == 200)
    #expect(store.hostility.lies == [.emptyKey, .slowDown])
    #expect(store.hostility.rate == 0.25)
    #expect(store.hostility.seed == 42)
    #expect(store.hostility.slowDownEvery == 5)
    let shown = store.handle(SandboxRequest(method: "GET", uri: "/_sandbox/hostile", headers: []))
    #expect(String(decoding: shown.body, as: UTF8.self).contains("\"empty-key\""))
    let refused = store.handle(
      SandboxRequest(method: "PUT", uri: "/_sandbox/hostile", headers: [], body: Array(#"{"lies":["x"]}"#.utf8)))
    #expect(refused.status == 400)
  }

  @Test func theDrawIsDeterministicAndNearTheRate() {
    let hostility = SandboxHostility(lies: [.emptyKey], rate: 0.3, seed: 7)
    let picks = (0..<2000).filter { hostility.applies(.emptyKey, to: "u\($0)") }
    #expect(picks == (0..<2000).filter { hostility.applies(.emptyKey, to: "u\($0)") })
    #expect((500...700).contains(picks.count))
    #expect(!hostility.applies(.dateAhead, to: "u1"))
    let other = SandboxHostility(lies: [.emptyKey], rate: 0.3, seed: 8)
    #expect(picks != (0..<2000).filter { other.applies(.emptyKey, to: "u\($0)") })
  }

  @Test func chosenUploadsAreExactlyTheOnesLiedAbout() {
    var hostility = SandboxHostility(lies: [.emptyKey, .otherBucket, .dateAhead], rate: 0, seed: 1)
    hostility.uploads = ["u2", "u5"]
    #expect((0..<10).filter { hostility.applies(.emptyKey, to: "u\($0)") } == [2, 5])
    #expect(hostility.applies(.otherBucket, to: "page:u5"))
    #expect(!hostility.applies(.otherBucket, to: "page:u4"))
    // Whole responses still follow the rate, here none.
    #expect(!hostility.applies(.dateAhead, to: "response:2"))
  }

  @Test func aBackwardsMarkerServesThePageAgainMinusItsFirstUpload() async throws {
    let uploads = (0..<3).map { SandboxUpload.aged("k\($0)", id: "back-\($0)", age: 86_400) }
    try await SandboxHarness.with([SandboxBucket(name: "c-back", uploads: uploads)]) { harness in
      harness.store.hostility = SandboxHostility(lies: [.markerBackwards], rate: 1, seed: 1)
      let listed = try? await harness.listAll(harness.provider(["c-back"]), bucket: "c-back")
      // 3 + 2 + 1 records over four pages if the walk takes the pages as they come (today's does); fewer if
      // it refuses a marker that goes back.
      #expect(listed == nil || listed!.count <= 6)
      #expect(harness.store.requestLog.listUploads >= 1)
    }
  }

  @Test func listingsLieWhileTheStoreKeepsTheTruth() async throws {
    let upload = SandboxUpload.aged("a/f.bin", id: "lying-1", age: 86_400)
    try await SandboxHarness.with([SandboxBucket(name: "c-lies", uploads: [upload])]) { harness in
      harness.store.hostility = SandboxHostility(lies: [.emptyKey], rate: 1, seed: 1)
      let provider = harness.provider(["c-lies"])
      let listed = try await harness.listAll(provider, bucket: "c-lies")
      #expect(harness.store.uploads(in: "c-lies").map(\.key) == ["a/f.bin"])
      // Today's decoder may keep or refuse the record; either way it never shows the true key.
      #expect(!listed.contains { $0.key == "a/f.bin" })
      #expect(harness.store.requestLog.requests.isEmpty)
    }
  }
}
