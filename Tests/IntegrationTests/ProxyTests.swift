import Foundation
import ReaperCore
import ReaperProviders
import ReaperSandbox
import TestSupport
import Testing

/// Requests through an HTTP proxy (scripts/lib/count-proxy.py, which logs what it carries): chosen by the
/// environment the way curl chooses, bypassed by NO_PROXY, or named by the target.
@Suite("Proxies against the sandbox")
struct ProxyTests {
  static func withProxy(login: String? = nil, _ body: (CountingProxy) async throws -> Void) async throws {
    let proxy = try await CountingProxy.start(login: login)
    do {
      try await body(proxy)
      proxy.stop()
    } catch {
      proxy.stop()
      throw error
    }
  }

  static func plainSandbox<T>(_ body: (_ endpoint: String) async throws -> T) async throws -> T {
    let store = SandboxStore(
      buckets: TLSTests.buckets(), credentials: [SandboxHarness.accessKey: SandboxHarness.secretKey],
      clock: { Date() })
    let server = try await SandboxServer.start(store: store)
    do {
      let result = try await body("http://127.0.0.1:\(server.port)")
      await server.stop()
      return result
    } catch {
      await server.stop()
      throw error
    }
  }

  @Test func httpProxyFromTheEnvironmentCarriesHTTPRequests() async throws {
    try await Self.withProxy { proxy in
      let transport = TLSTests.transport(environment: ["http_proxy": proxy.url])
      try await Self.plainSandbox { endpoint in
        let uploads = try await TLSTests.list(TLSTests.target(endpoint), transport)
        #expect(uploads.count == 2)
        // AsyncHTTPClient tunnels plain HTTP through the proxy with CONNECT too.
        #expect(proxy.requests.contains("CONNECT \(endpoint.dropFirst("http://".count))"), "\(proxy.requests)")
      }
      await transport.shutdown()
    }
  }

  @Test func noProxyBypassesTheProxy() async throws {
    try await Self.withProxy { proxy in
      let transport = TLSTests.transport(environment: ["http_proxy": proxy.url, "NO_PROXY": "example.com, 127.0.0.1"])
      try await Self.plainSandbox { endpoint in
        let listed1 = try await TLSTests.list(TLSTests.target(endpoint), transport)
        #expect(listed1.count == 2)
      }
      #expect(proxy.requests.isEmpty)
      await transport.shutdown()
    }
  }

  @Test func httpsGoesThroughTheProxyWithConnectAndKeepsItsCAFile() async throws {
    let certificates = try TestCertificates.make()
    try await Self.withProxy { proxy in
      let transport = TLSTests.transport(environment: ["HTTPS_PROXY": proxy.url])
      try await TLSTests.serving(certificates.server) { endpoint in
        let target = TLSTests.target(endpoint, tls: TargetTLS(caFile: certificates.caFile))
        let listed2 = try await TLSTests.list(target, transport)
        #expect(listed2.count == 2)
        let authority = endpoint.replacingOccurrences(of: "https://", with: "")
        #expect(proxy.requests.contains("CONNECT \(authority)"))
        // Through the tunnel the server is still verified: without the CA it is refused, and the probe that
        // says why goes through the proxy too.
        let error = try #require(await TLSTests.failure(TLSTests.target(endpoint), transport))
        #expect(error.message.contains("through proxy \(proxy.url)"))
        #expect(error.message.contains("certificate not trusted"), "\(error.message)")
        #expect(error.message.contains("unknown CA"))
      }
      await transport.shutdown()
    }
  }

  @Test func theTargetsProxyKeyOverridesTheEnvironment() async throws {
    try await Self.withProxy { proxy in
      // The environment says to go direct to this host; the target's own proxy wins.
      let transport = TLSTests.transport(environment: ["no_proxy": "*"])
      try await Self.plainSandbox { endpoint in
        let target = TLSTests.target(endpoint, proxy: proxy.url)
        let listed3 = try await TLSTests.list(target, transport)
        #expect(listed3.count == 2)
        // AsyncHTTPClient tunnels plain HTTP through the proxy with CONNECT too.
        #expect(proxy.requests.contains("CONNECT \(endpoint.dropFirst("http://".count))"), "\(proxy.requests)")
        let before = proxy.requests.count
        let listed4 = try await TLSTests.list(TLSTests.target(endpoint), transport)
        #expect(listed4.count == 2)
        #expect(proxy.requests.count == before)
      }
      await transport.shutdown()
    }
  }

  @Test func anUnusableProxyFailsTheRequestRatherThanGoingAround() async throws {
    let transport = TLSTests.transport(environment: ["http_proxy": "socks5://127.0.0.1:1"])
    try await Self.plainSandbox { endpoint in
      let error = try #require(await TLSTests.failure(TLSTests.target(endpoint), transport))
      #expect(error.message.contains("cannot use the proxy"))
      #expect(error.message.contains("socks5"))
    }
    await transport.shutdown()
  }

  @Test func aLoginInTheProxyVariableIsSentAsBasicAuthAndNeverShown() async throws {
    let password = "pr0xy-secret-never-shown"
    try await Self.withProxy(login: "reaper:\(password)") { proxy in
      let authority = "127.0.0.1:\(proxy.port)"
      let transport = TLSTests.transport(environment: ["http_proxy": "http://reaper:\(password)@\(authority)"])
      try await Self.plainSandbox { endpoint in
        let listed = try await TLSTests.list(TLSTests.target(endpoint), transport)
        #expect(listed.count == 2)
        #expect(proxy.requests.contains("CONNECT \(endpoint.dropFirst("http://".count))"), "\(proxy.requests)")
        #expect(!proxy.requests.contains { $0.hasPrefix("407") })
      }
      await transport.shutdown()
      // Without the login the proxy refuses, and the error says so without any password.
      let refused = TLSTests.transport(environment: ["http_proxy": "http://reaper:wrong-\(password)@\(authority)"])
      try await Self.plainSandbox { endpoint in
        let error = try #require(await TLSTests.failure(TLSTests.target(endpoint), refused))
        #expect(!error.description.contains(password), "\(error)")
        #expect(error.message.contains("407 Proxy Authentication Required"), "\(error)")
        #expect(error.kind == .other && error.attempts == 1)
        #expect(proxy.requests.contains { $0.hasPrefix("407 CONNECT") })
      }
      await refused.shutdown()
    }
  }
}
