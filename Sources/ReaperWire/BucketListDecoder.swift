import Foundation
import ReaperCore

/// One page of an endpoint's bucket names, for `buckets` globs.
public struct BucketNamePage: Sendable {
  public var names: [String] = []
  /// Names that cannot be a bucket this reaper sends requests to, with why; never walked.
  public var unreadable: [String] = []
  /// The token to ask for the next page with; nil at the end.
  public var next: String?

  public init() {}

  mutating func take(_ name: String) {
    if let problem = BucketPattern.problem(inListedName: name) {
      unreadable.append("listed bucket \"\(name.prefix(80))\" not watched: \(problem)")
    } else {
      names.append(name)
    }
  }
}

extension S3Decoder {
  /// `ListAllMyBucketsResult`. AWS pages it with `ContinuationToken` when asked with `max-buckets`; servers that do
  /// not page (Ceph) send every bucket and no token.
  public static func decodeBuckets(_ bytes: [UInt8]) throws(Failure) -> BucketNamePage {
    guard BodySniffer.kind(bytes) == .xml else { throw Failure("ListBuckets body is not XML (\(bytes.count) bytes)") }
    var page = BucketNamePage()
    var root: String?
    var nameless = 0
    var currentName: String?
    let failure = StreamingXML.parse(
      bytes,
      start: { path in
        if path.count == 1 { root = path[0] }
        if path.count == 3, path[1] == "Buckets", path[2] == "Bucket" { currentName = nil }
      },
      end: { path, text in
        switch (path.count, path.last) {
        case (4, "Name") where path[1] == "Buckets" && path[2] == "Bucket": currentName = text
        case (3, "Bucket") where path[1] == "Buckets":
          if let currentName { page.take(currentName) } else { nameless += 1 }
        case (2, "ContinuationToken"): page.next = text.isEmpty ? nil : text
        default: break
        }
      })
    if let failure { throw Failure("ListBuckets XML is malformed (truncated?): \(failure)") }
    guard root == "ListAllMyBucketsResult" else {
      throw Failure("the answer is a <\(root ?? "?")>, not a <ListAllMyBucketsResult>")
    }
    if nameless > 0 { page.unreadable.append("\(nameless) listed bucket record(s) without a Name") }
    return page
  }
}

extension PDSDecoder {
  /// `POST /v2/drive/list` (ListDrive): `items[]` of drives, each with its `drive_id` (a string, or a number in some
  /// of the documentation's samples, read as its digits), and `next_marker`, empty at the end.
  public static func decodeDrives(_ bytes: [UInt8]) throws(Failure) -> BucketNamePage {
    guard BodySniffer.kind(bytes) == .json else { throw Failure("drive/list body is not JSON (\(bytes.count) bytes)") }
    let root: LooseJSON
    do {
      root = try LooseJSON.parse(bytes)
    } catch {
      throw Failure("drive/list body is not valid JSON (\(bytes.count) bytes; truncated?)")
    }
    guard case .object = root else { throw Failure("drive/list body is not a JSON object") }
    var page = BucketNamePage()
    let items: [LooseJSON]
    switch root["items"] {
    case .array(let values)?: items = values
    case .null?, nil:
      guard root["next_marker"] != nil else { throw Failure("drive/list body has no items array") }
      items = []
    default: throw Failure("drive/list items is not an array")
    }
    for (index, item) in items.enumerated() {
      guard case .object = item, let id = item["drive_id"]?.text, !id.isEmpty else {
        page.unreadable.append("drive/list items[\(index)] has no drive_id")
        continue
      }
      page.take(id)
    }
    switch root["next_marker"] {
    case nil, .null?: page.next = nil
    case .string(let text)?: page.next = text.isEmpty ? nil : text
    default: throw Failure("drive/list next_marker is not a string")
    }
    return page
  }
}
