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
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let portFile = directory.appendingPathComponent("port").path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CLITests.binary)
    process.arguments = [
      "sandbox", "--port", "0", "--port-file", portFile, "--hostile", "empty-key,date-ahead", "--hostile-rate", "1",
      "--hostile-seed", "3", "--hostile-upload", "u-1",
    ]
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    defer {
      process.terminate()
      process.waitUntilExit()
    }
    var port: Int?
    for _ in 0..<100 where port == nil {
      try await Task.sleep(for: .milliseconds(50))
      port = (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap {
        Int($0.trimmingCharacters(in: .whitespacesAndNewlines))
      }
    }
    let bound = try #require(port, "the sandbox never wrote its port")
    let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(bound)/_sandbox/hostile")!)
    let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    #expect(Set(json["lies"] as? [String] ?? []) == ["empty-key", "date-ahead"])
    #expect(json["rate"] as? Double == 1)
    #expect(json["seed"] as? Int == 3)
    #expect(json["uploads"] as? [String] == ["u-1"])
  }
}
