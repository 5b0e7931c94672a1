import Foundation

/// The one upload a request acts on (its parts listing, its re-check, its abort). It cannot be made with an
/// empty bucket, key or upload id, so no request built from it can address a whole bucket: real gateways route
/// `DELETE /<bucket>/?uploadId=…` as a bucket request.
public struct UploadAddress: Sendable, Hashable {
  public let bucket: String
  public let key: String
  public let uploadID: String

  public struct Refusal: Error, Sendable, CustomStringConvertible {
    public var description: String
  }

  /// - Parameter keyInPath: the key becomes URL path segments (S3, CDCS). A `.` or `..` segment is then refused,
  ///   because HTTP stacks and proxies normalise such paths and the request would reach another object.
  public init(bucket: String, key: String, uploadID: String, keyInPath: Bool) throws(Refusal) {
    guard !bucket.isEmpty else { throw Refusal(description: "empty bucket name") }
    guard !key.isEmpty else { throw Refusal(description: "empty key (the request would address the bucket)") }
    guard !uploadID.isEmpty else { throw Refusal(description: "empty upload id") }
    if keyInPath, Self.hasDotSegment(key) {
      throw Refusal(
        description: "key \"\(key)\" has a \".\" or \"..\" path segment, which proxies rewrite to another object")
    }
    if keyInPath, Self.hasEmptySegment(key) {
      throw Refusal(
        description: "key \"\(key)\" has an empty path segment, which proxies merging slashes rewrite to another object"
      )
    }
    self.bucket = bucket
    self.key = key
    self.uploadID = uploadID
  }

  public init(_ upload: Upload, keyInPath: Bool) throws(Refusal) {
    try self.init(bucket: upload.bucket, key: upload.key, uploadID: upload.uploadID, keyInPath: keyInPath)
  }

  /// `/a`, `a//b`: the path gets `//`, which nginx and Envoy may merge into `/`.
  static func hasEmptySegment(_ key: String) -> Bool {
    key.hasPrefix("/") || key.contains("//")
  }

  static func hasDotSegment(_ key: String) -> Bool {
    key.split(separator: "/", omittingEmptySubsequences: false).contains { $0 == "." || $0 == ".." }
  }
}

/// Which times a server may plausibly send. A time outside these bounds is unreadable, never "very old":
/// a zero value (`0001-01-01`, the Unix epoch) would otherwise pass every age rule.
public enum Plausible {
  /// 2000-01-01T00:00:00Z. No multipart upload on any of the supported services predates it.
  public static let floor = Date(timeIntervalSince1970: 946_684_800)

  public static func time(_ date: Date) -> Bool { date >= floor }

  /// Why a listed time is not a time to act on, or nil when it is plausible.
  public static func problem(_ date: Date) -> String? {
    time(date) ? nil : "\(Timestamp.formatRFC3339(date)) is before \(Timestamp.formatRFC3339(floor))"
  }
}
