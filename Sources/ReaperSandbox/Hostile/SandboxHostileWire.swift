import Foundation
import ReaperCore
import ReaperProviders

/// Where the store's dialects render `SandboxHostility`'s lies: the true state goes in, what the wire says
/// comes out.
extension SandboxStore {
  /// - Parameter echoesBucket: whether the dialect's parts reply names the bucket at all (PDS's does not, so a
  ///   lie about it never reaches the wire and misstates nothing).
  func wireParts(
    of upload: SandboxUpload, page: some Sequence<SandboxPart>, bucket: String, echoesBucket: Bool = true,
    state: inout State
  ) -> WireParts {
    let call = state.partsReplies[upload.uploadID, default: 0]
    guard !state.hostility.lies.isEmpty else {
      return state.hostility.parts(of: upload, page: page, call: call, bucket: bucket)
    }
    state.partsReplies[upload.uploadID] = call + 1
    let reply = state.hostility.parts(of: upload, page: page, call: call, bucket: bucket)
    if (echoesBucket && reply.bucket != bucket) || reply.key != upload.key || reply.uploadID != upload.uploadID
      || reply.fileID != upload.fileID
    {
      state.log.identityLies.insert(upload.uploadID)
    }
    return reply
  }

  /// The bucket a listing page echoes; when it is another, every upload on the page was misplaced.
  func wireBucket(_ name: String, page: some Collection<SandboxUpload>, state: inout State) -> String {
    let echoed = state.hostility.echoedBucket(name, subject: page.first?.uploadID ?? "")
    if echoed != name { state.log.identityLies.formUnion(page.map(\.uploadID)) }
    return echoed
  }

  /// What a listing says about `page`, noting the uploads whose identity it misstates: an empty key or id, or
  /// (PDS) another drive or parent folder.
  func wireListing(
    _ page: some Collection<SandboxUpload>, dialect: SandboxHostility.Dialect, state: inout State
  ) -> [WireUpload] {
    let shown = state.hostility.listed(page, dialect: dialect)
    guard !state.hostility.lies.isEmpty else { return shown }
    let hostility = state.hostility
    for upload in page {
      let id = upload.uploadID
      if hostility.applies(.emptyKey, to: id) || hostility.applies(.emptyUploadID, to: id)
        || (dialect == .pds && hostility.applies(.otherBucket, to: id))
      {
        state.log.identityLies.insert(id)
      }
    }
    return shown
  }

  /// The Date header, after the hostile clock has had its say. The other headers and the body keep the truth.
  func lieAboutTheDate(_ response: inout SandboxResponse, state: State) {
    let hostility = state.hostility
    guard hostility.lies.contains(.dateAhead) || hostility.lies.contains(.dateBehind) else { return }
    let shown = hostility.date(clock(), response: state.requestCounter)
    for index in response.headers.indices where response.headers[index].0 == "Date" {
      response.headers[index].1 = Timestamp.formatRFC1123(shown)
    }
  }

  /// PDS `file/delete` of an uploading file that `delete-races-completion` picks: its client completes it
  /// now, and the answer is a failure that invites a retry.
  func deleteRacingCompletion(
    of upload: SandboxUpload, in drive: String, state: inout State, fail: (Int, String, String) -> SandboxResponse
  ) -> SandboxResponse? {
    guard state.hostility.applies(.deleteRacesCompletion, to: upload.uploadID) else { return nil }
    Self.complete(uploadID: upload.uploadID, in: drive, at: clock(), state: &state)
    if state.hostility.applies(.deleteRacesCompletion, to: "throttle:" + upload.uploadID) {
      var response = fail(429, "TooManyRequests", "hostile: throttled while the upload completed")
      response.headers.append(("Retry-After", "1"))
      return response
    }
    return fail(503, "ServiceUnavailable", "hostile: unavailable while the upload completed")
  }

  static func etag(_ part: SandboxPart) -> String {
    String(format: "%016llx%016llx", UInt64(part.number) &* 0x9E37_79B9_7F4A_7C15, UInt64(bitPattern: part.size))
  }

  static func etag(_ part: WirePart) -> String {
    String(
      format: "%016llx%016llx", UInt64(bitPattern: Int64(part.number)) &* 0x9E37_79B9_7F4A_7C15,
      UInt64(bitPattern: part.size))
  }

  /// `<Name>time</Name>`, or nothing when the lie leaves the field out.
  static func xmlField(_ name: String, _ time: WireTime, _ format: (Date) -> String) -> String {
    switch time {
    case .date(let date): "<\(name)>\(format(date))</\(name)>"
    case .text(let text): "<\(name)>\(XMLText.escape(text))</\(name)>"
    case .missing: ""
    }
  }

  /// `"Name":"time",`, or nothing when the lie leaves the field out.
  static func jsonField(_ name: String, _ time: WireTime, _ format: (Date) -> String) -> String {
    switch time {
    case .date(let date): "\"\(name)\":\(JSONString.literal(format(date))),"
    case .text(let text): "\"\(name)\":\(JSONString.literal(text)),"
    case .missing: ""
    }
  }
}

extension SandboxRequestLog {
  /// At most this many requests are kept; later ones are only counted.
  public static let requestCap = 50_000

  /// Keeps the requests that act on one upload (or could, by mistake): every one but the listings of uploads
  /// and folders, which a large scan sends by the thousand.
  mutating func record(_ request: SandboxRequest) {
    let (path, query) =
      request.uri.firstIndex(of: "?").map {
        (String(request.uri[..<$0]), String(request.uri[request.uri.index(after: $0)...]))
      } ?? (request.uri, "")
    if path.hasPrefix("/_sandbox/") || path == "/v2/file/list" { return }
    if !path.hasPrefix("/v2/"), request.method == "GET",
      query.split(separator: "&").contains(where: { $0 == "uploads" || $0.hasPrefix("uploads=") })
    {
      return
    }
    guard requests.count < Self.requestCap else {
      requestsDropped += 1
      return
    }
    let body = path.hasPrefix("/v2/") ? String(decoding: request.body.prefix(512), as: UTF8.self) : ""
    requests.append(SandboxLoggedRequest(method: request.method, path: path, query: query, body: body))
  }
}
