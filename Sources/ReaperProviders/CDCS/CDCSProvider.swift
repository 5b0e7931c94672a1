import Foundation
import NIOHTTP1
import ReaperConfig
import ReaperCore

/// Tencent CDCS coffers. ListMultipartUploads answers in JSON (whatever Content-Type says), with the quirks
/// listed in `CDCSDecoder`; requests carry the COS q-sign signature.
public struct CDCSProvider: UploadProvider {
  public let target: Target
  let transport: HTTPTransport
  let credentials: Credentials
  let pageSize: Int
  let maximumPages: Int
  let clock: @Sendable () -> Date

  public static let requestIDHeader = "x-cdcs-request-id"
  static let goneCodes: Set<String> = ["NoSuchUpload", "MultipartNotExists", "NoSuchKey"]

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
    Pages(maximumPages: maximumPages, stalled: stalledError(bucket: bucket, what: "upload-id-marker")) {
      (marker: String?) async throws(ProviderError) -> (UploadPage, next: String?) in
      var parameters: [(String, String)] = [("uploads", ""), ("encoding-type", "url"), ("max-uploads", "\(pageSize)")]
      if !prefix.isEmpty { parameters.append(("prefix", prefix)) }
      if let marker { parameters.append(("upload-id-marker", marker)) }
      let (reply, context) = try await send(.GET, bucket: bucket, key: nil, parameters: parameters, gone: [])
      let page: CDCSDecoder.ListPage
      do throws(CDCSDecoder.Failure) {
        page = try CDCSDecoder.decodeList(reply.body, zone: target.zone)
      } catch {
        throw context.error(.malformedResponse, error.description, status: reply.status)
      }
      if page.isTruncated, page.nextMarker?.isEmpty ?? true {
        throw context.error(.malformedResponse, "truncated page without a NextUploadIdMarker", status: reply.status)
      }
      let uploads = page.entries.map {
        Upload(target: target.name, bucket: bucket, key: $0.key, uploadID: $0.uploadID, initiated: $0.initiated)
      }
      return (
        UploadPage(uploads: uploads, serverDate: reply.date, unreadable: page.unreadable),
        page.isTruncated ? page.nextMarker : nil
      )
    }
  }

  public func parts(of upload: Upload) -> Pages<PartPage> {
    Pages(maximumPages: maximumPages, stalled: stalledError(bucket: upload.bucket, what: "part-number-marker")) {
      (marker: String?) async throws(ProviderError) -> (PartPage, next: String?) in
      var parameters: [(String, String)] = [("uploadId", upload.uploadID), ("max-parts", "1000")]
      if let marker { parameters.append(("part-number-marker", marker)) }
      let (reply, context) = try await send(
        .GET, bucket: upload.bucket, key: upload.key, parameters: parameters, gone: Self.goneCodes)
      let page: CDCSDecoder.PartsPage
      do throws(CDCSDecoder.Failure) {
        page = try CDCSDecoder.decodeParts(reply.body, zone: target.zone)
      } catch {
        throw context.error(.malformedResponse, error.description, status: reply.status)
      }
      if page.isTruncated, page.nextMarker?.isEmpty ?? true {
        throw context.error(.malformedResponse, "truncated parts page without a next marker", status: reply.status)
      }
      return (PartPage(parts: page.parts), page.isTruncated ? page.nextMarker : nil)
    }
  }

  public func abort(_ upload: Upload) async throws(ProviderError) -> AbortResult {
    do {
      _ = try await send(
        .DELETE, bucket: upload.bucket, key: upload.key, parameters: [("uploadId", upload.uploadID)],
        gone: Self.goneCodes)
      return .aborted
    } catch  where error.kind == .gone {
      return .gone
    }
  }

  private func stalledError(bucket: String, what: String) -> @Sendable (String) -> ProviderError {
    { [target] marker in
      ProviderError(
        kind: .malformedResponse, target: target.name, bucket: bucket, request: "GET /\(bucket)",
        message: "\(what) \"\(marker)\" did not advance: the server repeated a page; stopping this walk")
    }
  }

  /// Signs and sends one request; errors carry the method and path, never the signature.
  private func send(
    _ method: HTTPMethod, bucket: String, key: String?, parameters: [(String, String)], gone: Set<String>
  ) async throws(ProviderError) -> (HTTPReply, RequestContext) {
    let path = "/" + bucket + (key.map { "/" + $0 } ?? "")
    let query = parameters.map { name, value in
      value.isEmpty && name == "uploads" ? name : "\(URLEncoding.encode(name))=\(URLEncoding.encode(value))"
    }.joined(separator: "&")
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
      context,
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
    guard let url = URLComponents(string: endpoint), let host = url.host else { return endpoint }
    let defaultPort = url.scheme == "https" ? 443 : 80
    return url.port.map { $0 == defaultPort ? host : "\(host):\($0)" } ?? host
  }
}

/// Decodes CDCS response bodies, tolerating every documented quirk:
/// a JSON body under any Content-Type (sniffed from the first byte); `IsTruncated` as a boolean or as a string
/// in any case; numbers as strings; `UploadId` or `UploadID`; a lone `Upload` object instead of an array;
/// `Initiated` as zone-less ctime (read in the target's zone), RFC 3339 or RFC 1123; URL-encoded keys and markers.
public enum CDCSDecoder {
  public struct Entry: Sendable, Equatable {
    public var key: String
    public var uploadID: String
    public var initiated: Date
  }

  public struct ListPage: Sendable {
    public var coffer: String?
    public var entries: [Entry]
    public var unreadable: [String]
    public var isTruncated: Bool
    public var nextMarker: String?
    public var maxUploads: Int64?
    public var prefix: String?
  }

  public struct PartsPage: Sendable {
    public var parts: [Part]
    public var isTruncated: Bool
    public var nextMarker: String?
  }

  public struct Failure: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
  }

  public static func decodeList(_ bytes: [UInt8], zone: Zone) throws(Failure) -> ListPage {
    guard BodySniffer.kind(bytes) == .json else {
      throw Failure("ListMultipartUploads body is not JSON (\(bytes.count) bytes)")
    }
    let json: LooseJSON
    do {
      json = try LooseJSON.parse(bytes)
    } catch {
      throw Failure("ListMultipartUploads body is not valid JSON (\(bytes.count) bytes; truncated?)")
    }
    let root = json["ListMultipartUploadsResult"] ?? json
    guard case .object = root else { throw Failure("ListMultipartUploads body is not a JSON object") }
    guard let truncated = root["IsTruncated"]?.boolean else {
      throw Failure("IsTruncated is missing or not a boolean")
    }
    // Keys are URL-encoded when the server says so; an absent field means it followed our request.
    let encoding = root["EncodingType"]?.text
    let encoded = encoding == nil || encoding?.lowercased() == "url"
    func decoded(_ text: String?) -> String? {
      guard let text else { return nil }
      return encoded ? URLEncoding.decode(text) : text
    }
    var entries: [Entry] = []
    var unreadable: [String] = []
    let records = root["Upload"]?.elements ?? []
    entries.reserveCapacity(records.count)
    for record in records {
      let rawKey = record["Key"]?.text
      let uploadID = record["UploadId"]?.text ?? record["UploadID"]?.text
      let initiatedText = record["Initiated"]?.text
      guard let rawKey, let key = decoded(rawKey), let uploadID, !uploadID.isEmpty else {
        unreadable.append("upload record without a readable Key and UploadId (Key \(rawKey ?? "missing"))")
        continue
      }
      guard let initiatedText, let initiated = Timestamp.parse(initiatedText, zone: zone) else {
        unreadable.append("key \"\(key)\" upload \(uploadID): unreadable Initiated \"\(initiatedText ?? "")\"")
        continue
      }
      entries.append(Entry(key: key, uploadID: uploadID, initiated: initiated))
    }
    let nextText = root["NextUploadIdMarker"]?.text
    var nextMarker: String?
    if let nextText, !nextText.isEmpty {
      guard let value = decoded(nextText) else { throw Failure("NextUploadIdMarker has a malformed %-escape") }
      nextMarker = value
    }
    return ListPage(
      coffer: root["Coffer"]?.text, entries: entries, unreadable: unreadable, isTruncated: truncated,
      nextMarker: nextMarker, maxUploads: root["MaxUploads"]?.integer, prefix: decoded(root["Prefix"]?.text))
  }

  /// ListParts, in the JSON form or the older XML page.
  public static func decodeParts(_ bytes: [UInt8], zone: Zone) throws(Failure) -> PartsPage {
    switch BodySniffer.kind(bytes) {
    case .json:
      let json: LooseJSON
      do {
        json = try LooseJSON.parse(bytes)
      } catch {
        throw Failure("ListParts body is not valid JSON (\(bytes.count) bytes; truncated?)")
      }
      let root = json["ListPartsResult"] ?? json
      guard let truncated = root["IsTruncated"]?.boolean else {
        throw Failure("IsTruncated is missing or not a boolean")
      }
      var parts: [Part] = []
      for record in root["Part"]?.elements ?? [] {
        guard let number = record["PartNumber"]?.integer, let size = record["Size"]?.integer, size >= 0 else {
          throw Failure("a Part without a numeric PartNumber and Size")
        }
        let modified = record["LastModified"]?.text.flatMap { Timestamp.parse($0, zone: zone) }
        parts.append(Part(number: Int(number), size: size, lastModified: modified))
      }
      let next = (root["NextPartNumberMarker"] ?? root["NextMarker"])?.text
      return PartsPage(parts: parts, isTruncated: truncated, nextMarker: next)
    case .xml:
      var parts: [Part] = []
      var current: (number: Int64?, size: Int64?, modified: Date?) = (nil, nil, nil)
      var truncated: Bool?
      var next: String?
      var malformedPart = false
      let failure = StreamingXML.parse(
        bytes,
        start: { path in if path.last == "Part" { current = (nil, nil, nil) } },
        end: { path, text in
          let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
          switch (path.count, path.last) {
          case (_, "PartNumber"): current.number = Int64(value)
          case (_, "Size"): current.size = Int64(value)
          case (_, "LastModified"): current.modified = Timestamp.parse(value, zone: zone)
          case (_, "Part"):
            if let number = current.number, let size = current.size {
              parts.append(Part(number: Int(number), size: size, lastModified: current.modified))
            } else {
              malformedPart = true
            }
          case (2, "IsTruncated"): truncated = LooseJSON.string(value).boolean
          case (2, "NextPartNumberMarker"), (2, "NextMarker"): next = value
          default: break
          }
        })
      if let failure { throw Failure("ListParts XML is malformed: \(failure)") }
      if malformedPart { throw Failure("a Part without a numeric PartNumber and Size") }
      guard let truncated else { throw Failure("IsTruncated is missing or not a boolean") }
      return PartsPage(parts: parts, isTruncated: truncated, nextMarker: next)
    case .empty, .other:
      throw Failure("ListParts body is neither JSON nor XML (\(bytes.count) bytes)")
    }
  }
}
