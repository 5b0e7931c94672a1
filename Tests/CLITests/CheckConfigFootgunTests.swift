import Foundation
import Testing

extension CLITests {
  @Test(
    "a setting that gives up a safety margin is a warning: check-config still passes",
    arguments: [
      ("min_age = \"1h\"", "min_age = \"30m\"", "safety.min_age", "30m is under 1h"),
      (
        "max_abort_fraction = 0.5", "max_abort_fraction = 1", "safety.max_abort_fraction",
        "1.0 turns the circuit breaker off"
      ),
      (
        "recheck_before_abort = true", "recheck_before_abort = false", "safety.recheck_before_abort",
        "false aborts on the listing alone"
      ),
      (
        "action = \"report\"", "action = \"abort\"", "rule.action",
        "abort rule \"report-everything-old\" names no target"
      ),
    ])
  func footgunWarning(old: String, new: String, key: String, message: String) async throws {
    let (path, line) = try Self.exampleVariant(replacing: old, with: new)
    let result = try await Self.run(["check-config", "--config", path])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.hasPrefix("\(path): OK"))
    #expect(result.stderr.contains("\(path):\(line): \(key): warning: \(message)"), "\(result.stderr)")
  }

  @Test func timezoneOnAPDSTargetExits2() async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let credentials = directory.appendingPathComponent("photos.cred").path
    try "access_token=example\n".write(toFile: credentials, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: credentials)
    let path = directory.appendingPathComponent("config.toml").path
    try """
    [[target]]
    name = "photos"
    provider = "pds"
    endpoint = "https://1a2b3c4d.api.aliyunpds.com"
    buckets = ["11001"]
    credentials_file = "photos.cred"
    timezone = "Asia/Shanghai"
    """.write(toFile: path, atomically: true, encoding: .utf8)
    let result = try await Self.run(["check-config", "--config", path])
    #expect(result.status == 2)
    #expect(result.stdout.isEmpty)
    #expect(
      result.stderr.hasPrefix(
        "\(path):7: target.timezone: pds targets take no timezone: PDS times always carry their zone"),
      "\(result.stderr)")
  }
}
