import Foundation
import ReaperConfig
import ReaperCore
import ReaperSandbox
import TestSupport
import Testing

@testable import ReaperProviders

/// The sandbox over HTTPS with certificates made by `openssl` for each test: which CA is trusted, what a
/// failed verification is called, and mutual TLS.
@Suite("TLS per target against the sandbox")
struct TLSTests {
  static let bucket = "tls-1250000000"

  static func buckets() -> [SandboxBucket] {
    [SandboxBucket(name: bucket, uploads: [.aged("a.bin", id: "u-1", age: 7200), .aged("b.bin", id: "u-2", age: 60)])]
  }

  /// A sandbox serving `pair` over HTTPS on 127.0.0.1, for `body`.
  static func serving<T>(
    _ pair: TestCertificates.Pair, clientCA: String? = nil, _ body: (_ endpoint: String) async throws -> T
  ) async throws -> T {
    let store = SandboxStore(
      buckets: buckets(), credentials: [SandboxHarness.accessKey: SandboxHarness.secretKey], clock: { Date() })
    let server = try await SandboxServer.start(
      store: store, tls: SandboxTLS(certificateFile: pair.certificate, keyFile: pair.key, clientCAFile: clientCA))
    do {
      let result = try await body("https://127.0.0.1:\(server.port)")
      await server.stop()
      return result
    } catch {
      await server.stop()
      throw error
    }
  }

  static func target(_ endpoint: String, tls: TargetTLS? = nil, proxy: String? = nil) -> Target {
    var target = Target(
      name: "secure", provider: .cdcs, endpoint: endpoint, region: "ap-beijing", buckets: [bucket],
      credentialsFile: nil)
    target.tls = tls
    target.proxy = proxy
    return target
  }

  /// Every upload of the bucket, through the target's own route.
  static func list(_ target: Target, _ transport: HTTPTransport) async throws -> [Upload] {
    let provider = CDCSProvider(
      target: target, credentials: SandboxHarness.credentials, transport: try transport.route(for: target))
    var uploads: [Upload] = []
    for try await page in provider.uploads(bucket: bucket, prefix: "") { uploads += page.uploads }
    return uploads
  }

  /// The error listing ends with; fails the test when listing succeeds.
  static func failure(_ target: Target, _ transport: HTTPTransport) async -> ProviderError? {
    do {
      let uploads = try await list(target, transport)
      Issue.record("listing over TLS succeeded with \(uploads.count) uploads; expected a TLS failure")
      return nil
    } catch let error as ProviderError {
      return error
    } catch {
      Issue.record("expected a ProviderError, got \(error)")
      return nil
    }
  }

  static func transport(environment: [String: String] = [:]) -> HTTPTransport {
    HTTPTransport(settings: SandboxHarness.fastSettings(), environment: environment)
  }

  @Test func aTargetTrustingItsCAFileLists() async throws {
    let certificates = try TestCertificates.make()
    let transport = Self.transport()
    try await Self.serving(certificates.server) { endpoint in
      let uploads = try await Self.list(Self.target(endpoint, tls: TargetTLS(caFile: certificates.caFile)), transport)
      #expect(Set(uploads.map(\.uploadID)) == ["u-1", "u-2"])
    }
    await transport.shutdown()
  }

  @Test func withoutTheCAFileTheCAIsUnknownAndTheErrorNamesTargetAndEndpoint() async throws {
    let certificates = try TestCertificates.make()
    let transport = Self.transport()
    try await Self.serving(certificates.server) { endpoint in
      let error = try #require(await Self.failure(Self.target(endpoint), transport))
      #expect(error.kind == .other)
      #expect(error.attempts == 1)
      #expect(error.target == "secure")
      #expect(error.message.contains("TLS with \(endpoint) failed"))
      #expect(error.message.contains("certificate not trusted"))
      #expect(error.message.contains("unknown CA"))
      #expect(error.message.contains("system's trust store"))
      #expect(error.description.contains("target secure"))
    }
    await transport.shutdown()
  }

  @Test func aCertificateFromAnotherCAIsNotTrustedByTheCAFile() async throws {
    let certificates = try TestCertificates.make()
    let transport = Self.transport()
    try await Self.serving(certificates.strangerIssued) { endpoint in
      let target = Self.target(endpoint, tls: TargetTLS(caFile: certificates.caFile))
      let error = try #require(await Self.failure(target, transport))
      #expect(error.message.contains("unknown CA"))
      #expect(error.message.contains("ca_file \(certificates.caFile)"))
    }
    await transport.shutdown()
  }

  @Test func anExpiredCertificateIsCalledExpired() async throws {
    let certificates = try TestCertificates.make()
    let transport = Self.transport()
    try await Self.serving(certificates.expired) { endpoint in
      let target = Self.target(endpoint, tls: TargetTLS(caFile: certificates.caFile))
      let error = try #require(await Self.failure(target, transport))
      #expect(error.message.contains("certificate expired"))
      #expect(!error.message.contains("unknown CA"))
      #expect(error.kind == .other && error.attempts == 1)
    }
    await transport.shutdown()
  }

  @Test func aCertificateForAnotherNameIsAMismatch() async throws {
    let certificates = try TestCertificates.make()
    let transport = Self.transport()
    try await Self.serving(certificates.wrongName) { endpoint in
      let target = Self.target(endpoint, tls: TargetTLS(caFile: certificates.caFile))
      let error = try #require(await Self.failure(target, transport))
      #expect(error.message.contains("name mismatch"))
      #expect(error.message.contains("127.0.0.1"))
      #expect(error.kind == .other && error.attempts == 1)
    }
    await transport.shutdown()
  }

  @Test func mutualTLSWorksWithTheClientCertificateAndFailsClearlyWithout() async throws {
    let certificates = try TestCertificates.make()
    let transport = Self.transport()
    try await Self.serving(certificates.server, clientCA: certificates.caFile) { endpoint in
      let withCertificate = TargetTLS(
        caFile: certificates.caFile, clientCertificate: certificates.client.certificate,
        clientKey: certificates.client.key)
      let uploads = try await Self.list(Self.target(endpoint, tls: withCertificate), transport)
      #expect(uploads.count == 2)
      let error = try #require(
        await Self.failure(Self.target(endpoint, tls: TargetTLS(caFile: certificates.caFile)), transport))
      #expect(error.message.contains("TLS with \(endpoint) failed"))
      #expect(error.message.contains("client certificate"))
      #expect(error.kind == .other)
    }
    await transport.shutdown()
  }

  @Test func aChangedCAFileGetsANewClientAndTheOldOneIsRetired() async throws {
    let certificates = try TestCertificates.make()
    let transport = Self.transport()
    try await Self.serving(certificates.server) { endpoint in
      // Before the reload the target trusts the wrong CA; after it, its ca_file names the right one.
      let wrong = Self.target(endpoint, tls: TargetTLS(caFile: certificates.path("stranger.pem")))
      #expect(await Self.failure(wrong, transport)?.message.contains("unknown CA") == true)
      await transport.retireUnusedClients()
      #expect(transport.openClients == 1)
      let right = Self.target(endpoint, tls: TargetTLS(caFile: certificates.caFile))
      let listed1 = try await Self.list(right, transport)
      #expect(listed1.count == 2)
      #expect(transport.openClients == 2)
      await transport.retireUnusedClients()
      #expect(transport.openClients == 1)
      // The same path with new contents (a renewed bundle) is another client too.
      try FileManager.default.copyItem(atPath: certificates.caFile, toPath: certificates.path("bundle.pem"))
      let bundle = Self.target(endpoint, tls: TargetTLS(caFile: certificates.path("bundle.pem")))
      let listed2 = try await Self.list(bundle, transport)
      #expect(listed2.count == 2)
      await transport.retireUnusedClients()
      #expect(transport.openClients == 1)
      let stranger = try String(contentsOfFile: certificates.path("stranger.pem"), encoding: .utf8)
      try stranger.write(toFile: certificates.path("bundle.pem"), atomically: true, encoding: .utf8)
      #expect(await Self.failure(bundle, transport)?.message.contains("unknown CA") == true)
    }
    await transport.shutdown()
  }

  @Test func aCAFileThatVanishedFailsTheTargetNamingTheFile() async throws {
    let certificates = try TestCertificates.make()
    let transport = Self.transport()
    let target = Self.target("https://127.0.0.1:9", tls: TargetTLS(caFile: certificates.path("gone.pem")))
    #expect(throws: ProviderError.self) { _ = try transport.route(for: target) }
    do {
      _ = try transport.route(for: target)
    } catch {
      #expect(error.message.contains("ca_file \(certificates.path("gone.pem")) cannot be read"))
      #expect(error.target == "secure")
      #expect(error.description.hasPrefix("target secure: TLS setup for https://127.0.0.1:9: ca_file "), "\(error)")
    }
    await transport.shutdown()
  }

  /// openssl 3.0 cannot date a certificate in the future, so the probe's clock goes back instead: to a host
  /// two days behind, the server's fresh certificate is not yet valid.
  @Test func toAClockBehindTheCertificateIsNotYetValid() async throws {
    let certificates = try TestCertificates.make()
    try await Self.serving(certificates.server) { endpoint in
      let port = try #require(HTTPTransport.destination(of: endpoint)?.port)
      let material = try TLSMaterial.load(TargetTLS(caFile: certificates.caFile))
      let behind = await TLSProbe.diagnose(
        host: "127.0.0.1", port: port, configuration: material.configuration, trustSource: material.trustSource,
        now: Date().addingTimeInterval(-2 * 86_400))
      #expect(behind.hasPrefix("certificate not yet valid: the server's certificate is valid from "), "\(behind)")
      #expect(behind.contains("clock"))
      let onTime = await TLSProbe.diagnose(
        host: "127.0.0.1", port: port, configuration: material.configuration, trustSource: material.trustSource)
      // A certificate in date that verification still refused: only its issuer is left to blame.
      #expect(onTime.contains("unknown CA"), "\(onTime)")
    }
  }
}
