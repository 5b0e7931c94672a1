import Foundation
import Testing

@testable import ReaperProviders

/// `Initiator.ID` and `Owner.ID` as the S3 and CDCS decoders read them: present, absent, blank or contradicted.
/// Whatever does not name one id plainly reads as none, so a rule that asks for an id does not select the upload.
@Suite("Initiator and owner ids in listings")
struct IdentityDecoderTests {
  static func s3Upload(_ key: String, identity: String) -> String {
    "<Upload><Key>\(key)</Key><UploadId>u-\(key)</UploadId>\(identity)<Initiated>2026-01-01T00:00:00.000Z</Initiated></Upload>"
  }

  static func s3List(_ uploads: [String]) -> [UInt8] {
    Array(
      ("<ListMultipartUploadsResult><Bucket>b</Bucket><IsTruncated>false</IsTruncated>" + uploads.joined()
        + "</ListMultipartUploadsResult>").utf8)
  }

  @Test func s3ReadsInitiatorAndOwnerIDs() throws {
    let page = try S3Decoder.decodeList(
      Self.s3List([
        Self.s3Upload(
          "both",
          identity:
            "<Initiator><ID>arn:aws:iam::1:user/app-a</ID><DisplayName>app-a</DisplayName></Initiator><Owner><ID>owner-1</ID><DisplayName>o</DisplayName></Owner>"
        ),
        Self.s3Upload("none", identity: ""),
        Self.s3Upload("empty", identity: "<Initiator><ID></ID></Initiator><Owner><ID>   </ID></Owner>"),
        Self.s3Upload("name-only", identity: "<Initiator><DisplayName>app-a</DisplayName></Initiator>"),
        Self.s3Upload("twice", identity: "<Initiator><ID>app-a</ID><ID>app-b</ID></Initiator>"),
        Self.s3Upload("same-twice", identity: "<Owner><ID>o</ID></Owner><Owner><ID>o</ID></Owner>"),
      ]))
    let byKey = Dictionary(uniqueKeysWithValues: page.entries.map { ($0.key, $0) })
    #expect(page.entries.count == 6)
    #expect(byKey["both"]?.initiatorID == "arn:aws:iam::1:user/app-a")
    #expect(byKey["both"]?.ownerID == "owner-1")
    for key in ["none", "empty", "name-only"] {
      #expect(byKey[key]?.initiatorID == nil, "\(key)")
      #expect(byKey[key]?.ownerID == nil, "\(key)")
    }
    // Two ids in one record: neither is trusted.
    #expect(byKey["twice"]?.initiatorID == nil)
    #expect(byKey["same-twice"]?.ownerID == "o")
  }

  @Test func s3AnIDOutsideAnUploadIsNotAnUploadsID() throws {
    let xml =
      "<ListMultipartUploadsResult><Bucket>b</Bucket><IsTruncated>false</IsTruncated><Owner><ID>bucket-owner</ID></Owner>"
      + Self.s3Upload("k", identity: "") + "</ListMultipartUploadsResult>"
    let page = try S3Decoder.decodeList(Array(xml.utf8))
    #expect(page.entries.first?.ownerID == nil)
  }

  static func cdcsList(_ records: [String]) -> String {
    "{\"Coffer\":\"c\",\"IsTruncated\":false,\"Upload\":[\(records.joined(separator: ","))]}"
  }

  static func cdcsRecord(_ key: String, _ identity: String) -> String {
    "{\"Key\":\"\(key)\",\"UploadId\":\"u-\(key)\",\(identity)\"Initiated\":\"2026-01-01T00:00:00Z\"}"
  }

  @Test func cdcsReadsInitiatorAndOwnerIDs() throws {
    let json = Self.cdcsList([
      Self.cdcsRecord(
        "both",
        #""Initiator":{"ID":"qcs::cam::uin/1:uin/2","DisplayName":"2"},"Owner":{"ID":"qcs::cam::uin/1:uin/1"},"#),
      Self.cdcsRecord("none", ""),
      Self.cdcsRecord("empty", #""Initiator":{"ID":""},"Owner":{"ID":" \t"},"#),
      Self.cdcsRecord("not-a-string", #""Initiator":{"ID":{"x":1}},"Owner":"owner-as-text","#),
      Self.cdcsRecord("numeric", #""Initiator":{"ID":100000000001},"#),
    ])
    let page = try CDCSDecoder.decodeList(Array(json.utf8), zone: .utc)
    let byKey = Dictionary(uniqueKeysWithValues: page.entries.map { ($0.key, $0) })
    #expect(page.entries.count == 5)
    #expect(byKey["both"]?.initiatorID == "qcs::cam::uin/1:uin/2")
    #expect(byKey["both"]?.ownerID == "qcs::cam::uin/1:uin/1")
    for key in ["none", "empty", "not-a-string"] {
      #expect(byKey[key]?.initiatorID == nil, "\(key)")
      #expect(byKey[key]?.ownerID == nil, "\(key)")
    }
    // CDCS sends numbers as strings and strings as numbers; an id is text either way.
    #expect(byKey["numeric"]?.initiatorID == "100000000001")
  }

  @Test func identityFieldKeepsOneIDOrNone() {
    var field = IdentityField()
    #expect(field.value == nil)
    field.add("  ")
    #expect(field.value == nil)
    field.add(" app-a ")
    #expect(field.value == " app-a ")
    field.add(" app-a ")
    #expect(field.value == " app-a ")
    field.add("app-b")
    #expect(field.value == nil)
  }

  /// ListParts echoes who started the upload; the re-check compares it with the listing's word.
  @Test func s3ListPartsNamesItsInitiatorAndOwner() throws {
    let body =
      "<ListPartsResult><Bucket>b</Bucket><Key>k</Key><UploadId>u</UploadId><Initiator><ID>app-a</ID></Initiator><Owner><ID>  </ID></Owner><IsTruncated>false</IsTruncated><Part><PartNumber>1</PartNumber><LastModified>2026-01-01T00:00:00.000Z</LastModified><Size>5</Size></Part></ListPartsResult>"
    let page = try S3Decoder.decodeParts(Array(body.utf8))
    #expect(page.initiatorIDs == ["app-a"])
    #expect(page.ownerIDs.isEmpty)
    #expect(page.parts.count == 1)
  }
}
