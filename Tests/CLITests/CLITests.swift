import Foundation
import Testing

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

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

  private static func runBlocking(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
    let process = Process()
    if arguments.first == "__shell__" {
      // A shell command line instead of the binary, for tests that set up namespaces around it.
      process.executableURL = URL(fileURLWithPath: "/bin/sh")
      process.arguments = ["-c"] + arguments.dropFirst()
    } else {
      process.executableURL = URL(fileURLWithPath: binary)
      process.arguments = arguments
    }
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

  /// `run` on a thread of its own: waiting on a child must not hold one of the few cooperative threads that an
  /// in-process sandbox needs to answer that child.
  static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> Result {
    try await withCheckedThrowingContinuation { continuation in
      Thread.detachNewThread {
        continuation.resume(with: Swift.Result { try runBlocking(arguments, environment: environment) })
      }
    }
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

  @Test func exampleConfigPasses() async throws {
    let result = try await Self.run(["check-config", "--config", Self.exampleConfig])
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
  func badConfig(old: String, new: String, key: String, message: String) async throws {
    let (path, line) = try Self.exampleVariant(replacing: old, with: new)
    let result = try await Self.run(["check-config", "--config", path])
    #expect(result.status == 2)
    #expect(result.stdout.isEmpty)
    let lines = result.stderr.split(separator: "\n")
    #expect(lines.count == 1, "exactly one error: \(result.stderr)")
    #expect(lines.first?.hasPrefix("\(path):\(line): \(key): \(message)") == true, "\(result.stderr)")
  }

  @Test func missingConfigFile() async throws {
    let result = try await Self.run(["check-config", "--config", "/nonexistent/reaper.toml"])
    #expect(result.status == 2)
    #expect(result.stderr == "/nonexistent/reaper.toml: config: no such file\n")
  }

  @Test func badArgumentsExit2() async throws {
    let result1 = try await Self.run(["scan", "--config", Self.exampleConfig, "--format", "xml"])
    #expect(result1.status == 2)
    let result2 = try await Self.run(["frobnicate"])
    #expect(result2.status == 2)
    let result3 = try await Self.run(["report", "--config", Self.exampleConfig, "--last", "0"])
    #expect(result3.status == 2)
    let unknownTarget = try await Self.run(["scan", "--config", Self.exampleConfig, "--target", "nope"])
    #expect(unknownTarget.status == 2)
    #expect(unknownTarget.stderr.contains("--target nope: no such target"))
  }

  /// `upload-reaper sandbox` on a free port, with `arguments` added; returns once it has written its port.
  static func startSandbox(_ arguments: [String] = []) async throws -> (process: Process, port: Int) {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let portFile = directory.appendingPathComponent("port").path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = ["sandbox", "--port", "0", "--port-file", portFile] + arguments
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    var port: Int?
    for _ in 0..<100 where port == nil {
      try await Task.sleep(for: .milliseconds(50))
      port = (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap {
        Int($0.trimmingCharacters(in: .whitespacesAndNewlines))
      }
    }
    guard let port else {
      process.terminate()
      process.waitUntilExit()
      throw SandboxNeverBound()
    }
    return (process, port)
  }

  struct SandboxNeverBound: Error, CustomStringConvertible {
    var description: String { "the sandbox never wrote its port" }
  }

  @Test func sandboxServesTheDemoSetAndStopsOnSIGTERM() async throws {
    let (process, bound) = try await Self.startSandbox()
    let state = try await Self.run(["check-config", "--config", "/nonexistent"])  // the CLI still answers meanwhile
    #expect(state.status == 2)
    let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(bound)/_sandbox/state")!)
    let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    let buckets = try #require(json["buckets"] as? [String: [Any]])
    #expect(buckets.keys.sorted() == ["9001", "demo-1250000000", "media-1250000000"])
    #expect(buckets.values.reduce(0) { $0 + $1.count } >= 200)
    process.terminate()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
  }

  @Test func aBadConfigExitsTwoBeforeScanning() async throws {
    let (path, _) = try Self.exampleVariant(replacing: "max_age = \"24h\"", with: "max_age = \"30m\"")
    let result = try await Self.run(["scan", "--config", path])
    #expect(result.status == 2)
  }

  @Test func version() async throws {
    let result = try await Self.run(["--version"])
    #expect(result.status == 0)
    #expect(result.stdout.range(of: #"^\d+\.\d+\.\d+\n$"#, options: .regularExpression) != nil)
  }
}
