import Foundation
import ReaperCore
import Testing

@testable import ReaperProviders

@Suite("PDS decoder")
struct PDSDecoderTests {
  /// The sample response of the list_uploaded_parts API page, as published.
  static let seedSample = """
    {
    "file_id": "322fb07b975f4b0ae1b543fe8475eee4c19eb2b2",
    "upload_id": "00166D06127B413BA1EC8ABB1144D101",
    "uploaded_parts": [
    {
    "part_number": 1,
    "part_size": 1024,
    "upload_url": "https://data.aliyunpds.com/xxx/xxx?Expires=xxx&OSSAccessKeyId=xxx&Signature=xxx&partNumber=1&uploadId=0CC175B9C0F1B6A831C399E269772661",
    "internal_upload_url": "https://data-vpc.aliyunpds.com/xxx/xxx?Expires=xxx&OSSAccessKeyId=xxx&Signature=xxx&partNumber=1&uploadId=0CC175B9C0F1B6A831C399E269772661",
    "etag": "\\"0CC175B9C0F1B6A831C399E269772661\\"",
    "parallel_sha1_ctx": {
    "h": [
    0
    ],
    "part_offset": 10240
    },
    "upload_form_info": {
    "bucket_name": "",
    "oss_end_point": "",
    "object_key": "",
    "oss_access_key_id": "",
    "oss_security_token": "",
    "policy": "",
    "signature": ""
    },
    "internal_upload_form_info": {
    "bucket_name": "",
    "oss_end_point": "",
    "object_key": "",
    "oss_access_key_id": "",
    "oss_security_token": "",
    "policy": "",
    "signature": ""
    },
    "signature_info": {
    "auth_type": "",
    "signature": "",
    "sts_token": ""
    },
    "parallel_sha256_ctx": {
    "h": [
    0
    ],
    "part_offset": 0
    }
    }
    ],
    "next_part_number_marker": "NWQ1Yjk4YmI1ZDRlYmU1Y2E0YWE0NmJhYWJmODBhNDQ2NzhlMTRhMg",
    "parallel_upload": false
    }
    """

  static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

  @Test func theSeedSampleFieldByField() throws {
    let page = try PDSDecoder.decodeParts(Self.bytes(Self.seedSample))
    #expect(page.fileID == "322fb07b975f4b0ae1b543fe8475eee4c19eb2b2")
    #expect(page.uploadID == "00166D06127B413BA1EC8ABB1144D101")
    #expect(page.parts == [Part(number: 1, size: 1024, lastModified: nil)])
    #expect(page.nextMarker == .string("NWQ1Yjk4YmI1ZDRlYmU1Y2E0YWE0NmJhYWJmODBhNDQ2NzhlMTRhMg"))
    #expect(page.parallelUpload == false)
    // The marker goes back exactly as received, as a JSON string.
    let encoded = try #require(page.nextMarker.map(PartMarkerCodec.encode))
    let body = PDSField.object([("part_number_marker", PartMarkerCodec.field(encoded))])
    #expect(
      String(decoding: body, as: UTF8.self)
        == #"{"part_number_marker":"NWQ1Yjk4YmI1ZDRlYmU1Y2E0YWE0NmJhYWJmODBhNDQ2NzhlMTRhMg"}"#)
  }

  @Test func theLastPageAndNumericMarkers() throws {
    for end in [#""next_part_number_marker":"""#, #""next_part_number_marker":null"#, #""x":1"#] {
      let page = try PDSDecoder.decodeParts(Self.bytes(#"{"upload_id":"u","uploaded_parts":[],"# + end + "}"))
      #expect(page.nextMarker == nil, "\(end)")
      #expect(page.parts.isEmpty)
    }
    let numeric = try PDSDecoder.decodeParts(
      Self.bytes(#"{"uploaded_parts":[{"part_number":"7","part_size":"5"}],"next_part_number_marker":7}"#))
    #expect(numeric.nextMarker == .number(7))
    #expect(numeric.parts == [Part(number: 7, size: 5, lastModified: nil)])
    let body = PDSField.object([("m", PartMarkerCodec.field(PartMarkerCodec.encode(.number(7))))])
    #expect(String(decoding: body, as: UTF8.self) == #"{"m":7}"#)
    // A string that happens to be digits stays a string.
    let digits = PDSField.object([("m", PartMarkerCodec.field(PartMarkerCodec.encode(.string("12"))))])
    #expect(String(decoding: digits, as: UTF8.self) == #"{"m":"12"}"#)
  }

  @Test(
    "parts pages that cannot be counted are refused",
    arguments: [
      #"{"uploaded_parts":[{"part_number":1}],"upload_id":"u"}"#,
      #"{"uploaded_parts":[{"part_number":1,"part_size":-1}]}"#,
      #"{"uploaded_parts":[{"part_number":1,"part_size":1e300}]}"#,
      #"{"uploaded_parts":[{"part_number":1,"part_size":"big"}]}"#,
      #"{"uploaded_parts":[{"part_number":99999999999,"part_size":1}]}"#,
      #"{"uploaded_parts":[17]}"#,
      #"{"uploaded_parts":{"part_number":1,"part_size":1}}"#,
      #"{"uploaded_parts":[],"next_part_number_marker":{"a":1}}"#,
      #"{"next_part_number_marker":1e300}"#,
      #"{}"#,
      #"[]"#,
      #"<Error/>"#,
      #"{"uploaded_parts":[{"part_number":1,"part_size":1}"#,
      "",
    ])
  func partsFailures(_ body: String) {
    #expect(throws: PDSDecoder.Failure.self) { try PDSDecoder.decodeParts(Self.bytes(body)) }
  }

  @Test func aListPageWithEveryField() throws {
    let body = """
      {"items":[
        {"drive_id":"1","file_id":"f1","parent_file_id":"root","name":"a b.mov","type":"file","status":"uploading",
         "size":"10485760","upload_id":"U1","created_at":"2019-08-20T06:51:27.292Z","updated_at":"2019-08-21T00:00:00Z"},
        {"file_id":"d1","name":"照片","type":"folder","status":"available","created_at":"2019-08-20T06:51:27Z"},
        {"file_id":"f2","name":"no-update","type":"file","status":"uploading","upload_id":"U2",
         "created_at":"2019-08-20T06:51:27.292Z"},
        {"file_id":"f3","name":"bad","type":"file","status":"uploading","upload_id":"U3",
         "created_at":"yesterday","updated_at":12},
        "not an item"
      ],"next_marker":"bWFya2Vy"}
      """
    let page = try PDSDecoder.decodeList(Self.bytes(body))
    #expect(page.items.count == 4)
    #expect(page.unreadable == ["file/list items[4] is not an object"])
    #expect(page.nextMarker == "bWFya2Vy")
    let first = page.items[0]
    #expect(first.fileID == "f1")
    #expect(first.name == "a b.mov")
    #expect(first.type == "file")
    #expect(first.status == "uploading")
    #expect(first.uploadID == "U1")
    #expect(first.driveID == "1")
    #expect(first.parentFileID == "root")
    #expect(first.size == 10_485_760)
    #expect(first.createdAt == .date(Date(timeIntervalSince1970: 1_566_283_887.292)))
    #expect(first.updatedAt == .date(Date(timeIntervalSince1970: 1_566_345_600)))
    #expect(page.items[1].type == "folder")
    #expect(page.items[1].name == "照片")
    #expect(page.items[2].updatedAt == .absent)
    #expect(page.items[3].createdAt == .unreadable("yesterday"))
    #expect(page.items[3].updatedAt == .unreadable("not a string"))
  }

  @Test func emptyFoldersAndTheEnd() throws {
    #expect(try PDSDecoder.decodeList(Self.bytes(#"{"items":[],"next_marker":""}"#)).nextMarker == nil)
    #expect(try PDSDecoder.decodeList(Self.bytes(#"{"items":[]}"#)).items.isEmpty)
    // Go's omitempty may drop an empty items array, but then next_marker still marks a listing.
    #expect(try PDSDecoder.decodeList(Self.bytes(#"{"next_marker":""}"#)).items.isEmpty)
  }

  @Test(
    "list bodies that are not listings are refused",
    arguments: [
      #"{}"#, #"{"Items":"x","next_marker":""}"#, #"{"items":[],"next_marker":[1]}"#, #"[{"items":[]}]"#,
      #"{"code":"NotFound.Drive"}"#, #"{"items":[{"#, "\u{FEFF}", "null",
    ])
  func listFailures(_ body: String) {
    #expect(throws: PDSDecoder.Failure.self) { try PDSDecoder.decodeList(Self.bytes(body)) }
  }

  @Test func nestingIsBoundedOutsideStringsOnly() throws {
    let deep = #"{"items":"# + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "}"
    let error = #expect(throws: PDSDecoder.Failure.self) { try PDSDecoder.decodeList(Self.bytes(deep)) }
    #expect(error?.description == "file/list body refused: JSON nested more than 64 levels deep")
    // Brackets inside a string (an opaque marker, a name) are not nesting.
    let quoted = #"{"items":[],"next_marker":""# + String(repeating: "[{", count: 100) + #""}"#
    #expect(try PDSDecoder.decodeList(Self.bytes(quoted)).nextMarker?.hasPrefix("[{[{") == true)
    let escaped = #"{"items":[],"next_marker":"\"["# + String(repeating: "[", count: 100) + #""}"#
    #expect(try PDSDecoder.decodeList(Self.bytes(escaped)).nextMarker?.hasPrefix(#""[["#) == true)
  }

  @Test func errorBodiesInBothSpellings() {
    let lower = ErrorBody.parse(Self.bytes(#"{"code":"NotFound.UploadId","message":"gone","request_id":"r-1"}"#))
    let upper = ErrorBody.parse(Self.bytes(#"{"Code":"NotFound.UploadId","Message":"gone","RequestId":"r-1"}"#))
    #expect(lower == ErrorBody(code: "NotFound.UploadId", message: "gone", requestID: "r-1"))
    #expect(upper == lower)
  }

  @Test func signedURLsAndTokensAreScrubbedFromServerMessages() {
    let message =
      #"part 1: PUT "https://data.aliyunpds.com/x/y?Expires=1&OSSAccessKeyId=AK&Signature=abc%2B" refused for token tok-123"#
    let scrubbed = Redaction.scrub(message, secrets: ["tok-123"])
    #expect(scrubbed == #"part 1: PUT "https://data.aliyunpds.com/x/y?[redacted]" refused for token [redacted]"#)
    #expect(Redaction.scrub("why? see http://a/b c", secrets: []) == "why? see http://a/b c")
    #expect(
      Redaction.scrub("two https://a/?s=1 and https://b/?t=2", secrets: [])
        == "two https://a/?[redacted] and https://b/?[redacted]")
  }
}

@Suite("PDS walk scope and recheck")
struct PDSScopeTests {
  @Test func nilReachesEverything() {
    let scope = PDSScope(prefixes: nil, required: "")
    #expect(scope.wantsFiles(in: ""))
    #expect(scope.wantsSubfolders(of: "a/b/"))
    #expect(scope.wantsFolder("x/y/z/"))
  }

  @Test func noRulesListTheRootOnly() {
    let scope = PDSScope(prefixes: [], required: "")
    #expect(!scope.wantsFiles(in: ""))
    #expect(!scope.wantsSubfolders(of: ""))
    #expect(!scope.wantsFolder("a/"))
  }

  @Test func aPrefixEndingInAFolder() {
    let scope = PDSScope(prefixes: ["相册/2026/"], required: "")
    #expect(!scope.wantsFiles(in: ""))
    #expect(scope.wantsSubfolders(of: ""))
    #expect(scope.wantsFolder("相册/"))
    #expect(!scope.wantsFiles(in: "相册/"))
    #expect(scope.wantsFolder("相册/2026/"))
    #expect(scope.wantsFiles(in: "相册/2026/"))
    #expect(scope.wantsFolder("相册/2026/春节 视频/"))
    #expect(!scope.wantsFolder("相册/2025/"))
    #expect(!scope.wantsFolder("backups/"))
  }

  @Test func aPrefixEndingInsideAName() {
    let scope = PDSScope(prefixes: ["photos/20", "tmp"], required: "")
    #expect(scope.wantsFiles(in: ""))  // "tmp.bin" at the root matches "tmp"
    #expect(scope.wantsFolder("tmp/"))
    #expect(scope.wantsFolder("tmpfiles/"))
    #expect(scope.wantsFolder("photos/"))
    #expect(scope.wantsFiles(in: "photos/"))  // "photos/2024.jpg"
    #expect(scope.wantsFolder("photos/2024/"))
    #expect(!scope.wantsFolder("photos/19/"))
    #expect(!scope.wantsFolder("videos/"))
    // Ending inside a name, a prefix reaches the subfolders whose names continue it.
    let inside = PDSScope(prefixes: ["a/第"], required: "")
    #expect(inside.wantsFiles(in: "a/"))
    #expect(inside.wantsSubfolders(of: "a/"))
    #expect(inside.wantsFolder("a/第 3 天/"))
    #expect(!inside.wantsFolder("a/其他/"))
  }

  @Test func theEmptyPrefixReachesEverything() {
    let scope = PDSScope(prefixes: ["a/", ""], required: "")
    #expect(scope.wantsFolder("z/"))
    #expect(scope.wantsFiles(in: "z/y/"))
  }

  @Test func theCallersPrefixNarrowsTheRules() {
    let scope = PDSScope(prefixes: nil, required: "a/b/")
    #expect(scope.wantsFolder("a/"))
    #expect(!scope.wantsFiles(in: "a/"))
    #expect(!scope.wantsFolder("c/"))
    #expect(scope.admits(key: "a/b/x"))
    #expect(!scope.admits(key: "a/x"))
  }

  static let listed = Upload(
    target: "t", bucket: "1", key: "a/b.bin", uploadID: "U1", initiated: Date(timeIntervalSince1970: 1000),
    handle: "F1", lastActivity: Activity(date: Date(timeIntervalSince1970: 2000.123), source: "updated_at"))

  static func file(
    status: String? = "uploading", uploadID: String? = "U1",
    updated: PDSDecoder.Stamp = .date(Date(timeIntervalSince1970: 2000.123)),
    fileID: String? = "F1", type: String? = "file"
  ) -> PDSDecoder.Item {
    PDSDecoder.Item(
      fileID: fileID, name: "b.bin", type: type, status: status, uploadID: uploadID,
      createdAt: .date(Date(timeIntervalSince1970: 1000)), updatedAt: updated)
  }

  @Test func theRecheckDeletesOnlyTheSameUntouchedUpload() {
    #expect(PDSProvider.verdict(on: Self.file(), listed: Self.listed, fileID: "F1") == nil)
    #expect(PDSProvider.verdict(on: Self.file(status: "available"), listed: Self.listed, fileID: "F1") == .gone)
    #expect(PDSProvider.verdict(on: Self.file(uploadID: "U2"), listed: Self.listed, fileID: "F1") == .gone)
    let later = PDSProvider.verdict(
      on: Self.file(updated: .date(Date(timeIntervalSince1970: 2001))), listed: Self.listed, fileID: "F1")
    guard case .changed(let reason)? = later else {
      Issue.record("a newer updated_at must not be deleted: \(String(describing: later))")
      return
    }
    #expect(reason.contains("written to since it was listed"))
    for changed in [
      Self.file(updated: .absent), Self.file(updated: .unreadable("x")), Self.file(status: nil),
      Self.file(fileID: "F2"), Self.file(type: "folder"),
    ] {
      let verdict = PDSProvider.verdict(on: changed, listed: Self.listed, fileID: "F1")
      #expect(verdict != nil && verdict != .aborted, "\(changed)")
    }
    // Listed without updated_at (idle measured from created_at): deleted only if it is still without one.
    var bare = Self.listed
    bare.lastActivity = Activity(date: bare.initiated, source: "created_at")
    #expect(PDSProvider.verdict(on: Self.file(updated: .absent), listed: bare, fileID: "F1") == nil)
    #expect(PDSProvider.verdict(on: Self.file(), listed: bare, fileID: "F1") != nil)
  }
}
