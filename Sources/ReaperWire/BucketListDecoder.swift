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
