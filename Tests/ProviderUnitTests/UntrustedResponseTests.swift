import Foundation
import ReaperConfig
import Synchronization
import Testing

@testable import ReaperCore
@testable import ReaperProviders

/// What the S3 and CDCS decoders make of answers that lie: every record they refuse is reported as unreadable,
/// and every part time they cannot trust leaves idle time unknown, never measured from an older stamp.
@Suite("Fail closed: untrusted responses")
struct UntrustedResponseTests {
  static func s3List(_ uploads: [(key: String, id: String, initiated: String)], bucket: String = "b") -> [UInt8] {
    var xml = "<ListMultipartUploadsResult><Bucket>\(bucket)</Bucket><IsTruncated>false</IsTruncated>"
    for upload in uploads {
      xml +=
        "<Upload><Key>\(upload.key)</Key><UploadId>\(upload.id)</UploadId><Initiated>\(upload.initiated)</Initiated></Upload>"
    }
    return Array((xml + "</ListMultipartUploadsResult>").utf8)
  }

  static func s3Parts(_ lastModified: [String?]) -> [UInt8] {
    var xml = "<ListPartsResult><Bucket>b</Bucket><Key>k</Key><UploadId>u</UploadId><IsTruncated>false</IsTruncated>"
    for (index, time) in lastModified.enumerated() {
      xml += "<Part><PartNumber>\(index + 1)</PartNumber>"
      if let time { xml += "<LastModified>\(time)</LastModified>" }
      xml += "<Size>10</Size></Part>"
    }
    return Array((xml + "</ListPartsResult>").utf8)
  }

  @Test func s3RecordsWithAnEmptyKeyOrIdAreUnreadable() throws {
    let page = try S3Decoder.decodeList(
      Self.s3List([
        ("", "u1", "2026-01-01T00:00:00.000Z"), ("k", "", "2026-01-01T00:00:00.000Z"),
        ("ok", "u3", "2026-01-01T00:00:00.000Z"),
      ]))
    #expect(page.entries.map(\.key) == ["ok"])
    #expect(page.unreadable.count == 2)
    #expect(page.unreadable.allSatisfy { $0.contains("without a non-empty Key and UploadId") })
  }

  @Test(arguments: ["0001-01-01T00:00:00Z", "1970-01-01T00:00:00.000Z", "1999-12-31T23:59:59Z"])
  func s3InitiatedBeforeTheFloorIsUnreadable(initiated: String) throws {
    let page = try S3Decoder.decodeList(Self.s3List([("k", "u", initiated), ("ok", "u2", "2026-01-01T00:00:00Z")]))
    #expect(page.entries.map(\.key) == ["ok"])
    #expect(page.unreadable.first?.contains("implausible Initiated") == true)
  }

  @Test func s3ZonelessStampsAreReadInTheTargetsZone() throws {
    let bytes = Self.s3List([("k", "u", "2026-11-30T02:00:00")])
    // No zone configured: a stamp without one has a reading per zone, so it is unreadable, not guessed UTC.
    #expect(try S3Decoder.decodeList(bytes).entries.isEmpty)
    #expect(try S3Decoder.decodeParts(Self.s3Parts(["2026-11-30T02:00:00"])).parts.first?.unreadableTime != nil)
    let west = Zone.fixed(secondsEast: -8 * 3600)
    let page = try S3Decoder.decodeList(bytes, zone: west)
    // 02:00 in UTC-8 is 10:00 UTC: read as UTC it would look eight hours older than it is.
    #expect(page.entries.first?.initiated == Timestamp.parseRFC3339("2026-11-30T10:00:00Z"))
    let parts = try S3Decoder.decodeParts(Self.s3Parts(["2026-11-30T02:00:00"]), zone: west)
    #expect(parts.parts.first?.lastModified == Timestamp.parseRFC3339("2026-11-30T10:00:00Z"))
  }

  @Test func s3PartTimesThatCannotBeReadAreKeptAsText() throws {
    let page = try S3Decoder.decodeParts(
      Self.s3Parts(["2026-11-30T10:00:00.000Z", "last tuesday", nil, "1970-01-01T00:00:00Z"]))
    #expect(page.parts.map(\.unreadableTime) == [nil, "last tuesday", "missing", "1970-01-01T00:00:00Z"])
    #expect(page.parts.dropFirst().allSatisfy { $0.lastModified == nil })
    var summary = PartsSummary()
    page.parts.forEach { summary.add($0) }
    #expect(summary.unreadableTimes == 3)
    #expect(summary.idleUnknownReason(initiated: .distantPast)?.contains("part 2") == true)
  }

  @Test func s3EchoesAreDecoded() throws {
    let list = try S3Decoder.decodeList(Self.s3List([], bucket: "other"))
    #expect(list.bucket == "other")
    let parts = try S3Decoder.decodeParts(Self.s3Parts([]))
    #expect(parts.bucket == "b")
    #expect(parts.key == "k")
    #expect(parts.uploadID == "u")
  }

  @Test func cdcsRecordsWithAnEmptyKeyOrImplausibleTimeAreUnreadable() throws {
    let upload = { (key: String, id: String, initiated: String) in
      "{\"Key\":\"\(key)\",\"UploadId\":\"\(id)\",\"Initiated\":\"\(initiated)\"}"
    }
    let body = CDCSDecoderTests.page(
      upload: [
        upload("", "u1", "Wed Jan 18 16:12:38 2017"), upload("a", "u2", "Thu Jan  1 00:00:00 1970"),
        upload("b", "u3", "0001-01-01T00:00:00Z"), upload("ok", "u4", "Wed Jan 18 16:12:38 2017"),
      ].joined(separator: ","))
    let page = try CDCSDecoderTests.decode(body)
    #expect(page.entries.map(\.key) == ["ok"])
    #expect(page.unreadable.count == 3)
  }

  @Test func cdcsPartTimesAndEchoes() throws {
    let json = """
      {"Coffer":"c-2","Key":"k","UploadId":"u","IsTruncated":false,"Part":[
        {"PartNumber":1,"LastModified":"garbage","Size":5},{"PartNumber":2,"Size":5},
        {"PartNumber":3,"LastModified":"Wed Jan 18 16:12:38 2017","Size":5}]}
      """
    let page = try CDCSDecoder.decodeParts(Array(json.utf8), zone: .utc)
    #expect(page.parts.map(\.unreadableTime) == ["garbage", "missing", nil])
    #expect(page.coffer == "c-2")
    #expect(page.key == "k")
    #expect(page.uploadID == "u")
    let xml =
      "<ListPartsResult><Bucket>c-3</Bucket><Key>k2</Key><UploadId>u2</UploadId><IsTruncated>false</IsTruncated><Part><PartNumber>1</PartNumber><Size>1</Size></Part></ListPartsResult>"
    let older = try CDCSDecoder.decodeParts(Array(xml.utf8), zone: .utc)
    #expect(older.parts.first?.unreadableTime == "missing")
    #expect(older.coffer == "c-3")
    #expect(older.key == "k2")
    #expect(older.uploadID == "u2")
  }

  static let context = RequestContext(target: "t", bucket: "b", request: "GET /b/k?uploadId=u")

  @Test func echoesThatNameSomethingElseAreRefused() throws {
    let asked = try UploadAddress(bucket: "b", key: "dir/k 1", uploadID: "u", keyInPath: true)
    let check = { (bucket: String?, key: String?, id: String?) throws(ProviderError) in
      try Echo.check(bucket: bucket, key: key, uploadID: id, asked: asked, context: Self.context, status: 200)
    }
    try check("b", "dir/k 1", "u")
    try check(nil, nil, nil)
    // Some servers encode the echoed key: the decoded form is the same key.
    try check("b", "dir%2Fk%201", "u")
    for (bucket, key, id) in [("other", "dir/k 1", "u"), ("b", "dir/k 2", "u"), ("b", "dir/k 1", "v")] {
      let error = #expect(throws: ProviderError.self) { try check(bucket, key, id) }
      #expect(error?.kind == .inconsistentResponse)
      #expect(error?.message.contains("not trusted") == true)
    }
  }

  @Test func anUploadThatCannotBeAddressedIsNeverSent() async throws {
    let transport = HTTPTransport()
    defer { Task { await transport.shutdown() } }
    // Port 9 on loopback: if a request were sent it would fail as a transport error, not as unaddressable.
    let target = Target(
      name: "t", provider: .s3, endpoint: "http://127.0.0.1:9", region: "r", buckets: ["b"], credentialsFile: nil)
    let provider = S3Provider(
      target: target, credentials: Credentials(accessKeyID: "a", secretAccessKey: "s"), transport: transport)
    for (key, id) in [("", "u"), ("k", ""), ("a/../b", "u")] {
      let upload = Upload(target: "t", bucket: "b", key: key, uploadID: id, initiated: Date())
      let error = await #expect(throws: ProviderError.self) { _ = try await provider.abort(upload) }
      #expect(error?.kind == .unaddressable)
      let partsError = await #expect(throws: ProviderError.self) { _ = try await provider.partsSummary(of: upload) }
      #expect(partsError?.kind == .unaddressable)
    }
    await transport.shutdown()
  }
}

@Suite("Fail closed: two readings and other documents")
struct TwoReadingsTests {
  @Test func aKeyHasTwoReadingsOnlyWhenTheServerDoesNotSayItEncoded() throws {
    let silent = UntrustedResponseTests.s3List([("tmp/keep+1/a%41", "u", "2026-01-01T00:00:00Z")])
    let entry = try #require(try S3Decoder.decodeList(silent).entries.first)
    #expect(entry.key == "tmp/keep 1/aA")
    #expect(entry.otherReading == "tmp/keep+1/a%41")
    let plain = try #require(
      try S3Decoder.decodeList(UntrustedResponseTests.s3List([("tmp/a", "u", "2026-01-01T00:00:00Z")])).entries.first)
    #expect(plain.otherReading == nil)
    let said = Array(
      String(decoding: silent, as: UTF8.self).replacingOccurrences(
        of: "<IsTruncated>", with: "<EncodingType>url</EncodingType><IsTruncated>"
      ).utf8)
    #expect(try S3Decoder.decodeList(said).entries.first?.otherReading == nil)
    let cdcs = CDCSDecoderTests.page(
      upload: "{\"Key\":\"a%20b\",\"UploadId\":\"u\",\"Initiated\":\"Wed Jan 18 16:12:38 2017\"}")
    #expect(try CDCSDecoderTests.decode(cdcs).entries.first?.otherReading == "a%20b")
  }

  @Test func anotherDocumentIsNotAnEmptyAnswer() {
    let bucketListing = Array(
      "<ListBucketResult><Name>b</Name><IsTruncated>false</IsTruncated></ListBucketResult>".utf8)
    #expect(throws: S3Decoder.Failure.self) { try S3Decoder.decodeParts(bucketListing) }
    #expect(throws: S3Decoder.Failure.self) { try S3Decoder.decodeList(bucketListing) }
  }

  @Test func fileGetMustSayItIsTheSameFile() {
    let listed = PDSScopeTests.listed
    for answer in [
      PDSScopeTests.file(type: nil), PDSScopeTests.file(fileID: nil),
      PDSDecoder.Item(
        fileID: "F1", name: "other.bin", type: "file", status: "uploading", uploadID: "U1",
        createdAt: .date(Date(timeIntervalSince1970: 1000)), updatedAt: .date(Date(timeIntervalSince1970: 2000.123))),
      PDSDecoder.Item(
        fileID: "F1", name: "b.bin", type: "file", status: "uploading", uploadID: "U1",
        createdAt: .date(Date(timeIntervalSince1970: 99)), updatedAt: .date(Date(timeIntervalSince1970: 2000.123))),
    ] {
      guard case .changed? = PDSProvider.verdict(on: answer, listed: listed, fileID: "F1") else {
        Issue.record("deleted on a file/get that does not prove the same file: \(answer)")
        continue
      }
    }
  }

  @Test func aStopEndsAWalkBeforeItsNextPage() async throws {
    let stalled: @Sendable (String) -> ProviderError = { _ in
      ProviderError(kind: .other, target: "t", bucket: "b", request: "", message: "")
    }
    let pages = Pages<Int>(stalled: stalled) { (marker: String?) async throws(ProviderError) -> (Int, next: String?) in
      (Int(marker ?? "0") ?? 0, "\((Int(marker ?? "0") ?? 0) + 1)")
    }
    let stop = Mutex(false)
    var seen: [Int] = []
    await #expect(throws: WalkControl.Stopped.self) {
      let stopRequested: @Sendable () -> Bool = { stop.withLock { $0 } }
      try await WalkControl.$signal.withValue(WalkControl.StopSignal(stopRequested)) {
        for try await page in pages {
          seen.append(page)
          if page == 2 { stop.withLock { $0 = true } }
        }
      }
    }
    #expect(seen == [0, 1, 2])
  }
}
