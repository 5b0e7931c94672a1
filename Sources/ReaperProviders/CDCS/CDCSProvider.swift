import Foundation
import NIOHTTP1
import ReaperConfig
import ReaperCore

/// Tencent CDCS coffers. ListMultipartUploads answers in JSON (whatever Content-Type says), with the quirks
/// listed in `CDCSDecoder`; requests carry the COS q-sign signature.
public struct CDCSProvider: PlumbedProvider {
  let plumbing: ProviderPlumbing
  public var target: Target { plumbing.target }

  public static let requestIDHeader = "x-cdcs-request-id"
  static let goneCodes: Set<String> = ["NoSuchUpload", "MultipartNotExists", "NoSuchKey"]

  public init(
    target: Target, credentials: Credentials, transport: HTTPTransport, pageSize: Int = 1000,
    maximumPages: Int = PageLimit.defaultMaximumPages, clock: @escaping @Sendable () -> Date = { Date() }
  ) {
    plumbing = ProviderPlumbing(
      target: target, credentials: credentials, transport: transport, pageSize: pageSize, largestPage: 1000,
      maximumPages: maximumPages, clock: clock)
  }

  public func uploads(bucket: String, prefix: String) -> Pages<UploadPage> {
    Pages(maximumPages: maximumPages, stalled: stalledError(bucket: bucket, what: "upload-id-marker")) {
      (marker: String?) async throws(ProviderError) -> (UploadPage, next: String?) in
      var parameters: [(String, String)] = [("uploads", ""), ("encoding-type", "url"), ("max-uploads", "\(pageSize)")]
      if !prefix.isEmpty { parameters.append(("prefix", prefix)) }
      if let marker { parameters.append(("upload-id-marker", marker)) }
      let (reply, context) = try await send(.GET, bucket: bucket, upload: nil, parameters: parameters, gone: [])
      let page = try context.decode(reply) { body throws(WireFailure) in
        try CDCSDecoder.decodeList(body, zone: target.zone)
      }
      try Echo.check("coffer", asked: bucket, answered: page.coffer, context: context, status: reply.status)
      if page.isTruncated, page.nextMarker?.isEmpty ?? true {
        throw context.error(.malformedResponse, "truncated page without a NextUploadIdMarker", status: reply.status)
      }
      // The marker is opaque, but one naming an upload of this page other than the last would serve the rest of
      // the page again.
      if page.isTruncated, let next = page.nextMarker,
        page.entries.dropLast().contains(where: { $0.uploadID == next })
      {
        throw context.error(
          .inconsistentResponse, "NextUploadIdMarker \(next) points back into the page it ends; not trusted",
          status: reply.status)
      }
      let uploads = page.entries.map { $0.upload(target: target.name, bucket: bucket) }
      return (
        UploadPage(uploads: uploads, serverDate: reply.date, unreadable: page.unreadable),
        page.isTruncated ? page.nextMarker : nil
      )
    }
  }

  public func parts(of upload: Upload) -> Pages<PartPage> {
    Pages(maximumPages: maximumPages, stalled: stalledError(bucket: upload.bucket, what: "part-number-marker")) {
      (marker: String?) async throws(ProviderError) -> (PartPage, next: String?) in
      let address = try address(of: upload, keyInPath: true, request: "GET /\(upload.bucket)/\(upload.key)?uploadId")
      var parameters: [(String, String)] = [("uploadId", address.uploadID), ("max-parts", "1000")]
      if let marker { parameters.append(("part-number-marker", marker)) }
      let (reply, context) = try await send(
        .GET, bucket: address.bucket, upload: address, parameters: parameters, gone: Self.goneCodes)
      let page = try context.decode(reply) { body throws(WireFailure) in
        try CDCSDecoder.decodeParts(body, zone: target.zone)
      }
      try Echo.check(page, asked: address, context: context, status: reply.status)
      if page.isTruncated, page.nextMarker?.isEmpty ?? true {
        throw context.error(.malformedResponse, "truncated parts page without a next marker", status: reply.status)
      }
      return (PartPage(parts: page.parts), page.isTruncated ? page.nextMarker : nil)
    }
  }

  /// Idempotent, but not retried here: a repeat minutes later (Retry-After) would act on a re-check that has grown
  /// old. The cycle tries again after a fresh re-check; one that then finds NoSuchUpload says aborted-or-gone.
  public func abort(_ upload: Upload) async throws(ProviderError) -> AbortResult {
    let address = try address(of: upload, keyInPath: true, request: "DELETE /\(upload.bucket)/\(upload.key)?uploadId")
    do {
      _ = try await send(
        .DELETE, bucket: address.bucket, upload: address, parameters: [("uploadId", address.uploadID)],
        gone: Self.goneCodes, retry: .never)
      return .aborted
    } catch  where error.kind == .gone {
      return error.attempts > 1 ? .abortedOrGone : .gone
    }
  }

  private func stalledError(bucket: String, what: String) -> @Sendable (String) -> ProviderError {
    stalledError(bucket: bucket, request: "GET /\(bucket)") { marker in "\(what) \"\(marker)\"" }
  }

  /// Signs and sends one request; errors carry the method and path, never the signature.
  /// - Parameter upload: the one upload the request acts on; nil for a coffer's listing.
  private func send(
    _ method: HTTPMethod, bucket: String, upload: UploadAddress?, parameters: [(String, String)], gone: Set<String>,
    retry: RetryPolicy = .whenRetryable
  ) async throws(ProviderError) -> (HTTPReply, RequestContext) {
    let path = "/" + bucket + (upload.map { "/" + $0.key } ?? "")
    let query = Query.join(parameters)
    let encodedPath = URLEncoding.encode(path, keepSlash: true)
    let context = RequestContext(
      target: target.name, bucket: bucket, request: "\(method.rawValue) \(encodedPath)?\(query)")
    guard let secretID = credentials.accessKeyID, let secretKey = credentials.secretAccessKey else {
      throw context.error(.accessDenied, "no access_key_id/secret_access_key in the credentials")
    }
    let signer = CDCSSigner(secretID: secretID, secretKey: secretKey)
    let host = Self.hostHeader(target.endpoint)
    let base = target.endpoint.hasSuffix("/") ? String(target.endpoint.dropLast()) : target.endpoint
    let reply = try await transport.send(
      context, retry: retry,
      build: { () throws(ProviderError) -> HTTPExchange in
        let now = clock()
        let date = Timestamp.formatRFC1123(now)
        var signed: [(String, String)] = [("host", host), ("date", date)]
        if let token = credentials.sessionToken { signed.append(("x-cdcs-security-token", token)) }
        let signature = signer.sign(
          method: method.rawValue, path: path, parameters: parameters, headers: signed,
          keyTime: CDCSSigner.keyTime(now: now))
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: host)
        headers.add(name: "Date", value: date)
        headers.add(name: "Authorization", value: signature.authorization)
        if let token = credentials.sessionToken { headers.add(name: "x-cdcs-security-token", value: token) }
        return HTTPExchange(method: method, url: "\(base)\(encodedPath)?\(query)", headers: headers)
      },
      classify: { reply in
        ErrorClassifier.classify(reply, context: context, goneCodes: gone, requestIDHeader: Self.requestIDHeader)
      })
    return (reply, context)
  }

  /// `host[:port]` exactly as the request will carry it, so the signed value matches.
  static func hostHeader(_ endpoint: String) -> String {
    Endpoint(endpoint).authority()
  }
}
