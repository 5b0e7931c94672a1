import Foundation
import ReaperSandbox
import TestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// TLS settings through the real binary: check-config's refusals, and a scan's target failure message.
@Suite("TLS through the CLI")
struct TLSCLITests {
  static let accessKey = "AKIDTLSCLI"
  static let secret = "tls-cli-secret-that-must-never-print"

  /// A config for one cdcs target at `endpoint` with `extra` keys, beside a credentials file.
  static func config(endpoint: String, extra: String) throws -> (path: String, directory: String) {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tls-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let credentials = directory.appendingPathComponent("sandbox.cred").path
    try "access_key_id=\(accessKey)\nsecret_access_key=\(secret)\n".write(
      toFile: credentials, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: credentials)
    let path = directory.appendingPathComponent("reaper.toml").path
    try """
    [daemon]
    state_dir = "\(directory.path)/state"

    [[target]]
    name = "secure-sandbox"
    provider = "cdcs"
    endpoint = "\(endpoint)"
    buckets = ["tls-1250000000"]
    credentials_file = "sandbox.cred"
    \(extra)

    [[rule]]
    name = "old"
    max_age = "1d"
    action = "report"
    """.write(toFile: path, atomically: true, encoding: .utf8)
    return (path, directory.path)
  }

  /// The sandbox over TLS with `pair`, serving the config's coffer with one three-day-old upload.
  static func tlsSandbox(_ pair: TestCertificates.Pair) async throws -> (SandboxStore, SandboxServer) {
    let store = SandboxStore(
      buckets: [
        SandboxBucket(
          name: "tls-1250000000",
          uploads: [SandboxUpload(key: "a.bin", uploadID: "u-1", initiated: Date().addingTimeInterval(-3 * 86_400))])
      ], credentials: [Self.accessKey: Self.secret])
    let server = try await SandboxServer.start(
      store: store, tls: SandboxTLS(certificateFile: pair.certificate, keyFile: pair.key))
    return (store, server)
  }

  /// No proxy from the environment the tests run in.
  static let direct = ["https_proxy": "", "HTTPS_PROXY": "", "http_proxy": "", "all_proxy": "", "ALL_PROXY": ""]

  @Test func checkConfigRefusesAClientKeyOthersCanRead() async throws {
    let certificates = try TestCertificates.make()
    let (path, _) = try Self.config(
      endpoint: "https://127.0.0.1:9",
      extra: """
        ca_file = "\(certificates.caFile)"
        client_certificate = "\(certificates.client.certificate)"
        client_key = "\(certificates.client.key)"
        """)
    let valid = try await CLITests.run(["check-config", "--config", path])
    #expect(valid.status == 0, "\(valid.stderr)")
    try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: certificates.client.key)
    let result = try await CLITests.run(["check-config", "--config", path])
    #expect(result.status == 2)
    #expect(
      result.stderr.hasPrefix(
        "\(path):12: target.client_key: \(certificates.client.key): mode 644 lets others read or change this private key"
      ),
      "\(result.stderr)")
  }

  @Test func aScanOfAnUntrustedServerFailsTheTargetSayingWhy() async throws {
    let certificates = try TestCertificates.make()
    let (_, server) = try await Self.tlsSandbox(certificates.server)
    let endpoint = "https://127.0.0.1:\(server.port)"
    let untrusting = try Self.config(endpoint: endpoint, extra: "")
    let failed = try await CLITests.run(["scan", "--config", untrusting.path], environment: Self.direct)
    let trusting = try Self.config(endpoint: endpoint, extra: "ca_file = \"\(certificates.caFile)\"")
    let scanned = try await CLITests.run(
      ["scan", "--config", trusting.path, "--format", "json"], environment: Self.direct)
    await server.stop()
    #expect(failed.status != 0)
    let output = failed.stdout + failed.stderr
    #expect(output.contains("secure-sandbox"), "\(output)")
    #expect(output.contains("TLS with \(endpoint) failed: certificate not trusted"), "\(output)")
    #expect(output.contains("unknown CA"), "\(output)")
    #expect(!output.contains(Self.secret))
    #expect(scanned.status == 0, "\(scanned.stdout)\(scanned.stderr)")
    #expect(scanned.stdout.contains("u-1"), "\(scanned.stdout)")
  }

  /// `check-config --online` tells the TLS failure from the others, with its reason and a hint; with `ca_file` the
  /// same endpoint works. An expired certificate gets its own hint.
  @Test func checkConfigOnlineSaysWhyTLSFailed() async throws {
    let certificates = try TestCertificates.make()
    let (store, server) = try await Self.tlsSandbox(certificates.server)
    let (expiredStore, expiredServer) = try await Self.tlsSandbox(certificates.expired)
    let endpoint = "https://127.0.0.1:\(server.port)"
    let untrusting = try Self.config(endpoint: endpoint, extra: "")
    let failed = try await CLITests.run(
      ["check-config", "--config", untrusting.path, "--online"], environment: Self.direct)
    let trusting = try Self.config(endpoint: endpoint, extra: "ca_file = \"\(certificates.caFile)\"")
    let worked = try await CLITests.run(
      ["check-config", "--config", trusting.path, "--online"], environment: Self.direct)
    let expired = try Self.config(
      endpoint: "https://127.0.0.1:\(expiredServer.port)", extra: "ca_file = \"\(certificates.caFile)\"")
    let stale = try await CLITests.run(
      ["check-config", "--config", expired.path, "--online"], environment: Self.direct)
    await server.stop()
    await expiredServer.stop()
    #expect(failed.status == 1, "\(failed.stdout)\(failed.stderr)")
    #expect(failed.stdout.contains("FAILED  secure-sandbox/tls-1250000000: TLS:"), "\(failed.stdout)")
    #expect(failed.stdout.contains("unknown CA"), "\(failed.stdout)")
    #expect(failed.stdout.contains("hint: the endpoint's certificate is not trusted here: set ca_file"))
    #expect(worked.status == 0, "\(worked.stdout)\(worked.stderr)")
    #expect(worked.stdout.contains("ok      secure-sandbox/tls-1250000000: reachable, TLS ok, authenticated, can list"))
    #expect(stale.status == 1)
    #expect(stale.stdout.contains("hint: the server's certificate has expired"), "\(stale.stdout)")
    #expect(store.requestLog.aborts == 0 && expiredStore.requestLog.aborts == 0)
  }

  /// The daemon trusts the wrong CA, fails its first cycle, and after SIGHUP with the right `ca_file` the next
  /// cycle lists: the reload reaches the TLS settings, not only the rules.
  @Test func aReloadWithAnotherCAFileIsUsedByTheNextCycle() async throws {
    let certificates = try TestCertificates.make()
    let (_, server) = try await Self.tlsSandbox(certificates.server)
    let endpoint = "https://127.0.0.1:\(server.port)"
    let timing = "interval = \"10s\"\njitter = \"0s\"\n"
    let (path, _) = try Self.config(endpoint: endpoint, extra: "ca_file = \"\(certificates.path("stranger.pem"))\"")
    let wrong = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(
      of: "[daemon]\n", with: "[daemon]\n" + timing)
    try wrong.write(toFile: path, atomically: true, encoding: .utf8)

    let notify = try NotifySocket()
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CLITests.binary)
    process.arguments = ["run", "--config", path]
    var environment = ProcessInfo.processInfo.environment.merging(Self.direct) { $1 }
    environment["NOTIFY_SOCKET"] = notify.path
    environment.removeValue(forKey: "JOURNAL_STREAM")
    environment.removeValue(forKey: "WATCHDOG_USEC")
    process.environment = environment
    let stderr = Pipe()
    process.standardError = stderr
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    defer {
      if process.isRunning { kill(process.processIdentifier, SIGKILL) }
      notify.stop()
    }
    let first = await notify.wait(for: { $0.contains("STATUS=cycle 1:") }, within: 30)
    #expect(first?.text.contains("0 uploads") == true, "\(first?.text ?? "no status")")

    try wrong.replacingOccurrences(of: certificates.path("stranger.pem"), with: certificates.caFile).write(
      toFile: path, atomically: true, encoding: .utf8)
    kill(process.processIdentifier, SIGHUP)
    #expect(await notify.wait(for: { $0.contains("STATUS=config reloaded") }, within: 10) != nil)
    let second = await notify.wait(for: { $0.contains("STATUS=cycle 2:") }, within: 30)
    #expect(second?.text.contains("1 uploads") == true, "\(second?.text ?? "no status")")

    kill(process.processIdentifier, SIGTERM)
    process.waitUntilExit()
    await server.stop()
    let log = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    #expect(log.contains("TLS with \(endpoint) failed: certificate not trusted"), "\(log)")
    #expect(log.contains("unknown CA"))
    #expect(!log.contains(Self.secret))
  }
}
