import Foundation
import ReaperCore

/// Streaming decoders for S3's XML: events in, a page of values out; no document tree.
public enum S3Decoder {
  public typealias Entry = UploadEntry

  public struct ListPage: Sendable {
    /// The bucket the server says it listed, when it says.
    public var bucket: String?
    public var entries: [Entry] = []
    public var unreadable: [String] = []
    public var isTruncated = false
    public var nextKeyMarker: String?
    public var nextUploadIDMarker: String?
  }

  public struct PartsPage: Sendable {
    /// Which upload the server says these parts belong to, when it says.
    public var bucket: String?
    public var key: String?
    public var uploadID: String?
    public var parts: [Part] = []
    public var isTruncated = false
    public var nextMarker: String?
    /// Every `Initiator`/`Owner` ID the answer names (blank ones left out): the re-check compares them with the
    /// listing's.
    public var initiatorIDs: Set<String> = []
    public var ownerIDs: Set<String> = []
  }

  public typealias Failure = WireFailure

  /// - Parameter zone: where the server writes a stamp with no offset (the target's `timezone`, when set). S3 stamps
  ///   carry `Z`; without a configured zone a zone-less one is unreadable rather than guessed to be UTC.
  public static func decodeList(_ bytes: [UInt8], zone: Zone? = nil) throws(Failure) -> ListPage {
    guard BodySniffer.kind(bytes) == .xml else {
      throw Failure("ListMultipartUploads body is not XML (\(bytes.count) bytes)")
    }
    var page = ListPage()
    var truncatedText: String?
    var encoding: String?
    var rawNextKey: String?
    typealias Raw = (
      key: String?, uploadID: String?, initiated: String?, initiator: IdentityField, owner: IdentityField
    )
    var current: Raw = (nil, nil, nil, IdentityField(), IdentityField())
    var rawUploads: [Raw] = []
    var root: String?
    let failure = StreamingXML.parse(
      bytes,
      start: { path in
        if path.count == 1 { root = path[0] }
        if path.count == 2, path[1] == "Upload" { current = (nil, nil, nil, IdentityField(), IdentityField()) }
      },
      end: { path, text in
        switch (path.count, path.last) {
        case (3, "Key") where path[1] == "Upload": current.key = text
        case (3, "UploadId") where path[1] == "Upload": current.uploadID = text
        case (3, "Initiated") where path[1] == "Upload": current.initiated = text
        case (4, "ID") where path[1] == "Upload" && path[2] == "Initiator": current.initiator.add(text)
        case (4, "ID") where path[1] == "Upload" && path[2] == "Owner": current.owner.add(text)
        case (2, "Upload"): rawUploads.append(current)
        case (2, "IsTruncated"): truncatedText = text
        case (2, "Bucket"): page.bucket = text
        case (2, "NextKeyMarker"): rawNextKey = text
        case (2, "NextUploadIdMarker"): page.nextUploadIDMarker = text
        case (2, "EncodingType"): encoding = text
        default: break
        }
      })
    if let failure { throw Failure("ListMultipartUploads XML is malformed (truncated?): \(failure)") }
    // Another document (a bucket listing from a misrouting hop, say) is not an empty listing of uploads.
    guard root == "ListMultipartUploadsResult" else {
      throw Failure("the answer is a <\(root ?? "?")>, not a <ListMultipartUploadsResult>")
    }
    guard let truncated = truncatedText.flatMap({ LooseJSON.string($0).boolean }) else {
      throw Failure("IsTruncated is missing or not a boolean")
    }
    page.isTruncated = truncated
    // We always ask for encoding-type=url. Ceph 16 encodes without echoing EncodingType, so an absent
    // field means encoded; only an explicit other value means the keys are raw.
    let encoded = encoding == nil || encoding?.lowercased() == "url"
    func decoded(_ text: String) -> String? { encoded ? URLEncoding.decode(text) : text }
    if let rawNextKey {
      guard let key = decoded(rawNextKey) else { throw Failure("NextKeyMarker has a malformed %-escape") }
      page.nextKeyMarker = key
    }
    for raw in rawUploads {
      guard let rawKey = raw.key, let key = decoded(rawKey), !key.isEmpty, let uploadID = raw.uploadID,
        !uploadID.isEmpty
      else {
        page.unreadable.append(
          "upload record without a non-empty Key and UploadId (Key \"\(raw.key ?? "missing")\", UploadId \"\(raw.uploadID ?? "missing")\")"
        )
        continue
      }
      guard let initiatedText = raw.initiated, let initiated = Timestamp.parse(initiatedText, zoneless: zone) else {
        page.unreadable.append("key \"\(key)\" upload \(uploadID): unreadable Initiated \"\(raw.initiated ?? "")\"")
        continue
      }
      if let problem = Plausible.problem(initiated) {
        page.unreadable.append("key \"\(key)\" upload \(uploadID): implausible Initiated: \(problem)")
        continue
      }
      page.entries.append(
        Entry(
          key: key, uploadID: uploadID, initiated: initiated,
          otherReading: encoding == nil && key != rawKey ? rawKey : nil, initiatorID: raw.initiator.value,
          ownerID: raw.owner.value))
    }
    return page
  }

  public static func decodeParts(_ bytes: [UInt8], zone: Zone? = nil) throws(Failure) -> PartsPage {
    guard BodySniffer.kind(bytes) == .xml else { throw Failure("ListParts body is not XML (\(bytes.count) bytes)") }
    var page = PartsPage()
    var truncatedText: String?
    var current: (number: Int?, size: Int64?, modified: String?) = (nil, nil, nil)
    var malformedPart = false
    /// An ID named beside another of the same text in another Unicode spelling.
    var foldedID: String?
    var root: String?
    let failure = StreamingXML.parse(
      bytes,
      start: { path in
        if path.count == 1 { root = path[0] }
        if path.last == "Part" { current = (nil, nil, nil) }
      },
      end: { path, text in
        switch (path.count, path.last) {
        case (3, "PartNumber"): current.number = Int(text)
        case (3, "Size"): current.size = Int64(text)
        case (3, "LastModified"): current.modified = text
        case (2, "Part"):
          if let number = current.number, let size = current.size, size >= 0 {
            page.parts.append(PartTime.part(number: number, size: size, lastModified: current.modified, zone: zone))
          } else {
            malformedPart = true
          }
        case (2, "Bucket"): page.bucket = text
        case (2, "Key"): page.key = text
        case (2, "UploadId"): page.uploadID = text
        case (3, "ID") where path[1] == "Initiator":
          guard !text.allSatisfy(\.isWhitespace) else { break }
          if page.initiatorIDs.spelledOtherwise(text) != nil { foldedID = text }
          page.initiatorIDs.insert(text)
        case (3, "ID") where path[1] == "Owner":
          guard !text.allSatisfy(\.isWhitespace) else { break }
          if page.ownerIDs.spelledOtherwise(text) != nil { foldedID = text }
          page.ownerIDs.insert(text)
        case (2, "IsTruncated"): truncatedText = text
        case (2, "NextPartNumberMarker"): page.nextMarker = text
        default: break
        }
      })
    if let failure { throw Failure("ListParts XML is malformed (truncated?): \(failure)") }
    // Another document would read as "no parts", and idle would be measured from Initiated.
    guard root == "ListPartsResult" else { throw Failure("the answer is a <\(root ?? "?")>, not a <ListPartsResult>") }
    if malformedPart { throw Failure("a Part without a numeric PartNumber and Size") }
    if let foldedID {
      throw Failure("names ID \"\(foldedID.prefix(128))\" beside the same text in another Unicode spelling")
    }
    guard let truncated = truncatedText.flatMap({ LooseJSON.string($0).boolean }) else {
      throw Failure("IsTruncated is missing or not a boolean")
    }
    page.isTruncated = truncated
    return page
  }
}

/// A part as a provider that keeps a time per part sent it. A time that is missing, unreadable or implausible is
/// kept as text: idle time is then unknown, never measured from an older stamp.
public enum PartTime {
  public static func part(number: Int, size: Int64, lastModified text: String?, zone: Zone?) -> Part {
    guard let text else { return Part(number: number, size: size, lastModified: nil, unreadableTime: "missing") }
    guard let date = Timestamp.parse(text, zoneless: zone), Plausible.time(date) else {
      return Part(number: number, size: size, lastModified: nil, unreadableTime: text)
    }
    return Part(number: number, size: size, lastModified: date)
  }
}
