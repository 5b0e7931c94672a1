import Foundation
import ReaperCore
import ReaperProviders
import Synchronization

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
    /// `GET /{bucket}?lifecycle` requests served; they are not in `log`.
    var lifecycleReads = 0
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

  /// Deletes a bucket (or drive) and everything in it, as an operator removing it would.
  public func remove(bucket name: String) {
    state.withLock { _ = $0.buckets.removeValue(forKey: name) }
  }

  public var aborted: [SandboxAbort] { state.withLock { $0.aborted } }
  public var requestLog: SandboxRequestLog { state.withLock { $0.log } }
  public var lifecycleReads: Int { state.withLock { $0.lifecycleReads } }

  public func setLifecycle(_ lifecycle: SandboxLifecycle, for bucket: String) {
    state.withLock { $0.buckets[bucket]?.lifecycle = lifecycle }
  }
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

  /// Everything the control API shows, read at once.
  var snapshot: Snapshot { state.withLock { Snapshot($0) } }

  // MARK: requests

  public func handle(_ request: SandboxRequest) -> SandboxResponse {
    let (path, query) = Self.split(request.uri)
    if path.hasPrefix("/_sandbox/") { return control(path: path, request: request) }
    return state.withLock { state in
      if let lifecycle = s3Lifecycle(request, path: path, query: query, state: &state) { return lifecycle }
      state.log.total += 1
      state.requestCounter += 1
      state.log.record(request)
      var response =
        path.hasPrefix("/v2/")
        ? pdsServe(request, path: path, state: &state) : serve(request, path: path, query: query, state: &state)
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
      return cdcsError(400, "InvalidURI", "the path has a malformed %-escape", requestID: requestID, xml: false)
    }
    let trimmed = decodedPath.drop { $0 == "/" }
    let bucketName = String(trimmed.prefix { $0 != "/" })
    let key = trimmed.count > bucketName.count ? String(trimmed.dropFirst(bucketName.count + 1)) : nil
    let asXML = state.buckets[bucketName]?.quirks.errorsAsXML ?? false
    let speaksS3 = request.header("Authorization")?.hasPrefix("AWS4-HMAC-SHA256 ") ?? false
    func fail(_ status: Int, _ code: String, _ message: String) -> SandboxResponse {
      speaksS3
        ? s3Error(status, code, message, requestID: requestID)
        : cdcsError(status, code, message, requestID: requestID, xml: asXML)
    }

    if let injected = injectedFault(&state, throttleCode: "SlowDown", fail: fail) { return injected }

    guard let authorization = request.header("Authorization") else {
      return fail(403, "AccessDenied", "missing Authorization")
    }
    if authorization.hasPrefix("AWS4-HMAC-SHA256 ") {
      return s3Serve(
        request, authorization: authorization, path: decodedPath, bucketName: bucketName, key: key, query: query,
        requestID: requestID, state: &state)
    }
    guard authorization.hasPrefix("q-sign-algorithm=") else {
      return fail(403, "AccessDenied", "unsupported Authorization scheme")
    }
    return cdcsServe(
      request, authorization: authorization, path: decodedPath, bucketName: bucketName, key: key, query: query,
      requestID: requestID, state: &state)
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
  struct Dialect {
    let fail: (Int, String, String) -> SandboxResponse
    let listUploads: (SandboxBucket, [String: String], inout State) -> SandboxResponse
    let listParts: (SandboxBucket, SandboxUpload, [String: String], inout State) -> SandboxResponse
    let headers: [(String, String)]
  }

  func route(
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
