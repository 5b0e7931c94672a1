import Foundation
import Testing

/// Runs the real `upload-reaper` binary, as an operator would.
@Suite("Command line")
struct CLITests {
  static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  static let exampleConfig = repository.appendingPathComponent("config/upload-reaper.toml").path

  /// The binary sits next to the test bundle in the build directory.
  static var binary: String {
    if let explicit = ProcessInfo.processInfo.environment["UPLOAD_REAPER_BIN"] { return explicit }
    let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    var directory = bundle
    while directory.path != "/" {
      let candidate = directory.appendingPathComponent("upload-reaper").path
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
      directory.deleteLastPathComponent()
    }
    return bundle.appendingPathComponent("upload-reaper").path
  }

  struct Result {
    var status: Int32
    var stdout: String
    var stderr: String
  }

  static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    var merged = ProcessInfo.processInfo.environment
    merged.removeValue(forKey: "CREDENTIALS_DIRECTORY")
    for (key, value) in environment { merged[key] = value }
    process.environment = merged
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Result(
      status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
      stderr: String(decoding: stderr, as: UTF8.self))
  }

  /// The example config with one line changed, written beside copies of its credentials files.
  static func exampleVariant(replacing old: String, with new: String) throws -> (path: String, line: Int) {
    let source = try String(contentsOfFile: exampleConfig, encoding: .utf8)
    let lines = source.components(separatedBy: "\n")
    let index = try #require(lines.firstIndex(of: old), "example config has no line \(old)")
    var changed = lines
    changed[index] = new
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    for name in ["coffers-bj.cred", "ceph-local.cred"] {
      let destination = directory.appendingPathComponent(name).path
      try FileManager.default.copyItem(
        atPath: repository.appendingPathComponent("config/\(name)").path, toPath: destination)
      try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: destination)
    }
    let path = directory.appendingPathComponent("config.toml").path
    try changed.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
    return (path, index + 1)
  }

  @Test func exampleConfigPasses() throws {
    let result = try Self.run(["check-config", "--config", Self.exampleConfig])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.hasPrefix("\(Self.exampleConfig): OK"))
    #expect(result.stdout.contains("1. backups-slow-uploads"))
    #expect(!result.stdout.contains("replace-with-the-real-secret"))
    #expect(!result.stderr.contains("replace-with-the-real-secret"))
  }

  @Test(
    "bad configs exit 2 with FILE:LINE: key: message",
    arguments: [
      ("jitter = \"1m\"", "jiter = \"1m\"", "daemon.jiter", "unknown key; did you mean \"jitter\"?"),
      ("max_age = \"24h\"", "max_age = \"30m\"", "rule.max_age", "30m is below safety.min_age 1h"),
      ("target = \"ceph-local\"", "target = \"ceph-lokal\"", "rule.target", "unknown target \"ceph-lokal\""),
      ("max_age = \"3d\"", "max_age = 259200", "rule.max_age", "bare number 259200: a duration needs a unit"),
    ])
  func badConfig(old: String, new: String, key: String, message: String) throws {
    let (path, line) = try Self.exampleVariant(replacing: old, with: new)
    let result = try Self.run(["check-config", "--config", path])
    #expect(result.status == 2)
    #expect(result.stdout.isEmpty)
    let lines = result.stderr.split(separator: "\n")
    #expect(lines.count == 1, "exactly one error: \(result.stderr)")
    #expect(lines.first?.hasPrefix("\(path):\(line): \(key): \(message)") == true, "\(result.stderr)")
  }

  @Test func missingConfigFile() throws {
    let result = try Self.run(["check-config", "--config", "/nonexistent/reaper.toml"])
    #expect(result.status == 2)
    #expect(result.stderr == "/nonexistent/reaper.toml: config: no such file\n")
  }

  @Test func badArgumentsExit2() throws {
    #expect(try Self.run(["scan", "--config", Self.exampleConfig, "--format", "xml"]).status == 2)
    #expect(try Self.run(["frobnicate"]).status == 2)
    #expect(try Self.run(["report", "--config", Self.exampleConfig, "--last", "0"]).status == 2)
    let unknownTarget = try Self.run(["scan", "--config", Self.exampleConfig, "--target", "nope"])
    #expect(unknownTarget.status == 2)
    #expect(unknownTarget.stderr.contains("--target nope: no such target"))
  }

  @Test(
    "commands whose issue has not landed exit 3 and say so",
    arguments: [["run"], ["scan"], ["scan", "--dry-run", "--format", "json"], ["list"], ["report"]])
  func notYetAvailable(arguments: [String]) throws {
    let result = try Self.run(arguments + ["--config", Self.exampleConfig])
    #expect(result.status == 3)
    #expect(result.stderr.contains("not available in this build yet"))
  }

  @Test func sandboxNotYetAvailable() throws {
    let result = try Self.run(["sandbox", "--port", "0"])
    #expect(result.status == 3)
  }

  @Test func aBadConfigWinsOverNotYetAvailable() throws {
    let (path, _) = try Self.exampleVariant(replacing: "max_age = \"24h\"", with: "max_age = \"30m\"")
    #expect(try Self.run(["scan", "--config", path]).status == 2)
  }

  @Test func version() throws {
    let result = try Self.run(["--version"])
    #expect(result.status == 0)
    #expect(result.stdout.range(of: #"^\d+\.\d+\.\d+\n$"#, options: .regularExpression) != nil)
  }
}
