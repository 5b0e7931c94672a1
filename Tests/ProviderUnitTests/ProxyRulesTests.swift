import ReaperProviders
import Testing

/// The proxy environment read as curl reads it, as a pure function of the variables and the destination.
@Suite("Proxy environment rules")
struct ProxyRulesTests {
  static func decide(
    _ environment: [String: String], _ url: (String, String, Int), override: String? = nil
  )
    -> ProxyDecision
  {
    ProxyEnvironment(environment).decide(scheme: url.0, host: url.1, port: url.2, override: override)
  }

  static func through(_ host: String, _ port: Int) -> ProxyDecision { .through(ProxyServer(host: host, port: port)) }

  @Test func eachSchemeHasItsVariableAndAllProxyIsTheFallback() {
    let environment = ["http_proxy": "http://plain:3128", "https_proxy": "http://secure:3129"]
    #expect(Self.decide(environment, ("http", "s3.example.com", 80)) == Self.through("plain", 3128))
    #expect(Self.decide(environment, ("https", "s3.example.com", 443)) == Self.through("secure", 3129))
    #expect(Self.decide(["ALL_PROXY": "http://all:8080"], ("https", "h", 443)) == Self.through("all", 8080))
    #expect(
      Self.decide(["all_proxy": "http://all:8080", "https_proxy": "http://one:1"], ("https", "h", 443))
        == Self.through("one", 1))
    #expect(Self.decide([:], ("https", "h", 443)) == .direct)
  }

  @Test func lowerCaseWinsAndUpperCaseHTTPProxyIsIgnoredLikeCurl() {
    #expect(
      Self.decide(["https_proxy": "http://low:1", "HTTPS_PROXY": "http://up:2"], ("https", "h", 443))
        == Self.through("low", 1))
    #expect(Self.decide(["HTTPS_PROXY": "http://up:2"], ("https", "h", 443)) == Self.through("up", 2))
    // A CGI client can set HTTP_PROXY through its Proxy: header, so curl reads only the lower case name.
    #expect(Self.decide(["HTTP_PROXY": "http://up:2"], ("http", "h", 80)) == .direct)
    #expect(
      Self.decide(["https_proxy": "", "HTTPS_PROXY": "http://up:2"], ("https", "h", 443)) == Self.through("up", 2))
  }

  @Test func aProxyWithoutSchemeOrPortIsHTTPOnPort1080() {
    #expect(Self.decide(["https_proxy": "proxy.local"], ("https", "h", 443)) == Self.through("proxy.local", 1080))
    #expect(Self.decide(["https_proxy": "proxy.local:8080"], ("https", "h", 443)) == Self.through("proxy.local", 8080))
  }

  @Test func anUnsupportedProxyIsUnusableNotIgnored() {
    for value in ["socks5://p:1080", "https://p:443"] {
      guard case .unusable(let reason) = Self.decide(["https_proxy": value], ("https", "h", 443)) else {
        Issue.record("\(value) was not refused")
        continue
      }
      #expect(reason.contains("only http:// proxies"))
    }
  }

  @Test func credentialsInTheProxyURLAreKeptButNeverShown() {
    let decision = Self.decide(["https_proxy": "http://user:s%40cret@p:3128"], ("https", "h", 443))
    guard case .through(let server) = decision else {
      Issue.record("expected a proxy, got \(decision)")
      return
    }
    #expect(server.description == "http://p:3128")
    #expect(!"\(decision)".contains("cret"))
    var dumped = ""
    dump(decision, to: &dumped)
    #expect(!dumped.contains("cret") && !dumped.contains("user"), "\(dumped)")
    #expect(!String(reflecting: decision).contains("cret"))
    #expect(server != ProxyServer(host: "p", port: 3128))
  }

  @Test(arguments: [
    ("example.com", "example.com", true), ("example.com", "s3.example.com", true),
    (".example.com", "s3.example.com", true), (".example.com", "example.com", true),
    ("example.com", "notexample.com", false), ("example.com", "example.com.evil", false),
    ("EXAMPLE.com.", "S3.Example.COM", true), ("*", "anything.at.all", true), ("a.com, b.com", "x.b.com", true),
    ("a.com b.com", "b.com", true), ("10.0.0.0/8", "10.1.2.3", true), ("10.0.0.0/8", "11.1.2.3", false),
    ("192.168.1.7", "192.168.1.7", true), ("192.168.1.7", "192.168.1.70", false), ("::1", "::1", true),
    ("fd00::/8", "fd12::5", true), ("fd00::/8", "fe80::1", false), ("127.0.0.1", "localhost", false),
    ("localhost", "127.0.0.1", false), ("example.com:9000", "s3.example.com", true),
    ("example.com:8000", "s3.example.com", false), ("[::1]:9000", "::1", true), ("", "example.com", false),
  ])
  func noProxyMatchesLikeCurl(entry: String, host: String, bypassed: Bool) {
    #expect(ProxyEnvironment.bypasses(host: host, port: 9000, noProxy: entry) == bypassed)
  }

  @Test func noProxyAppliesToTheEnvironmentButNotToATargetsOwnProxy() {
    let environment = ["https_proxy": "http://p:1", "no_proxy": "internal.example"]
    #expect(Self.decide(environment, ("https", "s3.internal.example", 443)) == .direct)
    #expect(Self.decide(environment, ("https", "s3.elsewhere", 443)) == Self.through("p", 1))
    #expect(
      Self.decide(environment, ("https", "s3.internal.example", 443), override: "http://mine:8080")
        == Self.through("mine", 8080))
    #expect(Self.decide(["NO_PROXY": "*", "https_proxy": "http://p:1"], ("https", "h", 443)) == .direct)
    #expect(
      Self.decide(["no_proxy": "other", "NO_PROXY": "h", "https_proxy": "http://p:1"], ("https", "h", 443))
        == Self.through("p", 1))
  }
}
