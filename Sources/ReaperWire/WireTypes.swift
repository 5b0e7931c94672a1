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
  /// `Initiator.ID` and `Owner.ID` as sent; nil when absent, blank or contradicted within the record.
  public var initiatorID: String? = nil
  public var ownerID: String? = nil
}

/// One identity id of an upload record (`Initiator.ID`, `Owner.ID`) as it is read: a blank one says nothing, and
/// a record that names two different ones has no id a rule could trust, so it reads as none.
public struct IdentityField: Sendable, Equatable {
  private var first: String?
  private var contradicted = false

  public init() {}

  public init(_ text: String?) { if let text { add(text) } }

  public mutating func add(_ text: String) {
    guard !text.allSatisfy({ $0.isWhitespace }) else { return }
    if let first, first != text { contradicted = true }
    if first == nil { first = text }
  }

  public var value: String? { contradicted ? nil : first }
}
