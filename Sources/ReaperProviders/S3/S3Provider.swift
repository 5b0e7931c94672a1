import Foundation
import NIOHTTP1
import ReaperConfig
import ReaperCore

/// Any S3-compatible store (AWS, Ceph RGW, MinIO, COS and OSS in S3 mode), signed with SigV4.
public struct S3Provider: UploadProvider {
  public let target: Target
  let transport: HTTPTransport
  let credentials: Credentials
  let pageSize: Int
  let maximumPages: Int
  let clock: @Sendable () -> Date

  static let goneCodes: Set<String> = ["NoSuchUpload", "NoSuchKey"]
  static let requestIDHeader = "x-amz-request-id"

  public init(
    target: Target, credentials: Credentials, transport: HTTPTransport, pageSize: Int = 1000,
    maximumPages: Int = 100_000, clock: @escaping @Sendable () -> Date = { Date() }
  ) {
    self.target = target
    self.credentials = credentials
    self.transport = transport
    self.pageSize = max(1, min(1000, pageSize))
    self.maximumPages = maximumPages
    self.clock = clock
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
      let (reply, context) = try await send(.GET, bucket: bucket, key: nil, query: query, gone: [])
      let page: S3Decoder.ListPage
      do throws(S3Decoder.Failure) {
        page = try S3Decoder.decodeList(reply.body)
      } catch {
        throw context.error(.malformedResponse, error.description, status: reply.status)
      }
      var next: String?
      if page.isTruncated {
        guard let key = page.nextKeyMarker, let uploadID = page.nextUploadIDMarker, !(key.isEmpty && uploadID.isEmpty)
        else {
          throw context.error(
            .malformedResponse, "truncated page without NextKeyMarker/NextUploadIdMarker", status: reply.status)
        }
        next = S3Marker.join(key: key, uploadID: uploadID)
      }
      let uploads = page.entries.map {
        Upload(target: target.name, bucket: bucket, key: $0.key, uploadID: $0.uploadID, initiated: $0.initiated)
      }
      return (UploadPage(uploads: uploads, serverDate: reply.date, unreadable: page.unreadable), next)
    }
  }

  public func parts(of upload: Upload) -> Pages<PartPage> {
    Pages(maximumPages: maximumPages, stalled: stalledError(bucket: upload.bucket)) {
      (marker: String?) async throws(ProviderError) -> (PartPage, next: String?) in
      var query: [(String, String)] = [("uploadId", upload.uploadID), ("max-parts", "1000")]
      if let marker { query.append(("part-number-marker", marker)) }
      let (reply, context) = try await send(
        .GET, bucket: upload.bucket, key: upload.key, query: query, gone: Self.goneCodes)
      let page: S3Decoder.PartsPage
      do throws(S3Decoder.Failure) {
        page = try S3Decoder.decodeParts(reply.body)
      } catch {
        throw context.error(.malformedResponse, error.description, status: reply.status)
      }
      if page.isTruncated, page.nextMarker?.isEmpty ?? true {
        throw context.error(
          .malformedResponse, "truncated parts page without NextPartNumberMarker", status: reply.status)
      }
      return (PartPage(parts: page.parts), page.isTruncated ? page.nextMarker : nil)
    }
  }

  public func abort(_ upload: Upload) async throws(ProviderError) -> AbortResult {
    do {
      _ = try await send(
        .DELETE, bucket: upload.bucket, key: upload.key, query: [("uploadId", upload.uploadID)], gone: ["NoSuchUpload"])
      return .aborted
    } catch  where error.kind == .gone {
      return .gone
    }
  }

  private func stalledError(bucket: String) -> @Sendable (String) -> ProviderError {
    { [target] marker in
      let shown =
        S3Marker.split(marker).map { "key-marker \"\($0.key)\", upload-id-marker \"\($0.uploadID)\"" } ?? marker
      return ProviderError(
        kind: .malformedResponse, target: target.name, bucket: bucket, request: "GET /\(bucket)?uploads",
        message: "\(shown) did not advance: the server repeated a page; stopping this walk")
    }
  }

  /// Where a request goes: the URL's host and path, per the target's addressing style.
  func address(bucket: String, key: String?) -> (host: String, base: String, path: String) {
    let endpoint = URLComponents(string: target.endpoint)
    let scheme = endpoint?.scheme ?? "https"
    let host = endpoint?.host ?? target.endpoint
    let defaultPort = scheme == "https" ? 443 : 80
    let port = endpoint?.port.flatMap { $0 == defaultPort ? nil : $0 }
    let authority = { (name: String) in port.map { "\(name):\($0)" } ?? name }
    if target.pathStyle {
      return (authority(host), "\(scheme)://\(authority(host))", "/\(bucket)" + (key.map { "/\($0)" } ?? ""))
    }
    let virtualHost = authority("\(bucket).\(host)")
    return (virtualHost, "\(scheme)://\(virtualHost)", "/" + (key ?? ""))
  }

  private func send(
    _ method: HTTPMethod, bucket: String, key: String?, query: [(String, String)], gone: Set<String>
  ) async throws(ProviderError) -> (HTTPReply, RequestContext) {
    let (host, base, path) = address(bucket: bucket, key: key)
    let queryText = query.map { name, value in
      value.isEmpty && name == "uploads" ? name : "\(URLEncoding.encode(name))=\(URLEncoding.encode(value))"
    }.joined(separator: "&")
    let encodedPath = URLEncoding.encode(path, keepSlash: true)
    let context = RequestContext(
      target: target.name, bucket: bucket, request: "\(method.rawValue) \(encodedPath)?\(queryText)")
    guard let accessKey = credentials.accessKeyID, let secretKey = credentials.secretAccessKey else {
      throw context.error(.accessDenied, "no access_key_id/secret_access_key in the credentials")
    }
    let signer = SigV4Signer(accessKey: accessKey, secretKey: secretKey, region: target.region)
    let reply = try await transport.send(
      context,
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
  static func join(key: String, uploadID: String) -> String { "\(key.utf8.count):\(key)\(uploadID)" }

  static func split(_ marker: String) -> (key: String, uploadID: String)? {
    guard let colon = marker.firstIndex(of: ":"), let length = Int(marker[..<colon]) else { return nil }
    let rest = Array(marker[marker.index(after: colon)...].utf8)
    guard length <= rest.count else { return nil }
    return (String(decoding: rest[..<length], as: UTF8.self), String(decoding: rest[length...], as: UTF8.self))
  }
}

/// Streaming decoders for S3's XML: events in, a page of values out; no document tree.
public enum S3Decoder {
  public struct Entry: Sendable, Equatable {
    public var key: String
    public var uploadID: String
    public var initiated: Date
  }

  public struct ListPage: Sendable {
    public var entries: [Entry] = []
    public var unreadable: [String] = []
    public var isTruncated = false
    public var nextKeyMarker: String?
    public var nextUploadIDMarker: String?
  }

  public struct PartsPage: Sendable {
    public var parts: [Part] = []
    public var isTruncated = false
    public var nextMarker: String?
  }

  public struct Failure: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
  }

  public static func decodeList(_ bytes: [UInt8]) throws(Failure) -> ListPage {
    guard BodySniffer.kind(bytes) == .xml else {
      throw Failure("ListMultipartUploads body is not XML (\(bytes.count) bytes)")
    }
    var page = ListPage()
    var truncatedText: String?
    var encoding: String?
    var rawNextKey: String?
    var current: (key: String?, uploadID: String?, initiated: String?) = (nil, nil, nil)
    var rawUploads: [(key: String?, uploadID: String?, initiated: String?)] = []
    let failure = StreamingXML.parse(
      bytes,
      start: { path in if path.count == 2, path[1] == "Upload" { current = (nil, nil, nil) } },
      end: { path, text in
        switch (path.count, path.last) {
        case (3, "Key") where path[1] == "Upload": current.key = text
        case (3, "UploadId") where path[1] == "Upload": current.uploadID = text
        case (3, "Initiated") where path[1] == "Upload": current.initiated = text
        case (2, "Upload"): rawUploads.append(current)
        case (2, "IsTruncated"): truncatedText = text
        case (2, "NextKeyMarker"): rawNextKey = text
        case (2, "NextUploadIdMarker"): page.nextUploadIDMarker = text
        case (2, "EncodingType"): encoding = text
        default: break
        }
      })
    if let failure { throw Failure("ListMultipartUploads XML is malformed (truncated?): \(failure)") }
    guard let truncated = truncatedText.flatMap({ LooseJSON.string($0).boolean }) else {
      throw Failure("IsTruncated is missing or not a boolean")
    }
    page.isTruncated = truncated
    // We always ask for encoding-type=url. Ceph 16 encodes without echoing EncodingType, so an absent
    // field means encoded; only an explicit other value means the keys are raw.
    let encoded = encoding == nil || encoding?.lowercased() == "url"
    func decoded(_ text: String) -> String? { encoded ? URLEncoding.decode(text) : text }
    if let rawNextKey {
      guard let key = decoded(rawNextKey) else { throw Failure("NextKeyMarker has a malformed %-escape") }
      page.nextKeyMarker = key
    }
    for raw in rawUploads {
      guard let rawKey = raw.key, let key = decoded(rawKey), let uploadID = raw.uploadID, !uploadID.isEmpty else {
        page.unreadable.append("upload record without a readable Key and UploadId (Key \(raw.key ?? "missing"))")
        continue
      }
      guard let initiatedText = raw.initiated, let initiated = Timestamp.parse(initiatedText, zone: .utc) else {
        page.unreadable.append("key \"\(key)\" upload \(uploadID): unreadable Initiated \"\(raw.initiated ?? "")\"")
        continue
      }
      page.entries.append(Entry(key: key, uploadID: uploadID, initiated: initiated))
    }
    return page
  }

  public static func decodeParts(_ bytes: [UInt8]) throws(Failure) -> PartsPage {
    guard BodySniffer.kind(bytes) == .xml else { throw Failure("ListParts body is not XML (\(bytes.count) bytes)") }
    var page = PartsPage()
    var truncatedText: String?
    var current: (number: Int?, size: Int64?, modified: Date?) = (nil, nil, nil)
    var malformedPart = false
    let failure = StreamingXML.parse(
      bytes,
      start: { path in if path.last == "Part" { current = (nil, nil, nil) } },
      end: { path, text in
        switch (path.count, path.last) {
        case (3, "PartNumber"): current.number = Int(text)
        case (3, "Size"): current.size = Int64(text)
        case (3, "LastModified"): current.modified = Timestamp.parse(text, zone: .utc)
        case (2, "Part"):
          if let number = current.number, let size = current.size, size >= 0 {
            page.parts.append(Part(number: number, size: size, lastModified: current.modified))
          } else {
            malformedPart = true
          }
        case (2, "IsTruncated"): truncatedText = text
        case (2, "NextPartNumberMarker"): page.nextMarker = text
        default: break
        }
      })
    if let failure { throw Failure("ListParts XML is malformed (truncated?): \(failure)") }
    if malformedPart { throw Failure("a Part without a numeric PartNumber and Size") }
    guard let truncated = truncatedText.flatMap({ LooseJSON.string($0).boolean }) else {
      throw Failure("IsTruncated is missing or not a boolean")
    }
    page.isTruncated = truncated
    return page
  }
}
