import Foundation

/// An HTTP proxy, which AsyncHTTPClient asks for a CONNECT tunnel to every endpoint, http:// ones included.
public struct ProxyServer: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
  CustomReflectable
{
  public var host: String
  public var port: Int
  /// Basic authentication from the proxy URL, as curl takes it there. Never printed or logged.
  var login: Login?

  struct Login: Sendable, Hashable, CustomStringConvertible, CustomReflectable {
    var user: String
    var password: String

    var description: String { "Login(redacted)" }
    var customMirror: Mirror { Mirror(self, children: [:]) }
  }

  public init(host: String, port: Int) {
    self.host = host
    self.port = port
  }

  public var description: String { "http://\(host.contains(":") ? "[\(host)]" : host):\(port)" }
  public var debugDescription: String { description }
  public var customMirror: Mirror { Mirror(self, children: ["host": host, "port": port]) }
}

/// What one request's proxy is.
public enum ProxyDecision: Sendable, Hashable {
  case direct
  case through(ProxyServer)
  /// A proxy is asked for but cannot be used (an https:// or socks proxy, a malformed URL). The request fails
  /// rather than go around a proxy the operator put in the way.
  case unusable(String)
}

/// The proxy environment variables, read the way curl reads them: `http_proxy` in lower case only (the upper
/// case one can be set by a web client through CGI), `https_proxy`/`HTTPS_PROXY`, `all_proxy`/`ALL_PROXY` as the
/// fallback, and `no_proxy`/`NO_PROXY`; the lower case name wins when both are set, and an empty value is unset.
public struct ProxyEnvironment: Sendable, Hashable {
  public var httpProxy: String?
  public var httpsProxy: String?
  public var allProxy: String?
  public var noProxy: String?

  public init(_ environment: [String: String]) {
    func read(_ names: String...) -> String? {
      names.lazy.compactMap { environment[$0]?.trimmingCharacters(in: .whitespaces) }.first { !$0.isEmpty }
    }
    httpProxy = read("http_proxy")
    httpsProxy = read("https_proxy", "HTTPS_PROXY")
    allProxy = read("all_proxy", "ALL_PROXY")
    noProxy = read("no_proxy", "NO_PROXY")
  }

  public var isEmpty: Bool { httpProxy == nil && httpsProxy == nil && allProxy == nil }

  /// The proxy for a request to `scheme://host:port`. A target's own `proxy` replaces the environment, NO_PROXY
  /// included.
  public func decide(scheme: String, host: String, port: Int, override: String? = nil) -> ProxyDecision {
    if let override { return Self.parse(override, from: "the target's proxy") }
    let isHTTPS = scheme.lowercased() == "https"
    let variable = isHTTPS ? "https_proxy" : "http_proxy"
    guard let raw = (isHTTPS ? httpsProxy : httpProxy) ?? allProxy else { return .direct }
    if let noProxy, Self.bypasses(host: host, port: port, noProxy: noProxy) { return .direct }
    let source = (isHTTPS ? httpsProxy : httpProxy) == nil ? "all_proxy" : variable
    return Self.parse(raw, from: source)
  }

  /// curl's reading of a proxy URL: no scheme means http://, no port means 1080.
  public static func parse(_ text: String, from source: String) -> ProxyDecision {
    let withScheme = text.contains("://") ? text : "http://\(text)"
    guard let url = URLComponents(string: withScheme), let host = url.host, !host.isEmpty,
      let scheme = url.scheme?.lowercased()
    else { return .unusable("\(source) is not a proxy URL") }
    guard scheme == "http" else {
      return .unusable("\(source) names a \(scheme):// proxy; only http:// proxies are supported")
    }
    var server = ProxyServer(
      host: host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port: url.port ?? 1080)
    if let user = url.percentEncodedUser {
      server.login = ProxyServer.Login(
        user: user.removingPercentEncoding ?? user,
        password: url.percentEncodedPassword.map { $0.removingPercentEncoding ?? $0 } ?? "")
    }
    return .through(server)
  }

  /// Whether NO_PROXY sends `host` around the proxy. Entries are separated by commas or spaces. `*` matches
  /// every host. A name matches itself and every name under it, with or without a leading dot
  /// (`example.com` and `.example.com` both match `s3.example.com`). An IP address matches itself, or a
  /// CIDR range (`10.0.0.0/8`, `fd00::/8`); names never match addresses. An entry may end in `:port` to
  /// match that port only (`[::1]:9000` for an IPv6 address).
  public static func bypasses(host rawHost: String, port: Int, noProxy: String) -> Bool {
    let host = normalise(rawHost.trimmingCharacters(in: CharacterSet(charactersIn: "[]")))
    let hostAddress = IPAddress(host)
    let entries = noProxy.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }).map(String.init)
    for entry in entries {
      if entry == "*" { return true }
      let (name, entryPort) = splitPort(entry)
      if let entryPort, entryPort != port { continue }
      if let hostAddress {
        if hostAddress.matches(name) { return true }
        continue
      }
      if IPAddress(name.split(separator: "/").first.map(String.init) ?? name) != nil { continue }
      let domain = normalise(name.hasPrefix(".") ? String(name.dropFirst()) : name)
      if domain.isEmpty { continue }
      if host == domain || host.hasSuffix("." + domain) { return true }
    }
    return false
  }

  static func normalise(_ name: String) -> String {
    var name = name.lowercased()
    while name.hasSuffix(".") { name.removeLast() }
    return name
  }

  /// `host:port`, `[v6]:port`, or no port. A bare IPv6 address has colons but no port.
  static func splitPort(_ entry: String) -> (String, Int?) {
    if entry.hasPrefix("[") {
      guard let close = entry.firstIndex(of: "]") else { return (entry, nil) }
      let inside = String(entry[entry.index(after: entry.startIndex)..<close])
      let rest = entry[entry.index(after: close)...]
      return (inside, rest.hasPrefix(":") ? Int(rest.dropFirst()) : nil)
    }
    let colons = entry.filter { $0 == ":" }.count
    guard colons == 1, let colon = entry.firstIndex(of: ":"), let port = Int(entry[entry.index(after: colon)...])
    else { return (entry, nil) }
    return (String(entry[..<colon]), port)
  }
}

/// An IPv4 or IPv6 address as bytes, for NO_PROXY's address and CIDR entries.
struct IPAddress: Equatable {
  let bytes: [UInt8]

  init?(_ text: String) {
    var v4 = in_addr()
    var v6 = in6_addr()
    if inet_pton(AF_INET, text, &v4) == 1 {
      bytes = withUnsafeBytes(of: &v4) { Array($0) }
    } else if inet_pton(AF_INET6, text, &v6) == 1 {
      bytes = withUnsafeBytes(of: &v6) { Array($0) }
    } else {
      return nil
    }
  }

  /// `entry` is an address, or an address and a prefix length.
  func matches(_ entry: String) -> Bool {
    let parts = entry.split(separator: "/", maxSplits: 1).map(String.init)
    guard let first = parts.first, let network = IPAddress(first), network.bytes.count == bytes.count else {
      return false
    }
    let bits: Int
    if parts.count == 2 {
      guard let value = Int(parts[1]), value >= 0, value <= bytes.count * 8 else { return false }
      bits = value
    } else {
      bits = bytes.count * 8
    }
    for index in 0..<bytes.count {
      let remaining = bits - index * 8
      if remaining <= 0 { break }
      let mask: UInt8 = remaining >= 8 ? 0xFF : ~(0xFF >> UInt8(remaining))
      if bytes[index] & mask != network.bytes[index] & mask { return false }
    }
    return true
  }
}
