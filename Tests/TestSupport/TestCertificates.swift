import Foundation

/// A CA and the certificates the TLS tests serve and present, made with the `openssl` command in a fresh
/// temporary directory: a good server certificate for 127.0.0.1 and localhost, an expired one, one for another
/// name, one from a CA nobody trusts, and a client certificate for mutual TLS.
public struct TestCertificates: Sendable {
  public let directory: String
  public var caFile: String { path("ca.pem") }

  public struct Pair: Sendable {
    public let certificate: String
    public let key: String
  }

  public var server: Pair { pair("server") }
  public var expired: Pair { pair("expired") }
  public var wrongName: Pair { pair("wrongname") }
  /// Issued by a second CA that no test trusts.
  public var strangerIssued: Pair { pair("stranger-leaf") }
  public var client: Pair { pair("client") }

  public func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
  func pair(_ name: String) -> Pair { Pair(certificate: path("\(name).pem"), key: path("\(name).key")) }

  public static func make() throws -> TestCertificates {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("reaper-tls-\(UUID().uuidString)")
      .path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let made = TestCertificates(directory: directory)
    try made.authority("ca", subject: "/CN=upload-reaper test CA")
    try made.authority("stranger", subject: "/CN=a CA nobody trusts")
    let serverNames = "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth"
    try made.leaf("server", ca: "ca", subject: "/CN=localhost", extensions: serverNames)
    try made.leaf("expired", ca: "ca", subject: "/CN=localhost", extensions: serverNames, days: -1)
    try made.leaf(
      "wrongname", ca: "ca", subject: "/CN=elsewhere.invalid",
      extensions: "subjectAltName=DNS:elsewhere.invalid\nextendedKeyUsage=serverAuth")
    try made.leaf("stranger-leaf", ca: "stranger", subject: "/CN=localhost", extensions: serverNames)
    try made.leaf("client", ca: "ca", subject: "/CN=upload-reaper", extensions: "extendedKeyUsage=clientAuth")
    for name in try FileManager.default.contentsOfDirectory(atPath: directory) where name.hasSuffix(".key") {
      try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: made.path(name))
    }
    return made
  }

  func authority(_ name: String, subject: String) throws {
    try openssl([
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
      path("\(name).key"), "-out", path("\(name).pem"), "-days", "2", "-subj", subject, "-addext",
      "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    ])
  }

  /// `days: -1` makes a certificate whose validity ended a day before it began: expired from the start.
  func leaf(_ name: String, ca: String, subject: String, extensions: String, days: Int = 2) throws {
    let extensionsFile = path("\(name).ext")
    try extensions.write(toFile: extensionsFile, atomically: true, encoding: .utf8)
    try openssl([
      "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
      path("\(name).key"), "-out", path("\(name).csr"), "-subj", subject,
    ])
    try openssl([
      "x509", "-req", "-in", path("\(name).csr"), "-CA", path("\(ca).pem"), "-CAkey", path("\(ca).key"),
      "-CAcreateserial", "-days", "\(days)", "-extfile", extensionsFile, "-out", path("\(name).pem"),
    ])
  }

  func openssl(_ arguments: [String]) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["openssl"] + arguments
    let errors = Pipe()
    process.standardError = errors
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    let message = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw CertificateError(
        message:
          "openssl \(arguments.prefix(2).joined(separator: " ")) failed: \(String(decoding: message, as: UTF8.self))")
    }
  }

  public struct CertificateError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
  }
}

/// scripts/lib/count-proxy.py, started for one test: an HTTP proxy that logs each request it carries.
public final class CountingProxy: Sendable {
  public let port: Int
  public let logFile: String
  private let process: Process

  private init(port: Int, logFile: String, process: Process) {
    self.port = port
    self.logFile = logFile
    self.process = process
  }

  public var url: String { "http://127.0.0.1:\(port)" }

  /// One line per request: `CONNECT host:port`, or `GET http://...` for a forwarded one.
  public var requests: [String] {
    ((try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
  }

  /// - Parameter login: `user:password` the proxy demands as Basic authentication; nil demands none.
  public static func start(login: String? = nil) async throws -> CountingProxy {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("reaper-proxy-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let portFile = directory.appendingPathComponent("port").path
    let logFile = directory.appendingPathComponent("requests.log").path
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("scripts/lib/count-proxy.py").path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments =
      ["python3", script, "--port-file", portFile, "--log", logFile] + (login.map { ["--require-login", $0] } ?? [])
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    for _ in 0..<200 {
      if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let port = Int(text) {
        return CountingProxy(port: port, logFile: logFile, process: process)
      }
      guard process.isRunning else { break }
      try await Task.sleep(for: .milliseconds(50))
    }
    kill(process.processIdentifier, SIGKILL)
    throw TestCertificates.CertificateError(message: "count-proxy.py did not start")
  }

  /// SIGKILL: a test runner may leave SIGTERM ignored in its children, and nothing of the proxy's needs saving.
  public func stop() {
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
  }
}
