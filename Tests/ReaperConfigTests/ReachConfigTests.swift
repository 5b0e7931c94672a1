import Foundation
import ReaperCore
import Testing

@testable import ReaperConfig

/// `ca_file`, `client_certificate`, `client_key` and `proxy` in a `[[target]]`.
@Suite("TLS and proxy keys")
struct ReachConfigTests {
  /// PEM blocks whose base64 decodes to DER (a SEQUENCE): what the structural check accepts. The TLS library
  /// parses the real thing when a cycle builds the client; the integration tests use real certificates.
  static func pem(_ label: String) -> String {
    "-----BEGIN \(label)-----\n\(Data([0x30, 0x03, 0x02, 0x01, 0x01]).base64EncodedString())\n-----END \(label)-----\n"
  }

  static let files = [
    "a.cred": "access_key_id=AK\nsecret_access_key=SK\n", "ca.pem": pem("CERTIFICATE") + pem("CERTIFICATE"),
    "client.pem": pem("CERTIFICATE"), "client.key": pem("PRIVATE KEY"),
  ]

  static func config(_ extra: String, endpoint: String = "https://s3.example.com") -> String {
    """
    [[target]]
    name = "t1"
    provider = "s3"
    endpoint = "\(endpoint)"
    buckets = ["b1"]
    credentials_file = "a.cred"
    \(extra)
    """
  }

  func expectError(
    _ extra: String, files: [String: String] = files, endpoint: String = "https://s3.example.com", line: Int,
    key: String, message: String, prepare: (ConfigFixture) throws -> Void = { _ in },
    sourceLocation: SourceLocation = #_sourceLocation
  ) throws {
    let fixture = try ConfigFixture(Self.config(extra, endpoint: endpoint), credentials: files)
    try prepare(fixture)
    let errors = fixture.errors()
    #expect(errors.count == 1, "\(errors)", sourceLocation: sourceLocation)
    let error = try #require(errors.first, sourceLocation: sourceLocation)
    #expect(error.line == line, "\(error)", sourceLocation: sourceLocation)
    #expect(error.key == key, "\(error)", sourceLocation: sourceLocation)
    #expect(error.message.contains(message), "\(error.message)", sourceLocation: sourceLocation)
    #expect(error.description.hasPrefix("\(fixture.path):\(line): \(key)"), "\(error)", sourceLocation: sourceLocation)
  }

  @Test func readsAllFourKeysAndResolvesTheFilesBesideTheConfig() throws {
    let fixture = try ConfigFixture(
      Self.config(
        """
        ca_file = "ca.pem"
        client_certificate = "client.pem"
        client_key = "client.key"
        proxy = "http://proxy.internal:3128"
        """), credentials: Self.files)
    let target = try #require(try fixture.load().config.targets.first)
    #expect(target.tls?.caFile == fixture.directory.appendingPathComponent("ca.pem").path)
    #expect(target.tls?.clientCertificate == fixture.directory.appendingPathComponent("client.pem").path)
    #expect(target.tls?.clientKey == fixture.directory.appendingPathComponent("client.key").path)
    #expect(target.proxy == "http://proxy.internal:3128")
  }

  @Test func aTargetWithoutThemHasNoTLSSettingsOrProxy() throws {
    let target = try #require(try ConfigFixture(Self.config("")).load().config.targets.first)
    #expect(target.tls == nil)
    #expect(target.proxy == nil)
  }

  @Test func filesAreFoundInTheCredentialsDirectoryLikeCredentials() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("creds-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    try Self.pem("CERTIFICATE").write(
      to: directory.appendingPathComponent("systemd-ca.pem"), atomically: true, encoding: .utf8)
    let fixture = try ConfigFixture(Self.config("ca_file = \"systemd-ca.pem\""))
    let target = try #require(
      try fixture.load(environment: ["CREDENTIALS_DIRECTORY": directory.path]).config.targets.first)
    #expect(target.tls?.caFile == directory.appendingPathComponent("systemd-ca.pem").path)
  }

  @Test func tlsKeysOnAnHTTPEndpointAreRefused() throws {
    try expectError(
      "ca_file = \"ca.pem\"", endpoint: "http://127.0.0.1:7480", line: 7, key: "target.ca_file",
      message: "the endpoint is http://")
  }

  @Test func aClientCertificateNeedsItsKeyAndTheKeyItsCertificate() throws {
    try expectError(
      "client_certificate = \"client.pem\"", line: 7, key: "target.client_certificate",
      message: "client_certificate and client_key go together")
    try expectError(
      "client_key = \"client.key\"", line: 7, key: "target.client_key",
      message: "client_certificate and client_key go together")
  }

  @Test func aMissingFileIsNamedWithWhereItWasLookedFor() throws {
    try expectError(
      "ca_file = \"nowhere.pem\"", line: 7, key: "target.ca_file", message: "\"nowhere.pem\" not found (looked in")
  }

  @Test func aClientKeyOthersCanReadIsRefused() throws {
    try expectError(
      "client_certificate = \"client.pem\"\nclient_key = \"client.key\"", line: 8, key: "target.client_key",
      message: "mode 644 lets others read or change this private key"
    ) { fixture in
      try FileManager.default.setAttributes(
        [.posixPermissions: 0o644], ofItemAtPath: fixture.directory.appendingPathComponent("client.key").path)
    }
  }

  @Test(arguments: [
    ("not a certificate at all\n", "not a PEM file"),
    ("-----BEGIN CERTIFICATE-----\nMAMCAQE=\n", "CERTIFICATE block has no END line"),
    ("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", "not valid base64 DER"),
    (pem("PRIVATE KEY"), "holds a private key"),
    (pem("PUBLIC KEY"), "holds no PEM certificate"),
  ])
  func anUnusableCAFileIsRefusedWithTheReason(contents: String, message: String) throws {
    var files = Self.files
    files["ca.pem"] = contents
    try expectError("ca_file = \"ca.pem\"", files: files, line: 7, key: "target.ca_file", message: message)
  }

  @Test func anEncryptedOrMissingKeyIsRefused() throws {
    var files = Self.files
    files["client.key"] = Self.pem("ENCRYPTED PRIVATE KEY")
    try expectError(
      "client_certificate = \"client.pem\"\nclient_key = \"client.key\"", files: files, line: 8,
      key: "target.client_key", message: "the key is encrypted")
    files["client.key"] = Self.pem("CERTIFICATE")
    try expectError(
      "client_certificate = \"client.pem\"\nclient_key = \"client.key\"", files: files, line: 8,
      key: "target.client_key", message: "holds no PEM private key")
  }

  @Test(arguments: [
    ("https://proxy:3128", "only http:// proxies"), ("http://proxy", "names no port"),
    ("http://user:pw@proxy:3128", "must not hold credentials"), ("http://proxy:3128/path", "no path or query"),
    ("proxy:3128", "not a URL of the form http://host:port"),
  ])
  func aProxyMustBeABareHTTPHostAndPort(value: String, message: String) throws {
    try expectError("proxy = \"\(value)\"", line: 7, key: "target.proxy", message: message)
  }
}
