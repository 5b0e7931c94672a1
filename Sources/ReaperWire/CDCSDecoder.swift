import Foundation
import ReaperCore

/// Decodes CDCS response bodies, tolerating every documented quirk:
/// a JSON body under any Content-Type (sniffed from the first byte); `IsTruncated` as a boolean or as a string
/// in any case; numbers as strings; `UploadId` or `UploadID`; a lone `Upload` object instead of an array;
/// `Initiated` as zone-less ctime (read in the target's zone), RFC 3339 or RFC 1123; URL-encoded keys and markers.
public enum CDCSDecoder {
  public typealias Entry = UploadEntry

  public struct ListPage: Sendable {
    public var coffer: String?
    public var entries: [Entry]
    public var unreadable: [String]
    public var isTruncated: Bool
    public var nextMarker: String?
    public var maxUploads: Int64?
    public var prefix: String?
  }

  public struct PartsPage: Sendable {
    public var parts: [Part]
    public var isTruncated: Bool
    public var nextMarker: String?
    /// Which upload the server says these parts belong to, when it says.
    public var coffer: String? = nil
    public var key: String? = nil
    public var uploadID: String? = nil
  }

  public typealias Failure = WireFailure

  public static func decodeList(_ bytes: [UInt8], zone: Zone) throws(Failure) -> ListPage {
    guard BodySniffer.kind(bytes) == .json else {
      throw Failure("ListMultipartUploads body is not JSON (\(bytes.count) bytes)")
    }
    let json: LooseJSON
    do {
      json = try LooseJSON.parse(bytes)
    } catch {
      throw Failure("ListMultipartUploads body is not valid JSON (\(bytes.count) bytes; truncated?)")
    }
    let root = json["ListMultipartUploadsResult"] ?? json
    guard case .object = root else { throw Failure("ListMultipartUploads body is not a JSON object") }
    guard let truncated = root["IsTruncated"]?.boolean else {
      throw Failure("IsTruncated is missing or not a boolean")
    }
    // Keys are URL-encoded when the server says so; an absent field means it followed our request.
    let encoding = root["EncodingType"]?.text
    let encoded = encoding == nil || encoding?.lowercased() == "url"
    func decoded(_ text: String?) -> String? {
      guard let text else { return nil }
      return encoded ? URLEncoding.decode(text) : text
    }
    var entries: [Entry] = []
    var unreadable: [String] = []
    let records = root["Upload"]?.elements ?? []
    entries.reserveCapacity(records.count)
    for record in records {
      let rawKey = record["Key"]?.text
      let uploadID = record["UploadId"]?.text ?? record["UploadID"]?.text
      let initiatedText = record["Initiated"]?.text
      guard let rawKey, let key = decoded(rawKey), !key.isEmpty, let uploadID, !uploadID.isEmpty else {
        unreadable.append(
          "upload record without a non-empty Key and UploadId (Key \"\(rawKey ?? "missing")\", UploadId \"\(uploadID ?? "missing")\")"
        )
        continue
      }
      guard let initiatedText, let initiated = Timestamp.parse(initiatedText, zone: zone) else {
        unreadable.append("key \"\(key)\" upload \(uploadID): unreadable Initiated \"\(initiatedText ?? "")\"")
        continue
      }
      if let problem = Plausible.problem(initiated) {
        unreadable.append("key \"\(key)\" upload \(uploadID): implausible Initiated: \(problem)")
        continue
      }
      entries.append(
        Entry(
          key: key, uploadID: uploadID, initiated: initiated,
          otherReading: encoding == nil && key != rawKey ? rawKey : nil,
          initiatorID: IdentityField(record["Initiator"]?["ID"]?.text).value,
          ownerID: IdentityField(record["Owner"]?["ID"]?.text).value))
    }
    let nextText = root["NextUploadIdMarker"]?.text
    var nextMarker: String?
    if let nextText, !nextText.isEmpty {
      guard let value = decoded(nextText) else { throw Failure("NextUploadIdMarker has a malformed %-escape") }
      nextMarker = value
    }
    return ListPage(
      coffer: root["Coffer"]?.text ?? root["Bucket"]?.text, entries: entries, unreadable: unreadable,
      isTruncated: truncated,
      nextMarker: nextMarker, maxUploads: root["MaxUploads"]?.integer, prefix: decoded(root["Prefix"]?.text))
  }

  /// ListParts, in the JSON form or the older XML page.
  public static func decodeParts(_ bytes: [UInt8], zone: Zone) throws(Failure) -> PartsPage {
    switch BodySniffer.kind(bytes) {
    case .json:
      let json: LooseJSON
      do {
        json = try LooseJSON.parse(bytes)
      } catch {
        throw Failure("ListParts body is not valid JSON (\(bytes.count) bytes; truncated?)")
      }
      let root = json["ListPartsResult"] ?? json
      guard let truncated = root["IsTruncated"]?.boolean else {
        throw Failure("IsTruncated is missing or not a boolean")
      }
      var parts: [Part] = []
      for record in root["Part"]?.elements ?? [] {
        guard let number = record["PartNumber"]?.integer, let size = record["Size"]?.integer, size >= 0 else {
          throw Failure("a Part without a numeric PartNumber and Size")
        }
        parts.append(
          PartTime.part(number: Int(number), size: size, lastModified: record["LastModified"]?.text, zone: zone))
      }
      let next = (root["NextPartNumberMarker"] ?? root["NextMarker"])?.text
      return PartsPage(
        parts: parts, isTruncated: truncated, nextMarker: next, coffer: (root["Coffer"] ?? root["Bucket"])?.text,
        key: root["Key"]?.text, uploadID: (root["UploadId"] ?? root["UploadID"])?.text)
    case .xml:
      var parts: [Part] = []
      var current: (number: Int64?, size: Int64?, modified: String?) = (nil, nil, nil)
      var truncated: Bool?
      var next: String?
      var echo: (coffer: String?, key: String?, uploadID: String?) = (nil, nil, nil)
      var malformedPart = false
      let failure = StreamingXML.parse(
        bytes,
        start: { path in if path.last == "Part" { current = (nil, nil, nil) } },
        end: { path, text in
          let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
          switch (path.count, path.last) {
          case (_, "PartNumber"): current.number = Int64(value)
          case (_, "Size"): current.size = Int64(value)
          case (_, "LastModified"): current.modified = value
          case (_, "Part"):
            if let number = current.number, let size = current.size, size >= 0 {
              parts.append(
                PartTime.part(number: Int(number), size: size, lastModified: current.modified, zone: zone))
            } else {
              malformedPart = true
            }
          case (2, "IsTruncated"): truncated = LooseJSON.string(value).boolean
          case (2, "NextPartNumberMarker"), (2, "NextMarker"): next = value
          case (2, "Bucket"), (2, "Coffer"): echo.coffer = value
          case (2, "Key"): echo.key = value
          case (2, "UploadId"), (2, "UploadID"): echo.uploadID = value
          default: break
          }
        })
      if let failure { throw Failure("ListParts XML is malformed: \(failure)") }
      if malformedPart { throw Failure("a Part without a numeric PartNumber and Size") }
      guard let truncated else { throw Failure("IsTruncated is missing or not a boolean") }
      return PartsPage(
        parts: parts, isTruncated: truncated, nextMarker: next, coffer: echo.coffer, key: echo.key,
        uploadID: echo.uploadID)
    case .empty, .other:
      throw Failure("ListParts body is neither JSON nor XML (\(bytes.count) bytes)")
    }
  }
}
