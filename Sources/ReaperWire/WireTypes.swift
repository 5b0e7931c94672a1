import Foundation

/// Why a body could not be read as the page it should be. Every decoder throws this one type, so every provider
/// turns it into a malformed-response error the same way (`RequestContext.decode`).
public struct WireFailure: Error, CustomStringConvertible {
  public var description: String
  init(_ description: String) { self.description = description }
}

/// One in-progress upload, as a flat listing (S3, CDCS) names it.
public struct UploadEntry: Sendable, Equatable {
  public var key: String
  public var uploadID: String
  public var initiated: Date
  /// The key as sent, when the server did not say whether it URL-encoded keys and decoding changed it: a second
  /// reading of the same key, which the rules must not tell apart for the upload to be acted on.
  public var otherReading: String? = nil
}
