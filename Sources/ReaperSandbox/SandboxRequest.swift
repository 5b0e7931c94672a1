import Foundation

/// A request as the store sees it, apart from the network.
public struct SandboxRequest: Sendable {
  public var method: String
  /// Path and query as sent, still percent-encoded.
  public var uri: String
  public var headers: [(String, String)]
  public var body: [UInt8]

  public init(method: String, uri: String, headers: [(String, String)], body: [UInt8] = []) {
    self.method = method
    self.uri = uri
    self.headers = headers
    self.body = body
  }

  func header(_ name: String) -> String? {
    headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
  }
}

public struct SandboxResponse: Sendable {
  public enum Delivery: Sendable, Equatable {
    case normal
    /// Write part of the body, then drop the connection.
    case resetMidBody
    /// Never answer.
    case hang
  }

  public var status: Int
  public var headers: [(String, String)]
  public var body: [UInt8]
  public var delivery: Delivery = .normal
  public var delayMilliseconds = 0
}
