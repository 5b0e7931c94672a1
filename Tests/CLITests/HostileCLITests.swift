import Foundation
import Testing

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// `upload-reaper sandbox --hostile`, as real-binary tests switch the lies on.
@Suite("Command line: sandbox --hostile")
struct HostileCLITests {
  @Test func anUnknownLieExitsTwo() async throws {
    let result = try await CLITests.run(["sandbox", "--port", "0", "--hostile", "empty-key,fibbing"])
    #expect(result.status == 2)
    #expect(result.stderr.contains("fibbing"))
  }

  @Test func theLiesNamedAreOnFromTheStart() async throws {
    let (process, bound) = try await CLITests.startSandbox([
      "--hostile", "empty-key,date-ahead", "--hostile-rate", "1", "--hostile-seed", "3", "--hostile-upload", "u-1",
    ])
    defer {
      process.terminate()
      process.waitUntilExit()
    }
    let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(bound)/_sandbox/hostile")!)
    let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    #expect(Set(json["lies"] as? [String] ?? []) == ["empty-key", "date-ahead"])
    #expect(json["rate"] as? Double == 1)
    #expect(json["seed"] as? Int == 3)
    #expect(json["uploads"] as? [String] == ["u-1"])
  }
}
