import Foundation
import NIOHTTP1
import ReaperConfig
import ReaperCore

/// Any S3-compatible store (AWS, Ceph RGW, MinIO, COS and OSS in S3 mode), signed with SigV4.
public struct S3Provider: PlumbedProvider {
  let plumbing: ProviderPlumbing
  /// One per provider, so per cycle and credentials.
  let signingKeys = SigningKeyCache()
  /// Parsed once, not for every request.
  let endpoint: Endpoint
  public var target: Target { plumbing.target }

  static let goneCodes: Set<String> = ["NoSuchUpload", "NoSuchKey"]
  static let requestIDHeader = "x-amz-request-id"

  public init(
    target: Target, credentials: Credentials, transport: HTTPTransport, pageSize: Int = 1000,
    maximumPages: Int = PageLimit.defaultMaximumPages, clock: @escaping @Sendable () -> Date = { Date() }
  ) {
    plumbing = ProviderPlumbing(
      target: target, credentials: credentials, transport: transport, pageSize: pageSize, largestPage: 1000,
      maximumPages: maximumPages, clock: clock)
    endpoint = Endpoint(target.endpoint)
  }

  public func uploads(bucket: String, prefix: String) -> Pages<UploadPage> {
    Pages(maximumPages: maximumPages, stalled: stalledError(bucket: bucket)) {
      (marker: String?) async throws(ProviderError) -> (UploadPage, next: String?) in
      var query: [(String, String)] = [("uploads", ""), ("encoding-type", "url"), ("max-uploads", "\(pageSize)")]
      if !prefix.isEmpty { query.append(("prefix", prefix)) }
      // Both markers, always together: key-marker alone skips (AWS) or repeats (Ceph) a key's other uploads.
      if let marker, let (key, uploadID) = S3Marker.split(marker) {
        query.append(("key-marker", key))
        query.append(("upload-id-marker", uploadID))
      }
      let (reply, context) = try await send(.GET, bucket: bucket, upload: nil, query: query, gone: [])
      let page = try context.decode(reply) { body throws(WireFailure) in
        try S3Decoder.decodeList(body, zone: target.zoneConfigured ? target.zone : nil)
      }
      try Echo.check("bucket", asked: bucket, answered: page.bucket, context: context, status: reply.status)
      var next: String?
      if page.isTruncated {
        guard let key = page.nextKeyMarker, let uploadID = page.nextUploadIDMarker, !(key.isEmpty && uploadID.isEmpty)
        else {
          throw context.error(
            .malformedResponse, "truncated page without NextKeyMarker/NextUploadIdMarker", status: reply.status)
        }
        try S3Marker.checkForward(
          asked: marker.flatMap(S3Marker.split), entries: page.entries.map { ($0.key, $0.uploadID) },
          next: (key, uploadID), context: context, status: reply.status)
        next = S3Marker.join(key: key, uploadID: uploadID)
      } else {
        try S3Marker.checkForward(
          asked: marker.flatMap(S3Marker.split), entries: page.entries.map { ($0.key, $0.uploadID) }, next: nil,
          context: context, status: reply.status)
      }
      let uploads = page.entries.map { $0.upload(target: target.name, bucket: bucket) }
      return (UploadPage(uploads: uploads, serverDate: reply.date, unreadable: page.unreadable), next)
    }
  }

  public func parts(of upload: Upload) -> Pages<PartPage> {
    Pages(maximumPages: maximumPages, stalled: stalledError(bucket: upload.bucket)) {
      (marker: String?) async throws(ProviderError) -> (PartPage, next: String?) in
      let address = try address(of: upload, keyInPath: true, request: "GET /\(upload.bucket)/\(upload.key)?uploadId")
      var query: [(String, String)] = [("uploadId", address.uploadID), ("max-parts", "1000")]
      if let marker { query.append(("part-number-marker", marker)) }
      let (reply, context) = try await send(
        .GET, bucket: address.bucket, upload: address, query: query, gone: Self.goneCodes)
      let page = try context.decode(reply) { body throws(WireFailure) in
        try S3Decoder.decodeParts(body, zone: target.zoneConfigured ? target.zone : nil)
      }
      // Every S3 server echoes the upload id; an answer without one may be about anything.
      guard page.uploadID != nil else {
        throw context.error(.malformedResponse, "ListParts answer names no UploadId", status: reply.status)
      }
      try Echo.check(page, asked: address, context: context, status: reply.status)
      if page.isTruncated, page.nextMarker?.isEmpty ?? true {
        throw context.error(
          .malformedResponse, "truncated parts page without NextPartNumberMarker", status: reply.status)
      }
      return (
        PartPage(parts: page.parts, initiatorIDs: page.initiatorIDs, ownerIDs: page.ownerIDs),
        page.isTruncated ? page.nextMarker : nil
      )
    }
  }

  /// Idempotent, but not retried here: a repeat minutes later (Retry-After) would act on a re-check that has grown
  /// old. The cycle tries again after a fresh re-check; one that then finds NoSuchUpload says aborted-or-gone.
  public func abort(_ upload: Upload) async throws(ProviderError) -> AbortResult {
    let address = try address(of: upload, keyInPath: true, request: "DELETE /\(upload.bucket)/\(upload.key)?uploadId")
    do {
      _ = try await send(
        .DELETE, bucket: address.bucket, upload: address, query: [("uploadId", address.uploadID)],
        gone: ["NoSuchUpload"], retry: .never)
      return .aborted
    } catch  where error.kind == .gone {
      return error.attempts > 1 ? .abortedOrGone : .gone
    }
  }

  private func stalledError(bucket: String) -> @Sendable (String) -> ProviderError {
    stalledError(bucket: bucket, request: "GET /\(bucket)?uploads") { marker in
      S3Marker.split(marker).map { "key-marker \"\($0.key)\", upload-id-marker \"\($0.uploadID)\"" } ?? marker
    }
  }

  /// Where a request goes: the URL's host and path, per the target's addressing style.
  func address(bucket: String, key: String?) -> (host: String, base: String, path: String) {
    if target.pathStyle {
      let host = endpoint.authority()
      return (host, "\(endpoint.scheme)://\(host)", "/\(bucket)" + (key.map { "/\($0)" } ?? ""))
    }
    let virtualHost = endpoint.authority("\(bucket).\(endpoint.host)")
    return (virtualHost, "\(endpoint.scheme)://\(virtualHost)", "/" + (key ?? ""))
  }

  /// - Parameter upload: the one upload the request acts on; nil for a bucket's listing.
  func send(
    _ method: HTTPMethod, bucket: String, upload: UploadAddress?, query: [(String, String)], gone: Set<String>,
    retry: RetryPolicy = .whenRetryable
  ) async throws(ProviderError) -> (HTTPReply, RequestContext) {
    let (host, base, path) = address(bucket: bucket, key: upload?.key)
    let queryText = Query.join(query)
    let encodedPath = URLEncoding.encode(path, keepSlash: true)
    let context = RequestContext(
      target: target.name, bucket: bucket, request: "\(method.rawValue) \(encodedPath)?\(queryText)")
    guard let accessKey = credentials.accessKeyID, let secretKey = credentials.secretAccessKey else {
      throw context.error(.accessDenied, "no access_key_id/secret_access_key in the credentials")
    }
    let signer = SigV4Signer(accessKey: accessKey, secretKey: secretKey, region: target.region, keys: signingKeys)
    let reply = try await transport.send(
      context, retry: retry,
      build: { () throws(ProviderError) -> HTTPExchange in
        let amzDate = SigV4Signer.amzDate(clock())
        var signed: [(String, String)] = [
          ("host", host), ("x-amz-content-sha256", SigV4Signer.emptyPayloadHash), ("x-amz-date", amzDate),
        ]
        if let token = credentials.sessionToken { signed.append(("x-amz-security-token", token)) }
        let signature = signer.sign(
          method: method.rawValue, path: path, query: query, headers: signed,
          payloadHash: SigV4Signer.emptyPayloadHash, amzDate: amzDate)
        var headers = HTTPHeaders()
        for (name, value) in signed { headers.add(name: name, value: value) }
        headers.add(name: "Authorization", value: signature.authorization)
        return HTTPExchange(method: method, url: "\(base)\(encodedPath)?\(queryText)", headers: headers)
      },
      classify: { reply in
        guard
          var error = ErrorClassifier.classify(
            reply, context: context, goneCodes: gone, requestIDHeader: Self.requestIDHeader)
        else { return nil }
        if let expected = Self.expectedRegion(reply) {
          error.message += " (the server expects region \"\(expected)\"; this target has \"\(target.region)\")"
        }
        return error
      })
    return (reply, context)
  }

  /// The region a wrong-region answer names: the `x-amz-bucket-region` header or the error's `<Region>`.
  static func expectedRegion(_ reply: HTTPReply) -> String? {
    if let header = reply.headers.first(name: "x-amz-bucket-region") { return header }
    guard BodySniffer.kind(reply.body) == .xml else { return nil }
    var region: String?
    _ = StreamingXML.parse(reply.body) { path, text in
      if path.last == "Region" { region = text }
    }
    return region
  }
}

/// The (key-marker, upload-id-marker) pair as one opaque, unambiguous string: `<key byte count>:<key><upload id>`.
enum S3Marker {
  /// A listing runs forward in key order. A page that goes back behind the marker it was asked for, or hands
  /// out a next marker behind its own last upload, would serve uploads twice; the second time with whatever
  /// the server then says of their parts, which a re-check of that same answer cannot contradict.
  static func checkForward(
    asked: (key: String, uploadID: String)?, entries: [(key: String, uploadID: String)],
    next: (key: String, uploadID: String)?, context: RequestContext, status: Int
  ) throws(ProviderError) {
    func before(_ lhs: String, _ rhs: String) -> Bool { lhs.utf8.lexicographicallyPrecedes(rhs.utf8) }
    if let asked, let behind = entries.first(where: { before($0.key, asked.key) }) {
      throw context.error(
        .inconsistentResponse,
        "the page lists key \"\(behind.key)\", behind the key-marker \"\(asked.key)\" it was asked for; not trusted",
        status: status)
    }
    // The marker it was asked for, handed back: `Pages` ends that walk as stalled.
    guard let next, let last = entries.last, !(next.key == asked?.key && next.uploadID == asked?.uploadID) else {
      return
    }
    if before(next.key, last.key) || (next.key == last.key && next.uploadID != last.uploadID) {
      throw context.error(
        .inconsistentResponse,
        "the next marker (\"\(next.key)\", \(next.uploadID)) points back into the page it ends; not trusted",
        status: status)
    }
  }

  static func join(key: String, uploadID: String) -> String { "\(key.utf8.count):\(key)\(uploadID)" }

  static func split(_ marker: String) -> (key: String, uploadID: String)? {
    guard let colon = marker.firstIndex(of: ":"), let length = Int(marker[..<colon]) else { return nil }
    let rest = Array(marker[marker.index(after: colon)...].utf8)
    guard length <= rest.count else { return nil }
    return (String(decoding: rest[..<length], as: UTF8.self), String(decoding: rest[length...], as: UTF8.self))
  }
}
