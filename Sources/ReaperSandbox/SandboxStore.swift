import Foundation
import ReaperCore
import ReaperProviders
import Synchronization

public struct SandboxRequest: Sendable {
  public var method: String
  /// Path and query as sent, still percent-encoded.
  public var uri: String
  public var headers: [(String, String)]
  public var body: [UInt8]

  public init(method: String, uri: String, headers: [(String, String)], body: [UInt8] = []) {
    self.method = method
    self.uri = uri
    self.headers = headers
    self.body = body
  }

  func header(_ name: String) -> String? {
    headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
  }
}

public struct SandboxResponse: Sendable {
  public enum Delivery: Sendable, Equatable {
    case normal
    /// Write part of the body, then drop the connection.
    case resetMidBody
    /// Never answer.
    case hang
  }

  public var status: Int
  public var headers: [(String, String)]
  public var body: [UInt8]
  public var delivery: Delivery = .normal
  public var delayMilliseconds = 0
}

/// The sandbox's in-memory world and its request handling, apart from the network so tests can drive it.
public final class SandboxStore: Sendable {
  struct State: Sendable {
    var buckets: [String: SandboxBucket]
    var credentials: [String: String]
    /// PDS Bearer tokens the sandbox accepts.
    var accessTokens: Set<String>
    var faults = SandboxFaults()
    var aborted: [SandboxAbort] = []
    var log = SandboxRequestLog()
    /// Every upload ever served, so a marker naming an upload aborted since still says where to resume.
    var known: [String: SandboxUpload] = [:]
    var requestCounter = 0
    var random = SystemRandomNumberGenerator()
    var hostility = SandboxHostility()
    /// Parts replies served per upload id, for lies that change between calls.
    var partsReplies: [String: Int] = [:]
  }

  private let state: Mutex<State>
  let clock: @Sendable () -> Date

  /// - Parameters:
  ///   - credentials: access key id → secret key.
  ///   - accessTokens: the Bearer tokens the PDS dialect accepts.
  public init(
    buckets: [SandboxBucket], credentials: [String: String], accessTokens: [String] = [],
    clock: @escaping @Sendable () -> Date = { Date() }
  ) {
    var known: [String: SandboxUpload] = [:]
    for bucket in buckets { for upload in bucket.uploads { known[upload.uploadID] = upload } }
    state = Mutex(
      State(
        buckets: Dictionary(buckets.map { ($0.name, $0) }, uniquingKeysWith: { $1 }), credentials: credentials,
        accessTokens: Set(accessTokens), known: known))
    self.clock = clock
  }

  // MARK: what tests and the control endpoint read and change

  public var faults: SandboxFaults {
    get { state.withLock { $0.faults } }
    set { state.withLock { $0.faults = newValue } }
  }

  public func updateFaults(_ change: (inout SandboxFaults) -> Void) {
    state.withLock { change(&$0.faults) }
  }

  public var hostility: SandboxHostility {
    get { state.withLock { $0.hostility } }
    set { state.withLock { $0.hostility = newValue } }
  }

  /// Adds a bucket (or drive) with its uploads and files, replacing one of the same name.
  public func add(_ bucket: SandboxBucket) {
    state.withLock { state in
      state.buckets[bucket.name] = bucket
      for upload in bucket.uploads { state.known[upload.uploadID] = upload }
    }
  }

  public var aborted: [SandboxAbort] { state.withLock { $0.aborted } }
  public var requestLog: SandboxRequestLog { state.withLock { $0.log } }
  public func clearRequestLog() { state.withLock { $0.log = SandboxRequestLog() } }
  public var lastSignedHeaders: [String] { state.withLock { $0.log.lastSignedHeaders } }
  public var bucketNames: [String] { state.withLock { $0.buckets.keys.sorted() } }

  public func uploads(in bucket: String) -> [SandboxUpload] {
    state.withLock { $0.buckets[bucket]?.uploads ?? [] }
  }

  /// The finished files of a drive.
  public func files(in bucket: String) -> [SandboxFile] {
    state.withLock { $0.buckets[bucket]?.files ?? [] }
  }

  /// Replaces the Bearer tokens the PDS dialect accepts, as a token service rotating them would.
  public func setAccessTokens(_ tokens: [String]) {
    state.withLock { $0.accessTokens = Set(tokens) }
  }

  public func setPDSQuirks(_ quirks: PDSQuirks, for bucket: String) {
    state.withLock { $0.buckets[bucket]?.pds = quirks }
  }

  public func setQuirks(_ quirks: CDCSQuirks, for bucket: String) {
    state.withLock { $0.buckets[bucket]?.quirks = quirks }
  }

  /// Adds or replaces uploads, as a client starting uploads would.
  public func put(_ uploads: [SandboxUpload], in bucket: String) {
    state.withLock { state in
      var target = state.buckets[bucket] ?? SandboxBucket(name: bucket, uploads: [])
      for upload in uploads {
        target.uploads.removeAll { $0.uploadID == upload.uploadID }
        target.uploads.append(upload)
        state.known[upload.uploadID] = upload
      }
      target.uploads.sort(by: SandboxUpload.precedes)
      state.buckets[bucket] = target
    }
  }

  /// Completes an upload, as its client would: it leaves the in-progress list without being aborted, and
  /// (seen through PDS) its file stays, finished.
  public func complete(uploadID: String, in bucket: String) {
    state.withLock { Self.complete(uploadID: uploadID, in: bucket, at: clock(), state: &$0) }
  }

  static func complete(uploadID: String, in bucket: String, at now: Date, state: inout State) {
    guard let index = state.buckets[bucket]?.uploads.firstIndex(where: { $0.uploadID == uploadID }),
      let upload = state.buckets[bucket]?.uploads.remove(at: index)
    else { return }
    state.buckets[bucket]?.files.append(
      SandboxFile(
        key: upload.key, fileID: upload.fileID, size: upload.parts.reduce(0) { $0 + $1.size },
        created: upload.initiated,
        updated: max(now, upload.updated)))
  }

  // MARK: requests

  public func handle(_ request: SandboxRequest) -> SandboxResponse {
    let (path, query) = Self.split(request.uri)
    if path.hasPrefix("/_sandbox/") { return control(path: path, request: request) }
    return state.withLock { state in
      state.log.total += 1
      state.requestCounter += 1
      state.log.record(request)
      var response =
        path.hasPrefix("/v2/")
        ? servePDS(request, path: path, state: &state) : serve(request, path: path, query: query, state: &state)
      lieAboutTheDate(&response, state: state)
      response.delayMilliseconds = state.faults.latencyMilliseconds
      if state.faults.hang { response.delivery = .hang }
      return response
    }
  }

  private func serve(
    _ request: SandboxRequest, path: String, query: [(String, String)], state: inout State
  ) -> SandboxResponse {
    let requestID = String(format: "sandbox-%08d", state.requestCounter)
    guard let decodedPath = URLEncoding.decode(path, plusIsSpace: false) else {
      return error(400, "InvalidURI", "the path has a malformed %-escape", requestID: requestID, xml: false)
    }
    let trimmed = decodedPath.drop { $0 == "/" }
    let bucketName = String(trimmed.prefix { $0 != "/" })
    let key = trimmed.count > bucketName.count ? String(trimmed.dropFirst(bucketName.count + 1)) : nil
    let asXML = state.buckets[bucketName]?.quirks.errorsAsXML ?? false
    let speaksS3 = request.header("Authorization")?.hasPrefix("AWS4-HMAC-SHA256 ") ?? false
    func fail(_ status: Int, _ code: String, _ message: String) -> SandboxResponse {
      speaksS3
        ? s3Error(status, code, message, requestID: requestID)
        : error(status, code, message, requestID: requestID, xml: asXML)
    }

    if let injected = injectedFault(&state, throttleCode: "SlowDown", fail: fail) { return injected }

    guard let authorization = request.header("Authorization") else {
      return fail(403, "AccessDenied", "missing Authorization")
    }
    if authorization.hasPrefix("AWS4-HMAC-SHA256 ") {
      return serveS3(
        request, authorization: authorization, path: decodedPath, bucketName: bucketName, key: key, query: query,
        requestID: requestID, state: &state)
    }
    guard authorization.hasPrefix("q-sign-algorithm=") else {
      return fail(403, "AccessDenied", "unsupported Authorization scheme")
    }
    if let problem = verify(request, authorization: authorization, path: decodedPath, query: query, state: state) {
      state.log.rejectedSignatures += 1
      return fail(403, problem.code, problem.message)
    }
    let contentType = state.buckets[bucketName]?.quirks.contentType ?? "application/json"
    let dialect = Dialect(
      fail: fail,
      listUploads: { bucket, parameters, state in
        self.listUploads(bucket, parameters: parameters, state: &state, requestID: requestID)
      },
      listParts: { bucket, upload, parameters, state in
        self.listParts(bucket, upload: upload, parameters: parameters, state: &state)
      },
      headers: commonHeaders(requestID: requestID, contentType: contentType))
    return route(request, bucketName: bucketName, key: key, query: query, dialect: dialect, state: &state)
  }

  /// Faults come before everything but routing, as a struggling front end would answer, in every dialect.
  func injectedFault(
    _ state: inout State, throttleCode: String, fail: (Int, String, String) -> SandboxResponse
  ) -> SandboxResponse? {
    if state.faults.failNext > 0 {
      state.faults.failNext -= 1
      return fail(503, "ServiceUnavailable", "injected: service unavailable")
    }
    if state.faults.throttleNext > 0 {
      state.faults.throttleNext -= 1
      var response = fail(429, throttleCode, "injected: slow down")
      response.headers.append(("Retry-After", "1"))
      return response
    }
    if state.faults.errorRate > 0, Double.random(in: 0..<1, using: &state.random) < state.faults.errorRate {
      return fail(503, "ServiceUnavailable", "injected: random failure")
    }
    if state.hostility.lies.contains(.slowDown),
      (UInt64(state.requestCounter) &+ state.hostility.seed) % UInt64(max(2, state.hostility.slowDownEvery)) == 0
    {
      return fail(503, "SlowDown", "hostile: one request in \(state.hostility.slowDownEvery) slowed down")
    }
    return nil
  }

  /// What differs between the CDCS and S3 dialects; the routing, counting and faults around it are shared.
  private struct Dialect {
    let fail: (Int, String, String) -> SandboxResponse
    let listUploads: (SandboxBucket, [String: String], inout State) -> SandboxResponse
    let listParts: (SandboxBucket, SandboxUpload, [String: String], inout State) -> SandboxResponse
    let headers: [(String, String)]
  }

  private func route(
    _ request: SandboxRequest, bucketName: String, key: String?, query: [(String, String)], dialect: Dialect,
    state: inout State
  ) -> SandboxResponse {
    if state.faults.denyBuckets.contains(bucketName) {
      return dialect.fail(403, "AccessDenied", "access to \(bucketName) is denied")
    }
    guard state.buckets[bucketName] != nil else {
      return dialect.fail(404, "NoSuchBucket", "the bucket \(bucketName) does not exist")
    }
    let parameters = Dictionary(query, uniquingKeysWith: { first, _ in first })
    // No copy of the bucket outlives a statement: an abort below changes it in place, and a second reference
    // to a million uploads would copy them all.
    func located(_ uploadID: String, _ key: String) -> Int? {
      state.buckets[bucketName]?.index(of: uploadID, key: key, hint: state.known[uploadID])
    }
    var response: SandboxResponse
    switch (request.method, key, parameters["uploadId"]) {
    case ("GET", nil, _) where parameters["uploads"] != nil:
      state.log.listUploads += 1
      state.log.listParameterNames.formUnion(parameters.keys)
      response = dialect.listUploads(state.buckets[bucketName]!, parameters, &state)
      if response.status == 200, state.faults.truncateNext > 0 {
        state.faults.truncateNext -= 1
        response.body = Array(response.body.prefix(response.body.count / 2))
      }
    case ("GET", .some(let key), .some(let uploadID)):
      state.log.listParts += 1
      // Ceph answers NoSuchKey here; AWS and CDCS NoSuchUpload. The sandbox follows the documents.
      guard let index = located(uploadID, key), let bucket = state.buckets[bucketName] else {
        return dialect.fail(404, "NoSuchUpload", "the upload does not exist; it may have been completed or aborted")
      }
      response = dialect.listParts(bucket, bucket.uploads[index], parameters, &state)
    case ("DELETE", .some(let key), .some(let uploadID)):
      state.log.aborts += 1
      guard let index = located(uploadID, key) else {
        return dialect.fail(404, "NoSuchUpload", "the upload does not exist; it may have been completed or aborted")
      }
      state.buckets[bucketName]?.uploads.remove(at: index)
      state.aborted.append(SandboxAbort(bucket: bucketName, key: key, uploadID: uploadID))
      response = SandboxResponse(status: 204, headers: [], body: [])
    default:
      return dialect.fail(400, "InvalidRequest", "the sandbox does not serve \(request.method) \(request.uri)")
    }
    if state.faults.resetNext > 0, !response.body.isEmpty {
      state.faults.resetNext -= 1
      response.delivery = .resetMidBody
    }
    response.headers += dialect.headers
    return response
  }

  private func listUploads(
    _ bucket: SandboxBucket, parameters: [String: String], state: inout State, requestID: String
  ) -> SandboxResponse {
    let quirks = bucket.quirks
    let maxUploads: Int
    if let text = parameters["max-uploads"] {
      guard let value = Int(text), (1...1000).contains(value) else {
        return error(
          400, "InvalidArgument", "max-uploads must be an integer from 1 to 1000", requestID: requestID,
          xml: quirks.errorsAsXML)
      }
      maxUploads = value
    } else {
      maxUploads = 1000
    }
    let encoding = parameters["encoding-type"]
    if let encoding, encoding != "url" {
      return error(400, "InvalidArgument", "encoding-type must be url", requestID: requestID, xml: quirks.errorsAsXML)
    }
    let prefix = parameters["prefix"] ?? ""
    var marker = parameters["upload-id-marker"]
    if marker != nil, state.faults.repeatFirstPageNext > 0 {
      state.faults.repeatFirstPageNext -= 1
      marker = nil
    }
    var start = bucket.firstIndex(keyAtLeast: prefix)
    if let marker {
      if let after = state.known[marker] {
        start = max(start, bucket.firstIndex(after: after))
      } else {
        // An object-key marker, as the docs describe it: resume after every upload of that key.
        start = max(start, bucket.firstIndex(keyAbove: marker))
      }
    }
    let limit = min(maxUploads, quirks.pageLimit ?? maxUploads)
    let (page, more) = bucket.page(from: start, prefix: prefix, limit: limit)
    var truncated = more
    var next = truncated ? (page.last?.uploadID ?? "") : ""
    if truncated, state.faults.stallMarkers, let marker = parameters["upload-id-marker"] { next = marker }
    if let first = state.hostility.markerBackwards(page, truncated: truncated) {
      (truncated, next) = (true, first.uploadID)
    }
    // The next marker is always the page's last upload: remember where it was, even once it is gone.
    if let last = page.last { state.known[last.uploadID] = last }

    let urlEncoded = encoding == "url"
    func encode(_ text: String) -> String { urlEncoded ? URLEncoding.formEncode(text) : text }
    let coffer = wireBucket(bucket.name, page: page, state: &state)
    var json = "{\"Coffer\":\(JSONString.literal(coffer))"
    if !quirks.encodingUnsaid { json += ",\"EncodingType\":\(JSONString.literal(encoding ?? ""))" }
    json += ",\"UploadIdMarker\":\(JSONString.literal(encode(parameters["upload-id-marker"] ?? "")))"
    json += ",\"IsTruncated\":" + (quirks.truncatedAsString ? "\"\(truncated)\"" : "\(truncated)")
    json += ",\"NextUploadIdMarker\":\(JSONString.literal(encode(next)))"
    json += ",\"Prefix\":\(JSONString.literal(encode(prefix)))"
    json += ",\"MaxUploads\":" + (quirks.maxUploadsAsString ? "\"\(maxUploads)\"" : "\(maxUploads)")
    let records = wireListing(page, dialect: .cdcs, state: &state).map {
      Self.cdcsRecord($0, quirks: quirks, encode: encode)
    }
    if quirks.singleUploadAsObject, records.count == 1 {
      json += ",\"Upload\":\(records[0])}"
    } else {
      json += ",\"Upload\":[\(records.joined(separator: ","))]}"
    }
    return SandboxResponse(status: 200, headers: [], body: Array(json.utf8))
  }

  private func listParts(
    _ bucket: SandboxBucket, upload: SandboxUpload, parameters: [String: String], state: inout State
  )
    -> SandboxResponse
  {
    let maxParts = min(1000, max(1, Int(parameters["max-parts"] ?? parameters["max-count"] ?? "1000") ?? 1000))
    let after = Int(parameters["part-number-marker"] ?? parameters["marker"] ?? "0") ?? 0
    let remaining = upload.parts.sorted { $0.number < $1.number }.filter { $0.number > after }
    let page = remaining.prefix(maxParts)
    let truncated = remaining.count > page.count
    let next = page.last.map { "\($0.number)" } ?? ""
    let wire = wireParts(of: upload, page: page, bucket: bucket.name, state: &state)
    if bucket.quirks.partsAsXML {
      var xml =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListPartsResult><Bucket>\(XMLText.escape(wire.bucket))</Bucket>"
      xml += "<Key>\(XMLText.escape(wire.key))</Key><UploadId>\(XMLText.escape(wire.uploadID))</UploadId>"
      xml += "<MaxParts>\(maxParts)</MaxParts><IsTruncated>\(truncated)</IsTruncated><NextMarker>\(next)</NextMarker>"
      for part in wire.parts {
        xml += "<Part><PartNumber>\(part.number)</PartNumber>"
        xml += Self.xmlField("LastModified", part.lastModified, Timestamp.formatRFC3339)
        xml += "<ETag>\"\(Self.etag(part))\"</ETag><Size>\(part.size)</Size></Part>"
      }
      xml += "</ListPartsResult>"
      return SandboxResponse(status: 200, headers: [], body: Array(xml.utf8))
    }
    var json =
      "{\"Coffer\":\(JSONString.literal(wire.bucket)),\"Key\":\(JSONString.literal(wire.key)),\"UploadId\":\(JSONString.literal(wire.uploadID))"
    json += ",\"PartNumberMarker\":\"\(after)\",\"NextPartNumberMarker\":\"\(next)\",\"MaxParts\":\"\(maxParts)\""
    json += ",\"IsTruncated\":\"\(truncated)\",\"Part\":["
    json += wire.parts.map { part in
      "{\"PartNumber\":\"\(part.number)\"," + Self.jsonField("LastModified", part.lastModified, Timestamp.formatRFC3339)
        + "\"ETag\":\"\\\"\(Self.etag(part))\\\"\",\"Size\":\"\(part.size)\"}"
    }.joined(separator: ",")
    json += "]}"
    return SandboxResponse(status: 200, headers: [], body: Array(json.utf8))
  }

  static func etag(_ part: SandboxPart) -> String {
    String(format: "%016llx%016llx", UInt64(part.number) &* 0x9E37_79B9_7F4A_7C15, UInt64(bitPattern: part.size))
  }

  // MARK: the S3 dialect (path-style), from the same buckets

  private func serveS3(
    _ request: SandboxRequest, authorization: String, path: String, bucketName: String, key: String?,
    query: [(String, String)], requestID: String, state: inout State
  ) -> SandboxResponse {
    func fail(_ status: Int, _ code: String, _ message: String) -> SandboxResponse {
      s3Error(status, code, message, requestID: requestID)
    }
    if let problem = verifyS3(request, authorization: authorization, path: path, query: query, state: state) {
      state.log.rejectedSignatures += 1
      return fail(403, problem.code, problem.message)
    }
    state.log.lastSignedHeaders = SigV4Signer.parseAuthorization(authorization)?.signedHeaders ?? []
    let dialect = Dialect(
      fail: fail,
      listUploads: { bucket, parameters, state in
        self.listUploadsS3(bucket, parameters: parameters, state: &state, requestID: requestID)
      },
      listParts: { bucket, upload, parameters, state in
        self.listPartsS3(bucket, upload: upload, parameters: parameters, state: &state)
      },
      headers: s3Headers(requestID: requestID))
    return route(request, bucketName: bucketName, key: key, query: query, dialect: dialect, state: &state)
  }

  private func listUploadsS3(
    _ bucket: SandboxBucket, parameters: [String: String], state: inout State, requestID: String
  ) -> SandboxResponse {
    let maxUploads = min(1000, max(1, Int(parameters["max-uploads"] ?? "1000") ?? 1000))
    let encoding = parameters["encoding-type"]
    let prefix = parameters["prefix"] ?? ""
    var keyMarker = parameters["key-marker"]
    var uploadIDMarker = parameters["upload-id-marker"]
    if keyMarker != nil, state.faults.repeatFirstPageNext > 0 {
      state.faults.repeatFirstPageNext -= 1
      keyMarker = nil
      uploadIDMarker = nil
    }
    var start = bucket.firstIndex(keyAtLeast: prefix)
    if let keyMarker {
      if let uploadIDMarker, let after = state.known[uploadIDMarker], after.key == keyMarker {
        start = max(start, bucket.firstIndex(after: after))
      } else {
        // key-marker alone: the uploads of later keys only, as AWS documents.
        start = max(start, bucket.firstIndex(keyAbove: keyMarker))
      }
    }
    let limit = min(maxUploads, bucket.quirks.pageLimit ?? maxUploads)
    let (page, more) = bucket.page(from: start, prefix: prefix, limit: limit)
    var truncated = more
    var nextKey = truncated ? page.last?.key ?? "" : ""
    var nextID = truncated ? page.last?.uploadID ?? "" : ""
    if let first = state.hostility.markerBackwards(page, truncated: truncated) {
      (truncated, nextKey, nextID) = (true, first.key, first.uploadID)
    }
    if truncated, state.faults.stallMarkers, let keyMarker, let uploadIDMarker {
      nextKey = keyMarker
      nextID = uploadIDMarker
    }
    if let last = page.last { state.known[last.uploadID] = last }
    let urlEncoded = encoding == "url"
    func field(_ text: String) -> String { XMLText.escape(urlEncoded ? URLEncoding.formEncode(text) : text) }
    var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
    xml += "<ListMultipartUploadsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    let echoed = wireBucket(bucket.name, page: page, state: &state)
    xml += "<Bucket>\(XMLText.escape(echoed))</Bucket><KeyMarker>\(field(keyMarker ?? ""))</KeyMarker>"
    xml += "<UploadIdMarker>\(XMLText.escape(uploadIDMarker ?? ""))</UploadIdMarker>"
    xml +=
      "<NextKeyMarker>\(field(nextKey))</NextKeyMarker><NextUploadIdMarker>\(XMLText.escape(nextID))</NextUploadIdMarker>"
    if urlEncoded, !bucket.quirks.encodingUnsaid { xml += "<EncodingType>url</EncodingType>" }
    xml +=
      "<MaxUploads>\(maxUploads)</MaxUploads><IsTruncated>\(truncated)</IsTruncated><Prefix>\(field(prefix))</Prefix>"
    for upload in wireListing(page, dialect: .s3, state: &state) {
      xml += "<Upload><Key>\(field(upload.key))</Key><UploadId>\(XMLText.escape(upload.uploadID))</UploadId>"
      xml += "<Initiator><ID>sandbox</ID><DisplayName>sandbox</DisplayName></Initiator>"
      xml += "<Owner><ID>sandbox</ID><DisplayName>sandbox</DisplayName></Owner><StorageClass>STANDARD</StorageClass>"
      xml += Self.xmlField("Initiated", upload.initiated, Self.iso8601Milliseconds) + "</Upload>"
    }
    xml += "</ListMultipartUploadsResult>"
    return SandboxResponse(status: 200, headers: [], body: Array(xml.utf8))
  }

  private func listPartsS3(
    _ bucket: SandboxBucket, upload: SandboxUpload, parameters: [String: String], state: inout State
  )
    -> SandboxResponse
  {
    let maxParts = min(1000, max(1, Int(parameters["max-parts"] ?? "1000") ?? 1000))
    let after = Int(parameters["part-number-marker"] ?? "0") ?? 0
    let remaining = upload.parts.sorted { $0.number < $1.number }.filter { $0.number > after }
    let page = remaining.prefix(maxParts)
    let truncated = remaining.count > page.count
    let wire = wireParts(of: upload, page: page, bucket: bucket.name, state: &state)
    var xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListPartsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    xml += "<Bucket>\(XMLText.escape(wire.bucket))</Bucket><Key>\(XMLText.escape(wire.key))</Key>"
    xml += "<UploadId>\(XMLText.escape(wire.uploadID))</UploadId><PartNumberMarker>\(after)</PartNumberMarker>"
    xml += "<NextPartNumberMarker>\(page.last?.number ?? after)</NextPartNumberMarker><MaxParts>\(maxParts)</MaxParts>"
    xml += "<IsTruncated>\(truncated)</IsTruncated>"
    for part in wire.parts {
      xml += "<Part><PartNumber>\(part.number)</PartNumber>"
      xml += Self.xmlField("LastModified", part.lastModified, Self.iso8601Milliseconds)
      xml += "<ETag>&quot;\(Self.etag(part))&quot;</ETag><Size>\(part.size)</Size></Part>"
    }
    xml += "</ListPartsResult>"
    return SandboxResponse(status: 200, headers: [], body: Array(xml.utf8))
  }

  /// `2017-01-18T16:12:38.000Z`, as S3 writes `Initiated`.
  static func iso8601Milliseconds(_ date: Date) -> String {
    Timestamp.formatRFC3339(date).replacingOccurrences(of: "Z", with: ".000Z")
  }

  private func s3Headers(requestID: String) -> [(String, String)] {
    [
      ("Content-Type", "application/xml"), ("Date", Timestamp.formatRFC1123(clock())), ("Server", "sandbox-s3"),
      ("x-amz-request-id", requestID),
    ]
  }

  private func s3Error(_ status: Int, _ code: String, _ message: String, requestID: String) -> SandboxResponse {
    let body =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>\(XMLText.escape(code))</Code><Message>\(XMLText.escape(message))</Message><RequestId>\(requestID)</RequestId></Error>"
    return SandboxResponse(status: status, headers: s3Headers(requestID: requestID), body: Array(body.utf8))
  }

  private func verifyS3(
    _ request: SandboxRequest, authorization: String, path: String, query: [(String, String)], state: State
  ) -> (code: String, message: String)? {
    guard let parsed = SigV4Signer.parseAuthorization(authorization) else {
      return ("AuthorizationHeaderMalformed", "the Authorization header is malformed")
    }
    guard let secret = state.credentials[parsed.accessKey] else {
      return ("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
    }
    let scope = parsed.scope.split(separator: "/")
    guard scope.count == 4, scope[2] == "s3", scope[3] == "aws4_request" else {
      return ("AuthorizationHeaderMalformed", "the credential scope is malformed")
    }
    guard parsed.signedHeaders.contains("host"), parsed.signedHeaders.contains("x-amz-date"),
      let amzDate = request.header("x-amz-date")
    else { return ("AccessDenied", "host and x-amz-date must be signed") }
    let compact = amzDate.replacingOccurrences(of: "T", with: "").replacingOccurrences(of: "Z", with: "")
    let iso =
      "\(compact.prefix(4))-\(compact.dropFirst(4).prefix(2))-\(compact.dropFirst(6).prefix(2))T\(compact.dropFirst(8).prefix(2)):\(compact.dropFirst(10).prefix(2)):\(compact.dropFirst(12).prefix(2))Z"
    guard let signedAt = Timestamp.parseRFC3339(iso), abs(signedAt.timeIntervalSince(clock())) <= 900 else {
      return ("RequestTimeTooSkewed", "The difference between the request time and the current time is too large.")
    }
    let payloadHash = request.header("x-amz-content-sha256") ?? SigV4Signer.emptyPayloadHash
    if payloadHash != "UNSIGNED-PAYLOAD", payloadHash != SigV4Signer.payloadHash(request.body) {
      return (
        "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed."
      )
    }
    var headers: [(String, String)] = []
    for name in parsed.signedHeaders {
      guard let value = request.header(name) else { return ("AccessDenied", "signed header \(name) is missing") }
      headers.append((name, value))
    }
    let expected = SigV4Signer(accessKey: parsed.accessKey, secretKey: secret, region: String(scope[1])).sign(
      method: request.method, path: path, query: query, headers: headers, payloadHash: payloadHash, amzDate: amzDate)
    guard expected.signature == parsed.signature else {
      return ("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
    }
    return nil
  }

  // MARK: signature

  private func verify(
    _ request: SandboxRequest, authorization: String, path: String, query: [(String, String)], state: State
  ) -> (code: String, message: String)? {
    let fields = CDCSSigner.parseAuthorization(authorization)
    guard fields["q-sign-algorithm"] == "sha1", let accessKey = fields["q-ak"], let keyTime = fields["q-key-time"],
      let headerList = fields["q-header-list"], let parameterList = fields["q-url-param-list"],
      let signature = fields["q-signature"]
    else { return ("AccessDenied", "the Authorization header is incomplete") }
    guard let secret = state.credentials[accessKey] else {
      return ("InvalidAccessKeyId", "the access key id is not known to the sandbox")
    }
    let window = keyTime.split(separator: ";").compactMap { Int64($0) }
    let now = Int64(clock().timeIntervalSince1970)
    guard window.count == 2, now >= window[0] - 900, now <= window[1] else {
      return ("RequestTimeTooSkewed", "the key time \(keyTime) does not cover the server's time \(now)")
    }
    let signedHeaders = headerList.split(separator: ";").map(String.init)
    guard signedHeaders.contains("host") else { return ("AccessDenied", "host must be signed") }
    let actualParameters = Set(query.map { URLEncoding.encode($0.0).lowercased() })
    guard
      Set(parameterList.split(separator: ";").map(String.init)) == actualParameters
        || (parameterList.isEmpty && actualParameters.isEmpty)
    else {
      return ("AccessDenied", "every query parameter must be signed")
    }
    var headers: [(String, String)] = []
    for name in signedHeaders {
      guard let value = request.header(name) else { return ("AccessDenied", "signed header \(name) is missing") }
      headers.append((name, value))
    }
    let expected = CDCSSigner(secretID: accessKey, secretKey: secret).sign(
      method: request.method, path: path, parameters: query, headers: headers, keyTime: keyTime)
    guard expected.signature == signature else {
      return ("SignatureDoesNotMatch", "the request signature does not match")
    }
    return nil
  }

  // MARK: plumbing

  private func control(path: String, request: SandboxRequest) -> SandboxResponse {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    switch (request.method, path) {
    case ("GET", "/_sandbox/state"):
      let snapshot = state.withLock { state in
        Snapshot(
          buckets: state.buckets.mapValues(\.uploads),
          files: state.buckets.mapValues(\.files).filter { !$0.value.isEmpty },
          aborted: state.aborted, faults: state.faults, hostility: state.hostility, requests: state.log)
      }
      encoder.dateEncodingStrategy = .iso8601
      return json(200, (try? encoder.encode(snapshot)) ?? Data())
    case ("GET", "/_sandbox/faults"):
      return json(200, (try? encoder.encode(faults)) ?? Data())
    case ("PUT", "/_sandbox/faults"), ("POST", "/_sandbox/faults"):
      // fail_next as the README writes it, and failNext as the state shows it, both.
      let decoder = JSONDecoder()
      decoder.keyDecodingStrategy = .convertFromSnakeCase
      guard let newFaults = try? decoder.decode(SandboxFaults.self, from: Data(request.body)) else {
        return json(400, Data("{\"Code\":\"InvalidArgument\",\"Message\":\"the body is not a faults object\"}".utf8))
      }
      faults = newFaults
      return json(200, (try? encoder.encode(newFaults)) ?? Data())
    case (_, "/_sandbox/hostile"):
      return hostileControl(request, encoder: encoder)
    default:
      return json(404, Data("{\"Code\":\"NoSuchControl\",\"Message\":\"unknown sandbox control path\"}".utf8))
    }
  }

  struct Snapshot: Encodable {
    var buckets: [String: [SandboxUpload]]
    /// Finished PDS files, by drive.
    var files: [String: [SandboxFile]]
    var aborted: [SandboxAbort]
    var faults: SandboxFaults
    var hostility: SandboxHostility
    var requests: SandboxRequestLog
  }

  func json(_ status: Int, _ data: Data) -> SandboxResponse {
    SandboxResponse(status: status, headers: [("Content-Type", "application/json")], body: Array(data))
  }

  private func commonHeaders(requestID: String, contentType: String) -> [(String, String)] {
    [
      ("Content-Type", contentType), ("Date", Timestamp.formatRFC1123(clock())), ("Server", "tencent-cdcs"),
      ("x-cdcs-request-id", requestID),
    ]
  }

  private func error(_ status: Int, _ code: String, _ message: String, requestID: String, xml: Bool) -> SandboxResponse
  {
    let body: String
    if xml {
      body =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>\(XMLText.escape(code))</Code><Message>\(XMLText.escape(message))</Message><RequestId>\(requestID)</RequestId></Error>"
    } else {
      body =
        "{\"Code\":\(JSONString.literal(code)),\"Message\":\(JSONString.literal(message)),\"RequestId\":\"\(requestID)\"}"
    }
    return SandboxResponse(
      status: status,
      headers: commonHeaders(requestID: requestID, contentType: xml ? "application/xml" : "application/json"),
      body: Array(body.utf8))
  }

  static func split(_ uri: String) -> (path: String, query: [(String, String)]) {
    guard let mark = uri.firstIndex(of: "?") else { return (uri, []) }
    let path = String(uri[..<mark])
    let query = uri[uri.index(after: mark)...].split(separator: "&", omittingEmptySubsequences: true).map { pair in
      let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      let name = URLEncoding.decode(String(parts[0])) ?? String(parts[0])
      let value = parts.count > 1 ? (URLEncoding.decode(String(parts[1])) ?? String(parts[1])) : ""
      return (name, value)
    }
    return (path, query)
  }
}

enum XMLText {
  static func escape(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
      .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
  }
}
