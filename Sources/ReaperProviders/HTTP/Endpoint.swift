import Foundation

/// A target's endpoint, read once: what the Host header and the signatures must carry.
public struct Endpoint: Sendable, Equatable {
  public let scheme: String
  public let host: String
  /// nil when it is the scheme's default, which Host headers leave out.
  public let port: Int?

  public init(_ text: String) {
    let url = URLComponents(string: text)
    scheme = url?.scheme?.lowercased() ?? "https"
    host = url?.host ?? text
    let defaultPort = scheme == "https" ? 443 : 80
    port = url?.port.flatMap { $0 == defaultPort ? nil : $0 }
  }

  /// `name[:port]`, for this host or another on the same port (a virtual-hosted bucket).
  public func authority(_ name: String? = nil) -> String {
    let name = name ?? host
    return port.map { "\(name):\($0)" } ?? name
  }
}
