import Foundation
import ReaperCore
import ReaperProviders

/// The CDCS dialect (path-style, q-sign signatures), from the store's buckets: JSON listings spelt as the
/// bucket's `CDCSQuirks` say, parts in JSON or XML, and errors in JSON or XML.
extension SandboxStore {
  func cdcsServe(
    _ request: SandboxRequest, authorization: String, path: String, bucketName: String, key: String?,
    query: [(String, String)], requestID: String, state: inout State
  ) -> SandboxResponse {
    let asXML = state.buckets[bucketName]?.quirks.errorsAsXML ?? false
    func fail(_ status: Int, _ code: String, _ message: String) -> SandboxResponse {
      cdcsError(status, code, message, requestID: requestID, xml: asXML)
    }
    if let problem = cdcsVerify(request, authorization: authorization, path: path, query: query, state: state) {
      state.log.rejectedSignatures += 1
      return fail(403, problem.code, problem.message)
    }
    let contentType = state.buckets[bucketName]?.quirks.contentType ?? "application/json"
    let dialect = Dialect(
      fail: fail,
      listUploads: { bucket, parameters, state in
        self.cdcsListUploads(bucket, parameters: parameters, state: &state, requestID: requestID)
      },
      listParts: { bucket, upload, parameters, state in
        self.cdcsListParts(bucket, upload: upload, parameters: parameters, state: &state)
      },
      headers: cdcsHeaders(requestID: requestID, contentType: contentType))
    return route(request, bucketName: bucketName, key: key, query: query, dialect: dialect, state: &state)
  }

  func cdcsListUploads(
    _ bucket: SandboxBucket, parameters: [String: String], state: inout State, requestID: String
  ) -> SandboxResponse {
    let quirks = bucket.quirks
    let maxUploads: Int
    if let text = parameters["max-uploads"] {
      guard let value = Int(text), (1...1000).contains(value) else {
        return cdcsError(
          400, "InvalidArgument", "max-uploads must be an integer from 1 to 1000", requestID: requestID,
          xml: quirks.errorsAsXML)
      }
      maxUploads = value
    } else {
      maxUploads = 1000
    }
    let encoding = parameters["encoding-type"]
    if let encoding, encoding != "url" {
      return cdcsError(
        400, "InvalidArgument", "encoding-type must be url", requestID: requestID, xml: quirks.errorsAsXML)
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

  func cdcsListParts(
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

  // MARK: signature

  func cdcsVerify(
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

  func cdcsHeaders(requestID: String, contentType: String) -> [(String, String)] {
    [
      ("Content-Type", contentType), ("Date", Timestamp.formatRFC1123(clock())), ("Server", "tencent-cdcs"),
      ("x-cdcs-request-id", requestID),
    ]
  }

  func cdcsError(_ status: Int, _ code: String, _ message: String, requestID: String, xml: Bool) -> SandboxResponse {
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
      headers: cdcsHeaders(requestID: requestID, contentType: xml ? "application/xml" : "application/json"),
      body: Array(body.utf8))
  }

  /// `"Initiator":{…},` or `"Owner":{…},`: the seed's CAM account for nil, nothing at all for an empty id.
  static func cdcsIdentity(_ field: String, _ id: String?) -> String {
    guard let id else {
      return "\"\(field)\":{\"ID\":\"qcs::cam::uin/100000000001:uin/100000000001\",\"DisplayName\":\"100000000001\"},"
    }
    guard !id.isEmpty else { return "" }
    return "\"\(field)\":{\"ID\":\(JSONString.literal(id)),\"DisplayName\":\(JSONString.literal(id))},"
  }

  /// One upload of a CDCS ListMultipartUploads page.
  static func cdcsRecord(_ upload: WireUpload, quirks: CDCSQuirks, encode: (String) -> String) -> String {
    let initiated = jsonField("Initiated", upload.initiated) { date in
      switch quirks.initiatedFormat {
      case .ctime: Timestamp.formatCtime(date, zone: .fixed(secondsEast: quirks.serverZoneSeconds))
      case .rfc3339: Timestamp.formatRFC3339(date)
      case .rfc1123: Timestamp.formatRFC1123(date)
      }
    }
    let record =
      "{\"Key\":\(JSONString.literal(encode(upload.key))),\"\(quirks.uploadIDField)\":\(JSONString.literal(upload.uploadID)),"
      + cdcsIdentity("Initiator", upload.initiator) + cdcsIdentity("Owner", upload.owner) + initiated
    // jsonField ends with a comma, for fields that others follow.
    return String(record.dropLast()) + "}"
  }
}
