import Foundation
import ReaperCore
import Testing

@testable import ReaperProviders

/// A set of IDs folds two strings Swift calls equal (a precomposed "é" and "e" with a combining accent), though
/// they are two users to the server. A parts listing naming both would then keep whichever came first, and the
/// re-check could be shown only the one that agrees with the uploads listing. Such an answer is refused.
@Suite("Identity IDs that differ only in their Unicode spelling")
struct IdentitySpellingTests {
  static let precomposed = "jos\u{E9}"
  static let decomposed = "jose\u{301}"

  static func body(_ ids: [String]) -> String {
    "<ListPartsResult><Bucket>b</Bucket><Key>k</Key><UploadId>u</UploadId>"
      + ids.map { "<Initiator><ID>\($0)</ID></Initiator>" }.joined()
      + "<IsTruncated>false</IsTruncated><Part><PartNumber>1</PartNumber><LastModified>2026-01-01T00:00:00.000Z</LastModified><Size>5</Size></Part></ListPartsResult>"
  }

  @Test func oneListPartsAnswerNamingBothSpellingsIsRefused() throws {
    #expect(throws: S3Decoder.Failure.self) {
      try S3Decoder.decodeParts(Array(Self.body([Self.precomposed, Self.decomposed]).utf8))
    }
    let same = try S3Decoder.decodeParts(Array(Self.body([Self.precomposed, Self.precomposed]).utf8))
    #expect(same.initiatorIDs.count == 1)
  }

  /// The same, spread over two pages of one parts listing.
  struct TwoPages: UploadProvider {
    let target = Target(
      name: "t", provider: .s3, endpoint: "http://127.0.0.1:1", region: "us-east-1", buckets: ["b"],
      credentialsFile: nil)
    let owners: [String]
    func uploads(bucket: String, prefix: String) -> Pages<UploadPage> {
      Pages(
        stalled: { ProviderError(kind: .malformedResponse, target: "t", bucket: "", request: "", message: $0) },
        fetch: { (_: String?) async throws(ProviderError) -> (UploadPage, next: String?) in
          (UploadPage(uploads: [], serverDate: nil), nil)
        })
    }
    func parts(of upload: Upload) -> Pages<PartPage> {
      let owners = owners
      return Pages(
        stalled: { ProviderError(kind: .malformedResponse, target: "t", bucket: "", request: "", message: $0) },
        fetch: { (marker: String?) async throws(ProviderError) -> (PartPage, next: String?) in
          let index = Int(marker ?? "0") ?? 0
          let part = Part(number: index + 1, size: 5, lastModified: Date(timeIntervalSince1970: 1_700_000_000))
          return (
            PartPage(parts: [part], ownerIDs: [owners[index]]), index + 1 < owners.count ? "\(index + 1)" : nil
          )
        })
    }
    func abort(_ upload: Upload) async throws(ProviderError) -> AbortResult { .aborted }
  }

  @Test func twoPagesNamingBothSpellingsAreRefused() async throws {
    let upload = Upload(
      target: "t", bucket: "b", key: "k", uploadID: "u", initiated: Date(timeIntervalSince1970: 1_600_000_000))
    await #expect(throws: ProviderError.self) {
      _ = try await TwoPages(owners: [Self.precomposed, Self.decomposed]).partsSummary(of: upload)
    }
    let summary = try await TwoPages(owners: [Self.precomposed, Self.precomposed]).partsSummary(of: upload)
    #expect(summary.ownerIDs.count == 1 && summary.count == 2)
  }
}
