import Foundation
import ReaperCore

/// Streaming decoders for S3's XML: events in, a page of values out; no document tree.
public enum S3Decoder {
  public struct Entry: Sendable, Equatable {
    public var key: String
    public var uploadID: String
    public var initiated: Date
  }

  public struct ListPage: Sendable {
    public var entries: [Entry] = []
    public var unreadable: [String] = []
    public var isTruncated = false
    public var nextKeyMarker: String?
    public var nextUploadIDMarker: String?
  }

  public struct PartsPage: Sendable {
    public var parts: [Part] = []
    public var isTruncated = false
    public var nextMarker: String?
  }

  public struct Failure: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
  }

  public static func decodeList(_ bytes: [UInt8]) throws(Failure) -> ListPage {
    guard BodySniffer.kind(bytes) == .xml else {
      throw Failure("ListMultipartUploads body is not XML (\(bytes.count) bytes)")
    }
    var page = ListPage()
    var truncatedText: String?
    var encoding: String?
    var rawNextKey: String?
    var current: (key: String?, uploadID: String?, initiated: String?) = (nil, nil, nil)
    var rawUploads: [(key: String?, uploadID: String?, initiated: String?)] = []
    let failure = StreamingXML.parse(
      bytes,
      start: { path in if path.count == 2, path[1] == "Upload" { current = (nil, nil, nil) } },
      end: { path, text in
        switch (path.count, path.last) {
        case (3, "Key") where path[1] == "Upload": current.key = text
        case (3, "UploadId") where path[1] == "Upload": current.uploadID = text
        case (3, "Initiated") where path[1] == "Upload": current.initiated = text
        case (2, "Upload"): rawUploads.append(current)
        case (2, "IsTruncated"): truncatedText = text
        case (2, "NextKeyMarker"): rawNextKey = text
        case (2, "NextUploadIdMarker"): page.nextUploadIDMarker = text
        case (2, "EncodingType"): encoding = text
        default: break
        }
      })
    if let failure { throw Failure("ListMultipartUploads XML is malformed (truncated?): \(failure)") }
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
      guard let rawKey = raw.key, let key = decoded(rawKey), let uploadID = raw.uploadID, !uploadID.isEmpty else {
        page.unreadable.append("upload record without a readable Key and UploadId (Key \(raw.key ?? "missing"))")
        continue
      }
      guard let initiatedText = raw.initiated, let initiated = Timestamp.parse(initiatedText, zone: .utc) else {
        page.unreadable.append("key \"\(key)\" upload \(uploadID): unreadable Initiated \"\(raw.initiated ?? "")\"")
        continue
      }
      page.entries.append(Entry(key: key, uploadID: uploadID, initiated: initiated))
    }
    return page
  }

  public static func decodeParts(_ bytes: [UInt8]) throws(Failure) -> PartsPage {
    guard BodySniffer.kind(bytes) == .xml else { throw Failure("ListParts body is not XML (\(bytes.count) bytes)") }
    var page = PartsPage()
    var truncatedText: String?
    var current: (number: Int?, size: Int64?, modified: Date?) = (nil, nil, nil)
    var malformedPart = false
    let failure = StreamingXML.parse(
      bytes,
      start: { path in if path.last == "Part" { current = (nil, nil, nil) } },
      end: { path, text in
        switch (path.count, path.last) {
        case (3, "PartNumber"): current.number = Int(text)
        case (3, "Size"): current.size = Int64(text)
        case (3, "LastModified"): current.modified = Timestamp.parse(text, zone: .utc)
        case (2, "Part"):
          if let number = current.number, let size = current.size, size >= 0 {
            page.parts.append(Part(number: number, size: size, lastModified: current.modified))
          } else {
            malformedPart = true
          }
        case (2, "IsTruncated"): truncatedText = text
        case (2, "NextPartNumberMarker"): page.nextMarker = text
        default: break
        }
      })
    if let failure { throw Failure("ListParts XML is malformed (truncated?): \(failure)") }
    if malformedPart { throw Failure("a Part without a numeric PartNumber and Size") }
    guard let truncated = truncatedText.flatMap({ LooseJSON.string($0).boolean }) else {
      throw Failure("IsTruncated is missing or not a boolean")
    }
    page.isTruncated = truncated
    return page
  }
}
