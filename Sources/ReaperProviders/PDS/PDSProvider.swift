import Foundation
import NIOHTTP1
import ReaperConfig
import ReaperCore
import Synchronization

/// Aliyun PDS (Drive and Photo Service) drives. An upload is a file whose status is `uploading`; PDS lists
/// only a folder's direct children, so finding them is a walk over the drive's folders (`PDSWalk`). Its key is
/// the file's path from the drive root, its bucket the drive id. Every call is a JSON `POST` with a Bearer
/// access token, which comes from the credentials read at the start of each cycle.
public struct PDSProvider: PlumbedProvider {
  /// Entries per listing request are 1 to 100 (the API's limit); `maximumPages` bounds the requests of a drive
  /// walk, and the pages of a parts listing.
  let plumbing: ProviderPlumbing
  public var target: Target { plumbing.target }
  /// Folders nested deeper than this end the walk: a server whose tree loops through ids it never repeats
  /// must not hold the walk, or the memory of its stack.
  let maximumDepth: Int
  let gate = TokenGate()

  static let requestIDHeader = "x-ca-request-id"
  /// `NotFound.UploadId` has been seen with status 400 as well as 404, so these decide by code alone.
  static let goneCodes: Set<String> = ["NotFound.UploadId", "NotFound.File"]

  public init(
    target: Target, credentials: Credentials, transport: HTTPTransport, pageSize: Int = 100,
    maximumPages: Int = PageLimit.defaultMaximumPages, maximumDepth: Int = 1000
  ) {
    plumbing = ProviderPlumbing(
      target: target, credentials: credentials, transport: transport, pageSize: pageSize, largestPage: 100,
      maximumPages: max(1, maximumPages))
    self.maximumDepth = max(1, maximumDepth)
  }

  public func uploads(bucket: String, prefix: String) -> Pages<UploadPage> {
    uploads(bucket: bucket, prefix: prefix, within: nil)
  }

  public func uploads(bucket: String, prefix: String, within prefixes: [String]?) -> Pages<UploadPage> {
    let scope = PDSScope(prefixes: prefixes, required: prefix)
    return Pages { [self] in PDSWalk(provider: self, drive: bucket, scope: scope) }
  }

  public func parts(of upload: Upload) -> Pages<PartPage> {
    let request = "POST /v2/file/list_uploaded_parts \(upload.key)"
    let stalled = stalledError(bucket: upload.bucket, request: request, stopping: "stopping") { marker in
      "next_part_number_marker \"\(PartMarkerCodec.shown(marker))\""
    }
    return Pages(maximumPages: maximumPages, stalled: stalled) {
      (marker: String?) async throws(ProviderError) -> (PartPage, next: String?) in
      let fileID = try fileID(of: upload, request: request)
      let address = try address(of: upload, keyInPath: false, request: request)
      var fields: [(String, PDSField)] = [
        ("drive_id", .string(address.bucket)), ("file_id", .string(fileID)), ("upload_id", .string(address.uploadID)),
        ("limit", .integer(Int64(pageSize))),
      ]
      if let marker { fields.append(("part_number_marker", PartMarkerCodec.field(marker))) }
      let (reply, context) = try await post(
        "/v2/file/list_uploaded_parts", bucket: address.bucket, subject: address.key, fields: fields,
        gone: Self.goneCodes)
      let page = try context.decode(reply, PDSDecoder.decodeParts)
      try Echo.check(
        "upload id", asked: address.uploadID, answered: page.uploadID, context: context, status: reply.status)
      try Echo.check("file id", asked: fileID, answered: page.fileID, context: context, status: reply.status)
      try Echo.check("drive", asked: address.bucket, answered: page.driveID, context: context, status: reply.status)
      return (PartPage(parts: page.parts), page.nextMarker.map(PartMarkerCodec.encode))
    }
  }

  /// PDS has no call that aborts a multipart upload: the uploading file is deleted. First the file is read
  /// again, and deleted only if it is still the same upload, untouched since it was listed: a file that
  /// completed in between is a real file now. The delete is not idempotent in effect (a file that completes
  /// while a retry waits would be deleted whole), so it is never sent again without a fresh read first.
  public func abort(_ upload: Upload) async throws(ProviderError) -> AbortResult {
    let request = "POST /v2/file/delete \(upload.key)"
    let fileID = try fileID(of: upload, request: request)
    let address = try address(of: upload, keyInPath: false, request: request)
    let identity: [(String, PDSField)] = [("drive_id", .string(address.bucket)), ("file_id", .string(fileID))]
    var attempt = 0
    while true {
      attempt += 1
      let earlierDeleteFailed = attempt > 1
      let file: PDSDecoder.Item
      do throws(ProviderError) {
        let (reply, context) = try await post(
          "/v2/file/get", bucket: address.bucket, subject: address.key, fields: identity, gone: ["NotFound.File"])
        file = try context.decode(reply, PDSDecoder.decodeFile)
      } catch  where error.kind == .gone {
        return earlierDeleteFailed ? .abortedOrGone : .gone
      }
      if let verdict = Self.verdict(on: file, listed: upload, fileID: fileID) { return verdict }
      do {
        // An uploading file has no content worth recovering, so it skips the recycle bin.
        _ = try await post(
          "/v2/file/delete", bucket: address.bucket, subject: address.key,
          fields: identity + [("permanently", .boolean(true))], gone: ["NotFound.File"], retry: .never)
        return .aborted
      } catch  where error.kind == .gone {
        return earlierDeleteFailed ? .abortedOrGone : .gone
      } catch
        where error.kind == .retryable && attempt < transport.settings.maxAttempts && !Task.isCancelled
        && !WalkControl.stopRequested()
      {
        do {
          try await Task.sleep(for: error.retryAfter ?? transport.backoff(attempt: attempt))
        } catch {
          throw ProviderError(
            kind: .other, target: target.name, bucket: upload.bucket, request: request,
            message: "cancelled while waiting to read the file again before another delete")
        }
      }
    }
  }

  /// What the fresh look at the file says: nil when it is still the upload that was listed and may be deleted.
  static func verdict(on file: PDSDecoder.Item, listed upload: Upload, fileID: String) -> AbortResult? {
    guard let answered = file.fileID, answered == fileID else {
      return .changed("recheck: file/get answered for file \(file.fileID ?? "(none)"), not \(fileID); not deleted")
    }
    if let drive = file.driveID, drive != upload.bucket {
      return .changed("recheck: file/get answered for drive \(drive), not \(upload.bucket); not deleted")
    }
    // Deleted permanently, a folder takes its whole subtree: only what says it is a file is ever deleted.
    guard file.type == "file" else {
      return .changed("recheck: file/get says it is a \(file.type ?? "(no type)"), not a file; not deleted")
    }
    guard let status = file.status else { return .changed("recheck: file/get gave no status; not deleted") }
    // Completed (or replaced by another upload of the same file): this upload no longer exists.
    guard status == "uploading" else { return .gone }
    guard file.uploadID == upload.uploadID else { return .gone }
    // The same file as listed, not a record that only shares its ids: its name and its start must agree.
    let listedName = upload.key.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init)
    if file.name != listedName {
      return .changed(
        "recheck: file/get names the file \"\(file.name ?? "(none)")\", listed as \"\(listedName ?? "")\"; not deleted")
    }
    guard case .date(let created) = file.createdAt, abs(created.timeIntervalSince(upload.initiated)) < 0.0005 else {
      return .changed("recheck: file/get gives another created_at than the listing; not deleted")
    }
    let listed = upload.lastActivity?.source == "updated_at" ? upload.lastActivity?.date : nil
    switch (listed, file.updatedAt) {
    case (nil, .absent):
      return nil
    case (let before?, .date(let now)) where abs(now.timeIntervalSince(before)) < 0.0005:
      return nil
    case (_, .date(let now)):
      let was = listed.map(Timestamp.formatRFC3339) ?? "absent"
      return .changed(
        "recheck: the file was written to since it was listed (updated_at \(was) → \(Timestamp.formatRFC3339(now))); not deleted"
      )
    case (_, .absent):
      return .changed("recheck: updated_at vanished since the listing; not deleted")
    case (_, .unreadable(let text)):
      return .changed("recheck: unreadable updated_at \"\(text)\"; not deleted")
    }
  }

  private func fileID(of upload: Upload, request: String) throws(ProviderError) -> String {
    guard let handle = upload.handle, !handle.isEmpty else {
      throw ProviderError(
        kind: .invalidArgument, target: target.name, bucket: upload.bucket, request: request,
        message: "upload \(upload.uploadID) carries no PDS file id")
    }
    return handle
  }

  /// ListDrive (`POST /v2/drive/list`), for `buckets` globs over drive ids. It needs a token allowed to see every
  /// drive (an administrator's); a user's sees only what ListDrive grants it.
  public func bucketNames() -> Pages<BucketNamePage> {
    let target = target
    let stalled: @Sendable (String) -> ProviderError = { marker in
      ProviderError(
        kind: .inconsistentResponse, target: target.name, bucket: "", request: "POST /v2/drive/list",
        message: "drive/list handed back next_marker \"\(marker.prefix(80))\" again; not trusted")
    }
    let fetch: Pages<BucketNamePage>.Fetch = { (marker: String?) async throws(ProviderError) in
      var fields: [(String, PDSField)] = [("limit", .integer(100))]
      if let marker { fields.append(("marker", .string(marker))) }
      let (reply, context) = try await post("/v2/drive/list", bucket: "", subject: "drives", fields: fields, gone: [])
      let page = try context.decode(reply, PDSDecoder.decodeDrives)
      return (page, page.next)
    }
    return Pages(maximumPages: maximumPages, stalled: stalled, fetch: fetch)
  }

  /// One folder's page of uploading files, or of everything else (folders among it).
  func listFolder(
    drive: String, folder: PDSWalk.Folder, uploading: Bool, marker: String?
  ) async throws(ProviderError) -> (PDSDecoder.ListPage, Date?) {
    var fields: [(String, PDSField)] = [
      ("drive_id", .string(drive)), ("parent_file_id", .string(folder.fileID)), ("limit", .integer(Int64(pageSize))),
    ]
    if uploading { fields.append(("status", .string("uploading"))) }
    if let marker { fields.append(("marker", .string(marker))) }
    let shown = folder.path.isEmpty ? "/" : folder.path
    let (reply, context) = try await post(
      "/v2/file/list", bucket: drive, subject: "\(shown) (\(uploading ? "uploading files" : "folders"))",
      fields: fields, gone: folder.isRoot ? [] : ["NotFound.File"])
    return (try context.decode(reply, PDSDecoder.decodeList), reply.date)
  }

  /// Sends one call. Errors carry the path and the file or folder concerned, never the token or a body.
  private func post(
    _ path: String, bucket: String, subject: String, fields: [(String, PDSField)], gone: Set<String>,
    retry: RetryPolicy = .whenRetryable
  ) async throws(ProviderError) -> (HTTPReply, RequestContext) {
    let context = RequestContext(target: target.name, bucket: bucket, request: "POST \(path) \(subject)")
    if let refusal = gate.refusal {
      // One refused token fails every later call of the cycle at once: nothing retries against a dead token.
      throw context.error(
        .accessDenied,
        "not sent: the access token was refused earlier in this cycle (\(refusal)) and must be refreshed: \(tokenHint)")
    }
    guard let token = credentials.accessToken, !token.isEmpty else {
      throw context.error(.accessDenied, "no access_token in the credentials; \(tokenHint)")
    }
    guard token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
      throw context.error(.accessDenied, "the access_token holds characters an HTTP header cannot carry")
    }
    let body = PDSField.object(fields)
    let base = target.endpoint.hasSuffix("/") ? String(target.endpoint.dropLast()) : target.endpoint
    let url = base + path
    let reply = try await transport.send(
      context, retry: retry,
      build: { () throws(ProviderError) -> HTTPExchange in
        var headers = HTTPHeaders()
        headers.add(name: "Authorization", value: "Bearer \(token)")
        headers.add(name: "Content-Type", value: "application/json")
        return HTTPExchange(method: .POST, url: url, headers: headers, body: body)
      },
      classify: { reply in classify(reply, context: context, gone: gone, token: token) })
    return (reply, context)
  }

  func classify(_ reply: HTTPReply, context: RequestContext, gone: Set<String>, token: String) -> ProviderError? {
    guard
      var error = ErrorClassifier.classify(
        reply, context: context, goneCodes: gone, requestIDHeader: Self.requestIDHeader)
    else { return nil }
    error.message = Redaction.scrub(error.message, secrets: [token])
    let code = error.code ?? ""
    if gone.contains(code) {
      error.kind = .gone
    } else if reply.status == 401 || code.hasPrefix("AccessToken") {
      error.kind = .accessDenied
      gate.refuse(code.isEmpty ? "HTTP \(reply.status)" : code)
      error.message += "; the access token must be refreshed: \(tokenHint)"
    } else if ProviderError.throttleCodes.contains(code) {
      error.kind = .retryable
    } else if code.hasPrefix("InvalidParameter") {
      error.kind = .invalidArgument
    } else if code.hasPrefix("Forbidden") {
      error.kind = .accessDenied
    }
    return error
  }

  var tokenHint: String {
    let place = target.credentialsFile.map { "the credentials file \($0)" } ?? "the target's ACCESS_TOKEN variable"
    return "put a fresh access_token in \(place); it is read again at the start of every cycle"
  }
}

/// Remembers that the server refused the token, for the rest of the provider's cycle.
final class TokenGate: Sendable {
  private let state = Mutex<String?>(nil)

  var refusal: String? { state.withLock { $0 } }

  func refuse(_ reason: String) {
    state.withLock { if $0 == nil { $0 = reason } }
  }
}

/// A JSON request body, written by hand so that what goes out is exactly what was meant.
enum PDSField: Sendable {
  case string(String)
  case integer(Int64)
  case boolean(Bool)

  static func object(_ fields: [(String, PDSField)]) -> [UInt8] {
    let members = fields.map { name, value in
      let text: String
      switch value {
      case .string(let string): text = JSONString.literal(string)
      case .integer(let number): text = String(number)
      case .boolean(let flag): text = flag ? "true" : "false"
      }
      return "\(JSONString.literal(name)):\(text)"
    }
    return Array("{\(members.joined(separator: ","))}".utf8)
  }
}

/// Part markers inside `Pages`, which keeps markers as strings: the kind the server used is kept in front, so
/// an opaque string goes back as a string and a number as a number.
enum PartMarkerCodec {
  static func encode(_ marker: PDSDecoder.PartMarker) -> String {
    switch marker {
    case .string(let text): "s" + text
    case .number(let value): "n" + String(value)
    }
  }

  static func field(_ encoded: String) -> PDSField {
    if encoded.hasPrefix("n"), let value = Int64(encoded.dropFirst()) { return .integer(value) }
    return .string(String(encoded.dropFirst()))
  }

  static func shown(_ encoded: String) -> String { String(encoded.dropFirst()) }
}

/// Keeps secrets out of messages that come from a server: the token, and the query of any URL (PDS part URLs
/// are pre-signed, and their signatures are as good as a credential until they expire).
enum Redaction {
  static func scrub(_ text: String, secrets: [String]) -> String {
    var result = text
    for secret in secrets where !secret.isEmpty {
      result = result.replacingOccurrences(of: secret, with: "[redacted]")
    }
    guard result.contains("://") else { return result }
    var output = ""
    var rest = Substring(result)
    while let scheme = rest.range(of: "://") {
      let stops: Set<Character> = [" ", "\"", "'", "<", ">", "\n", "\t", ",", ")"]
      let urlEnd = rest[scheme.upperBound...].firstIndex { stops.contains($0) } ?? rest.endIndex
      let url = rest[..<urlEnd]
      if let question = url[scheme.upperBound...].firstIndex(of: "?") {
        output += rest[..<question] + "?[redacted]"
      } else {
        output += url
      }
      rest = rest[urlEnd...]
    }
    return output + rest
  }
}
