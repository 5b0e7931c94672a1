import Foundation
import ReaperCore
import ReaperProviders

/// The S3 dialect (path-style, SigV4 signatures), from the same buckets: XML listings and errors, as AWS
/// documents them.
extension SandboxStore {
  func s3Serve(
    _ request: SandboxRequest, authorization: String, path: String, bucketName: String, key: String?,
    query: [(String, String)], requestID: String, state: inout State
  ) -> SandboxResponse {
    func fail(_ status: Int, _ code: String, _ message: String) -> SandboxResponse {
      s3Error(status, code, message, requestID: requestID)
    }
    if let problem = s3Verify(request, authorization: authorization, path: path, query: query, state: state) {
      state.log.rejectedSignatures += 1
      return fail(403, problem.code, problem.message)
    }
    state.log.lastSignedHeaders = SigV4Signer.parseAuthorization(authorization)?.signedHeaders ?? []
    if bucketName.isEmpty, request.method == "GET" {
      guard !state.faults.denyBucketListing else { return fail(403, "AccessDenied", "listing buckets is denied") }
      return s3ListBuckets(
        Dictionary(query, uniquingKeysWith: { first, _ in first }), requestID: requestID, state: &state)
    }
    let dialect = Dialect(
      fail: fail,
      listUploads: { bucket, parameters, state in
        self.s3ListUploads(bucket, parameters: parameters, state: &state, requestID: requestID)
      },
      listParts: { bucket, upload, parameters, state in
        self.s3ListParts(bucket, upload: upload, parameters: parameters, state: &state)
      },
      headers: s3Headers(requestID: requestID))
    return route(request, bucketName: bucketName, key: key, query: query, dialect: dialect, state: &state)
  }

  /// ListBuckets, paged by `ContinuationToken` when asked with `max-buckets`, as AWS does since 2024. The token is
  /// the last name of the page before, so a bucket created mid-walk is picked up or not, never served twice.
  func s3ListBuckets(_ parameters: [String: String], requestID: String, state: inout State) -> SandboxResponse {
    state.log.listBuckets += 1
    let names = state.buckets.keys.sorted()
    let after = parameters["continuation-token"]
    let rest = after.map { token in names.filter { $0 > token } } ?? names
    let limit = parameters["max-buckets"].flatMap(Int.init).map { min(10_000, max(1, $0)) } ?? 10_000
    let page = rest.prefix(limit)
    var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
    xml += "<ListAllMyBucketsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    xml += "<Owner><ID>sandbox</ID><DisplayName>sandbox</DisplayName></Owner><Buckets>"
    for name in page {
      xml +=
        "<Bucket><Name>\(XMLText.escape(name))</Name><CreationDate>2024-01-01T00:00:00.000Z</CreationDate></Bucket>"
    }
    xml += "</Buckets>"
    if rest.count > page.count, let last = page.last {
      xml += "<ContinuationToken>\(XMLText.escape(last))</ContinuationToken>"
    }
    xml += "</ListAllMyBucketsResult>"
    return SandboxResponse(status: 200, headers: s3Headers(requestID: requestID), body: Array(xml.utf8))
  }

  func s3ListUploads(
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
      let requesterLie = state.hostility.applies(.identityOfRequester, to: "upload:\(upload.uploadID)")
      let requester = SandboxHostility.requester
      xml +=
        Self.s3Identity("Initiator", requesterLie ? requester : upload.initiator)
        + Self.s3Identity("Owner", requesterLie ? requester : upload.owner)
      xml += "<StorageClass>STANDARD</StorageClass>"
      xml += Self.xmlField("Initiated", upload.initiated, Self.s3Time) + "</Upload>"
    }
    xml += "</ListMultipartUploadsResult>"
    return SandboxResponse(status: 200, headers: [], body: Array(xml.utf8))
  }

  /// `<Initiator>` or `<Owner>`: the usual account for nil, nothing at all for an empty id.
  static func s3Identity(_ element: String, _ id: String?) -> String {
    let id = id ?? "sandbox"
    guard !id.isEmpty else { return "" }
    let text = XMLText.escape(id)
    return "<\(element)><ID>\(text)</ID><DisplayName>\(text)</DisplayName></\(element)>"
  }

  func s3ListParts(
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
    xml += "<UploadId>\(XMLText.escape(wire.uploadID))</UploadId>"
    // As S3 and Ceph do: who started the upload, which the re-check compares with the listing's word.
    if state.hostility.applies(.identityOfRequester, to: "upload:\(upload.uploadID)") {
      xml += "<Owner><ID></ID><DisplayName></DisplayName></Owner>"
    } else {
      xml += Self.s3Identity("Initiator", upload.initiator) + Self.s3Identity("Owner", upload.owner)
    }
    xml += "<PartNumberMarker>\(after)</PartNumberMarker>"
    xml += "<NextPartNumberMarker>\(page.last?.number ?? after)</NextPartNumberMarker><MaxParts>\(maxParts)</MaxParts>"
    xml += "<IsTruncated>\(truncated)</IsTruncated>"
    for part in wire.parts {
      xml += "<Part><PartNumber>\(part.number)</PartNumber>"
      xml += Self.xmlField("LastModified", part.lastModified, Self.s3Time)
      xml += "<ETag>&quot;\(Self.etag(part))&quot;</ETag><Size>\(part.size)</Size></Part>"
    }
    xml += "</ListPartsResult>"
    return SandboxResponse(status: 200, headers: [], body: Array(xml.utf8))
  }

  /// `2017-01-18T16:12:38.000Z`, as S3 writes `Initiated`.
  static func s3Time(_ date: Date) -> String {
    Timestamp.formatRFC3339(date).replacingOccurrences(of: "Z", with: ".000Z")
  }

  func s3Headers(requestID: String) -> [(String, String)] {
    [
      ("Content-Type", "application/xml"), ("Date", Timestamp.formatRFC1123(clock())), ("Server", "sandbox-s3"),
      ("x-amz-request-id", requestID),
    ]
  }

  func s3Error(_ status: Int, _ code: String, _ message: String, requestID: String) -> SandboxResponse {
    let body =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>\(XMLText.escape(code))</Code><Message>\(XMLText.escape(message))</Message><RequestId>\(requestID)</RequestId></Error>"
    return SandboxResponse(status: status, headers: s3Headers(requestID: requestID), body: Array(body.utf8))
  }

  func s3Verify(
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
}

extension SandboxStore {
  /// `GET /{bucket}?lifecycle`, answered apart from everything else: it is neither counted in the request log nor
  /// given the faults and lies tests inject, so they still land on the listing, parts and abort requests they
  /// aim at. nil for any other request.
  func s3Lifecycle(
    _ request: SandboxRequest, path: String, query: [(String, String)], state: inout State
  ) -> SandboxResponse? {
    guard request.method == "GET", query.contains(where: { $0.0 == "lifecycle" }),
      let authorization = request.header("Authorization"), authorization.hasPrefix("AWS4-HMAC-SHA256 "),
      let decodedPath = URLEncoding.decode(path, plusIsSpace: false)
    else { return nil }
    let trimmed = decodedPath.drop { $0 == "/" }
    let bucketName = String(trimmed.prefix { $0 != "/" })
    // An object's path is not a bucket's lifecycle.
    guard trimmed.count == bucketName.count else { return nil }
    state.lifecycleReads += 1
    let requestID = String(format: "sandbox-lifecycle-%08d", state.lifecycleReads)
    if let problem = s3Verify(request, authorization: authorization, path: decodedPath, query: query, state: state) {
      return s3Error(403, problem.code, problem.message, requestID: requestID)
    }
    guard let bucket = state.buckets[bucketName] else {
      return s3Error(404, "NoSuchBucket", "the bucket \(bucketName) does not exist", requestID: requestID)
    }
    switch bucket.lifecycle {
    case .none:
      return s3Error(
        404, "NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist", requestID: requestID)
    case .configuration(let document):
      return SandboxResponse(status: 200, headers: s3Headers(requestID: requestID), body: Array(document.utf8))
    case .denied:
      return s3Error(403, "AccessDenied", "Access Denied", requestID: requestID)
    case .failing:
      return s3Error(405, "MethodNotAllowed", "the sandbox does not serve lifecycles here", requestID: requestID)
    case .slow(let milliseconds):
      var response = s3Error(
        404, "NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist", requestID: requestID)
      response.delayMilliseconds = milliseconds
      return response
    }
  }
}
