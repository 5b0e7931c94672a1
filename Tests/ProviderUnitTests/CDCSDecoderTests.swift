import Foundation
import Testing

@testable import ReaperCore
@testable import ReaperProviders

@Suite("CDCS response decoding")
struct CDCSDecoderTests {
  /// The sample response of the CDCS ListMultipartUploads page (seed 003), byte for byte.
  static let seedSample = """
    {
    "Coffer": "examplecoffer-1250000000",
    "EncodingType": "",
    "UploadIdMarker": "",
    "IsTruncated": "false",
    "NextUploadIdMarker": "",
    "Prefix": "",
    "MaxUploads": 1000,
    "Upload": [{
    "Key": "Object",
    "UploadId": "1484726657932bcb5b17f7a98a8cad9fc36a340ff204c79bd2f51e7dddf0b6d1da6220520c",
    "Initiator": {
    "ID": "qcs::cam::uin/100000000001:uin/100000000001",
    "DisplayName": "100000000001"
    },
    "Owner": {
    "ID": "qcs::cam::uin/100000000001:uin/100000000001",
    "DisplayName": "100000000001"
    },
    "Initiated": "Wed Jan 18 16:12:38 2017"
    }]
    }
    """

  static func decode(_ json: String, zone: Zone = .utc) throws -> CDCSDecoder.ListPage {
    try CDCSDecoder.decodeList(Array(json.utf8), zone: zone)
  }

  static func page(truncated: String = "\"false\"", upload: String = "", extra: String = "") -> String {
    "{\"Coffer\":\"c-1\",\"IsTruncated\":\(truncated),\"NextUploadIdMarker\":\"\",\"MaxUploads\":1000\(extra),\"Upload\":[\(upload)]}"
  }

  @Test func seedSampleFieldByField() throws {
    let page = try Self.decode(Self.seedSample)
    #expect(page.coffer == "examplecoffer-1250000000")
    #expect(page.isTruncated == false)
    #expect(page.nextMarker == nil)
    #expect(page.maxUploads == 1000)
    #expect(page.prefix == "")
    #expect(page.unreadable.isEmpty)
    #expect(page.entries.count == 1)
    let entry = try #require(page.entries.first)
    #expect(entry.key == "Object")
    #expect(entry.uploadID == "1484726657932bcb5b17f7a98a8cad9fc36a340ff204c79bd2f51e7dddf0b6d1da6220520c")
    #expect(entry.initiated.timeIntervalSince1970 == 1_484_755_958)
  }

  @Test func seedSampleInAPlusEightZone() throws {
    let page = try Self.decode(Self.seedSample, zone: .fixed(secondsEast: 28_800))
    #expect(page.entries.first?.initiated.timeIntervalSince1970 == 1_484_727_158)
  }

  @Test(
    "IsTruncated as a boolean or a string in any case",
    arguments: [("true", true), ("false", false), ("\"true\"", true), ("\"FALSE\"", false), ("\"True\"", true)])
  func isTruncatedForms(raw: String, expected: Bool) throws {
    let json = Self.page(truncated: raw).replacingOccurrences(
      of: "\"NextUploadIdMarker\":\"\"", with: "\"NextUploadIdMarker\":\"m\"")
    #expect(try Self.decode(json).isTruncated == expected)
  }

  @Test func isTruncatedMissingOrNonsenseIsMalformed() {
    #expect(throws: CDCSDecoder.Failure.self) {
      try Self.decode("{\"Upload\":[]}")
    }
    #expect(throws: CDCSDecoder.Failure.self) {
      try Self.decode(Self.page(truncated: "\"maybe\""))
    }
  }

  @Test func maxUploadsAsANumberOrAString() throws {
    #expect(try Self.decode(Self.page()).maxUploads == 1000)
    let asString = Self.page().replacingOccurrences(of: "\"MaxUploads\":1000", with: "\"MaxUploads\":\"1000\"")
    #expect(try Self.decode(asString).maxUploads == 1000)
  }

  @Test(
    "Initiated as ctime in the target zone, RFC 3339 or RFC 1123",
    arguments: [
      ("Wed Jan 18 16:12:38 2017", 1_484_755_958.0 - 3600), ("2017-01-18T16:12:38.000Z", 1_484_755_958),
      ("2017-01-18T16:12:38Z", 1_484_755_958), ("Wed, 18 Jan 2017 16:12:38 GMT", 1_484_755_958),
    ] as [(String, TimeInterval)])
  func initiatedForms(text: String, expected: TimeInterval) throws {
    let upload = "{\"Key\":\"k\",\"UploadId\":\"u\",\"Initiated\":\"\(text)\"}"
    let page = try Self.decode(Self.page(upload: upload), zone: .fixed(secondsEast: 3600))
    #expect(page.entries.first?.initiated.timeIntervalSince1970 == expected)
  }

  @Test func uploadIDSpelledEitherWay() throws {
    let upload = "{\"Key\":\"a\",\"UploadID\":\"u1\",\"Initiated\":\"2017-01-18T16:12:38Z\"}"
    #expect(try Self.decode(Self.page(upload: upload)).entries.first?.uploadID == "u1")
  }

  @Test func aLoneUploadObjectInsteadOfAnArray() throws {
    let json =
      "{\"IsTruncated\":false,\"Upload\":{\"Key\":\"a\",\"UploadId\":\"u1\",\"Initiated\":\"2017-01-18T16:12:38Z\"}}"
    #expect(try Self.decode(json).entries.map(\.uploadID) == ["u1"])
    #expect(try Self.decode("{\"IsTruncated\":false,\"Upload\":null}").entries.isEmpty)
    #expect(try Self.decode("{\"IsTruncated\":false}").entries.isEmpty)
  }

  @Test func urlEncodedKeysAndMarkersAreDecoded() throws {
    let json = """
      {"EncodingType":"url","IsTruncated":"true","NextUploadIdMarker":"tmp%2Fa+b%2Bc","Prefix":"tmp%2F",
       "Upload":[{"Key":"tmp/a+b%2Bc%25%26%E4%B8%8A","UploadId":"u","Initiated":"2017-01-18T16:12:38Z"}]}
      """
    let page = try Self.decode(json)
    #expect(page.entries.first?.key == "tmp/a b+c%&上")
    #expect(page.nextMarker == "tmp/a b+c")
    #expect(page.prefix == "tmp/")
  }

  @Test func keysAreLeftAloneWhenTheServerSaysTheyAreNotEncoded() throws {
    let upload = "{\"Key\":\"a%41+b\",\"UploadId\":\"u\",\"Initiated\":\"2017-01-18T16:12:38Z\"}"
    let json = Self.page(upload: upload, extra: ",\"EncodingType\":\"\"")
    #expect(try Self.decode(json).entries.first?.key == "a%41+b")
  }

  @Test func unreadableRecordsAreSetAsideNotGuessed() throws {
    let uploads = """
      {"Key":"good","UploadId":"u1","Initiated":"2017-01-18T16:12:38Z"},
      {"Key":"bad-time","UploadId":"u2","Initiated":"yesterday"},
      {"Key":"no-id","Initiated":"2017-01-18T16:12:38Z"},
      {"Key":"bad%zzescape","UploadId":"u4","Initiated":"2017-01-18T16:12:38Z"}
      """
    let page = try Self.decode(Self.page(upload: uploads))
    #expect(page.entries.map(\.key) == ["good"])
    #expect(page.unreadable.count == 3)
    #expect(page.unreadable[0].contains("bad-time"))
  }

  @Test func truncatedOrNonJSONBodiesAreMalformed() {
    let body = Array(Self.seedSample.utf8)
    #expect(throws: CDCSDecoder.Failure.self) {
      try CDCSDecoder.decodeList(Array(body.prefix(body.count / 2)), zone: .utc)
    }
    #expect(throws: CDCSDecoder.Failure.self) {
      try CDCSDecoder.decodeList(Array("<ListMultipartUploadsResult/>".utf8), zone: .utc)
    }
    #expect(throws: CDCSDecoder.Failure.self) {
      try CDCSDecoder.decodeList([], zone: .utc)
    }
  }

  @Test func partsInJSONWithNumbersAsStrings() throws {
    let json = """
      {"IsTruncated":"true","NextPartNumberMarker":"2","Part":[
        {"PartNumber":"1","LastModified":"2017-01-18T16:12:38Z","ETag":"\\"a\\"","Size":"5242880"},
        {"PartNumber":2,"LastModified":"Wed Jan 18 17:12:38 2017","Size":1024}]}
      """
    let page = try CDCSDecoder.decodeParts(Array(json.utf8), zone: .utc)
    #expect(page.isTruncated)
    #expect(page.nextMarker == "2")
    #expect(page.parts.map(\.size) == [5_242_880, 1024])
    #expect(page.parts.map(\.number) == [1, 2])
    #expect(page.parts[1].lastModified?.timeIntervalSince1970 == 1_484_759_558)
  }

  @Test func partsInTheOlderXMLPage() throws {
    let xml = """
      <?xml version="1.0" encoding="UTF-8"?>
      <ListPartsResult><Bucket>c</Bucket><IsTruncated>false</IsTruncated><NextMarker>3</NextMarker>
      <Part><PartNumber>1</PartNumber><LastModified>2017-01-18T16:12:38.000Z</LastModified><Size>10</Size></Part>
      <Part><PartNumber>3</PartNumber><LastModified>2017-01-18T16:13:38.000Z</LastModified><Size>20</Size></Part>
      </ListPartsResult>
      """
    let page = try CDCSDecoder.decodeParts(Array(xml.utf8), zone: .utc)
    #expect(!page.isTruncated)
    #expect(page.parts.map(\.number) == [1, 3])
    #expect(page.parts.map(\.size) == [10, 20])
  }

  @Test func errorBodiesInJSONOrXML() {
    let json = ErrorBody.parse(Array("{\"Code\":\"NoSuchUpload\",\"Message\":\"gone\",\"RequestId\":\"r1\"}".utf8))
    #expect(json == ErrorBody(code: "NoSuchUpload", message: "gone", requestID: "r1"))
    let xml = ErrorBody.parse(
      Array(
        "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>no</Message><RequestId>r2</RequestId></Error>"
          .utf8
      ))
    #expect(xml == ErrorBody(code: "AccessDenied", message: "no", requestID: "r2"))
    #expect(ErrorBody.parse(Array("<html>bad gateway".utf8)) == nil)
    #expect(ErrorBody.parse([]) == nil)
  }

  @Test func retryAfterInSecondsOrAsADate() {
    #expect(HTTPTransport.parseRetryAfter("3") == .seconds(3))
    #expect(HTTPTransport.parseRetryAfter("soon") == nil)
    #expect(HTTPTransport.parseRetryAfter("Wed, 18 Jan 2017 16:12:38 GMT") == .zero)
  }
}

@Suite("Streaming XML")
struct StreamingXMLTests {
  @Test(arguments: [
    "<a><b>1</b><c>2", "<a><b>1</b", "<a><b>1</b></a>junk", "", "<a>", "<?xmle?><a/>", "<a><?pi?></a>",
    "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
  ])
  func documentsCutShortAreErrors(text: String) {
    #expect(StreamingXML.parse(Array(text.utf8)) { _, _ in } != nil)
  }

  @Test func invalidUTF8IsRefused() {
    #expect(StreamingXML.parse(Array("<a>".utf8) + [0xFF] + Array("</a>".utf8)) { _, _ in } != nil)
  }

  @Test func declarationsCDATAAndCommentsAreFine() {
    let text = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a><!-- note --><b><![CDATA[x<y]]></b></a>"
    var values: [String] = []
    #expect(StreamingXML.parse(Array(text.utf8)) { path, value in if path.last == "b" { values.append(value) } } == nil)
    #expect(values == ["x<y"])
  }

  @Test func aWholeDocumentIsNot() {
    var ends: [String] = []
    #expect(
      StreamingXML.parse(Array("<a><b>1</b></a>".utf8)) { path, _ in ends.append(path.joined(separator: "/")) } == nil)
    #expect(ends == ["a/b", "a"])
  }

  @Test func s3ListCutInHalfIsMalformed() {
    let xml =
      "<ListMultipartUploadsResult><IsTruncated>false</IsTruncated><Upload><Key>a</Key><UploadId>u</UploadId><Initiated>2017-01-18T16:12:38.000Z</Initiated></Upload></ListMultipartUploadsResult>"
    let bytes = Array(xml.utf8)
    #expect(throws: S3Decoder.Failure.self) { try S3Decoder.decodeList(Array(bytes.prefix(bytes.count / 2))) }
    #expect((try? S3Decoder.decodeList(bytes))?.entries.map(\.key) == ["a"])
  }
}
