import AsyncHTTPClient
import Foundation
import NIOSSL

/// Which client carries a request, and what a TLS failure is called.
extension HTTPTransport {
  /// The scheme, host and port a URL goes to; the port is the scheme's default when the URL names none.
  static func destination(of url: String) -> (scheme: String, host: String, port: Int)? {
    guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
      let host = components.host
    else { return nil }
    return (scheme, host, components.port ?? (scheme == "https" ? 443 : 80))
  }

  /// The proxy a request to `url` goes through, decided anew for each request: NO_PROXY is about hosts, and a
  /// virtual-hosted bucket's host differs from the endpoint's.
  func proxyDecision(for url: String) -> ProxyDecision {
    guard let destination = Self.destination(of: url) else { return .direct }
    return proxies.decide(
      scheme: destination.scheme, host: destination.host, port: destination.port, override: proxyOverride)
  }

  func client(for url: String, context: RequestContext) throws(ProviderError) -> HTTPClient {
    var key = ClientPool.Key(tls: tls, proxy: nil)
    switch proxyDecision(for: url) {
    case .direct: break
    case .through(let proxy): key.proxy = proxy
    case .unusable(let reason):
      throw context.error(.other, "cannot use the proxy: \(reason); not connecting around it")
    }
    guard let client = pool.client(key) else { throw context.error(.other, "the HTTP transport is shut down") }
    return client
  }

  /// A proxy that wants a login we do not have (or refuses ours) will not change its mind on a retry.
  static func proxyRefusal(_ error: any Error) -> String? {
    guard let error = error as? HTTPClientError, error == .proxyAuthenticationRequired else { return nil }
    return "the proxy refused the connection: 407 Proxy Authentication Required (check the login in the proxy URL)"
  }

  /// `TLS with https://host:port failed: certificate not trusted: ...`. A failed verification is probed once
  /// (through the same proxy, if any) to say which kind it was.
  func describeTLS(_ failure: TLSFailure, url: String?) async -> String {
    let destination = url.flatMap(Self.destination(of:))
    let endpoint = destination.map { "\($0.scheme)://\($0.host):\($0.port)" } ?? "the endpoint"
    var proxy: ProxyServer?
    if let url, case .through(let server) = proxyDecision(for: url) { proxy = server }
    let via = proxy.map { " (through proxy \($0))" } ?? ""
    let trustSource = tls?.trustSource ?? "the system's trust store"
    let reason: String
    switch failure {
    case .verificationFailed:
      if let destination {
        let configuration = tls?.configuration ?? TLSConfiguration.makeClientConfiguration()
        reason = await TLSProbe.diagnose(
          host: destination.host, port: destination.port, configuration: configuration, trustSource: trustSource,
          proxy: proxy)
      } else {
        reason = "certificate verification failed: not trusted by \(trustSource), expired, or not yet valid"
      }
    case .nameMismatch:
      reason = "certificate name mismatch: the server's certificate is not for \(destination?.host ?? "this host")"
    case .refusedByServer(let alert):
      let hint =
        tls?.configuration.certificateChain.isEmpty ?? true
        ? "; does it require a client certificate (client_certificate and client_key)?"
        : "; was our client certificate refused?"
      reason = "the server refused the TLS handshake (alert: \(alert))\(hint)"
    case .handshake(let detail):
      reason = "TLS handshake failed: \(detail)"
    }
    return "TLS with \(endpoint)\(via) failed: \(reason)"
  }
}
