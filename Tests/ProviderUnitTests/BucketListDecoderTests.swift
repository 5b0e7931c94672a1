import ReaperProviders
import Testing

/// ListBuckets answers, honest and not: the names in them become request paths, so a name that could step out of
/// its path segment is set aside and said, and another document is never taken for an empty listing.
@Suite("ListBuckets decoding")
struct BucketListDecoderTests {
  static func body(_ buckets: [String], token: String? = nil, root: String = "ListAllMyBucketsResult") -> [UInt8] {
    var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><\(root)><Owner><ID>o</ID></Owner><Buckets>"
    for name in buckets {
      xml += "<Bucket><Name>\(name)</Name><CreationDate>2024-01-01T00:00:00Z</CreationDate></Bucket>"
    }
    xml += "</Buckets>"
    if let token { xml += "<ContinuationToken>\(token)</ContinuationToken>" }
    return Array((xml + "</\(root)>").utf8)
  }

  @Test func namesAndTheContinuationToken() throws {
    let page = try S3Decoder.decodeBuckets(Self.body(["a", "b.c"], token: "b.c"))
    #expect(page.names == ["a", "b.c"])
    #expect(page.next == "b.c")
    #expect(page.unreadable.isEmpty)
    #expect(try S3Decoder.decodeBuckets(Self.body(["a"])).next == nil)
    #expect(try S3Decoder.decodeBuckets(Self.body(["a"], token: "")).next == nil)
  }

  @Test func namesThatCannotBeBucketsAreSetAsideAndSaid() throws {
    let page = try S3Decoder.decodeBuckets(Self.body(["ok", "../etc", "a/b", "", "x&#10;y"]))
    #expect(page.names == ["ok"])
    #expect(page.unreadable.count == 4, "\(page.unreadable)")
  }

  @Test func aBucketWithoutANameIsSaid() throws {
    let xml =
      "<ListAllMyBucketsResult><Buckets><Bucket><CreationDate>x</CreationDate></Bucket></Buckets></ListAllMyBucketsResult>"
    let page = try S3Decoder.decodeBuckets(Array(xml.utf8))
    #expect(page.names.isEmpty)
    #expect(page.unreadable == ["1 listed bucket record(s) without a Name"])
  }

  @Test func anotherDocumentIsNotAnEmptyListing() {
    #expect(throws: WireFailure.self) { try S3Decoder.decodeBuckets(Self.body([], root: "ListBucketResult")) }
    #expect(throws: WireFailure.self) { try S3Decoder.decodeBuckets(Array("{\"Buckets\":[]}".utf8)) }
    #expect(throws: WireFailure.self) { try S3Decoder.decodeBuckets(Array(Self.body(["a"]).prefix(60))) }
  }
}

/// ListDrive answers: drive ids as strings or (as some of the documentation's samples have it) numbers.
@Suite("ListDrive decoding")
struct DriveListDecoderTests {
  @Test func idsAsStringsOrNumbersAndTheMarker() throws {
    let body = #"{"items":[{"drive_id":"11001","status":"enabled"},{"drive_id":2}],"next_marker":"abc"}"#
    let page = try PDSDecoder.decodeDrives(Array(body.utf8))
    #expect(page.names == ["11001", "2"])
    #expect(page.next == "abc")
    let last = try PDSDecoder.decodeDrives(Array(#"{"items":[],"next_marker":""}"#.utf8))
    #expect(last.names.isEmpty && last.next == nil)
  }

  @Test func whatCannotBeADriveIsSetAsideAndSaid() throws {
    let body = #"{"items":[{"drive_id":"../x"},{"name":"no id"},7,{"drive_id":"ok"}]}"#
    let page = try PDSDecoder.decodeDrives(Array(body.utf8))
    #expect(page.names == ["ok"])
    #expect(page.unreadable.count == 3, "\(page.unreadable)")
  }

  @Test func anotherBodyIsNotAnEmptyListing() {
    #expect(throws: WireFailure.self) { try PDSDecoder.decodeDrives(Array(#"{"code":"x"}"#.utf8)) }
    #expect(throws: WireFailure.self) { try PDSDecoder.decodeDrives(Array(#"{"items":{}}"#.utf8)) }
    #expect(throws: WireFailure.self) { try PDSDecoder.decodeDrives(Array(#"{"items":[],"next_marker":[1]}"#.utf8)) }
    #expect(throws: WireFailure.self) { try PDSDecoder.decodeDrives(Array("<xml/>".utf8)) }
  }
}
