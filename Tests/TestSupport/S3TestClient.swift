import Crypto
import Foundation
import NIOHTTP1
import ReaperConfig
import ReaperCore
import ReaperProviders

/// The Ceph RGW that `scripts/ceph start` runs, as `scripts/test` exports it.
public struct CephEnvironment: Sendable {
  public var endpoint: String
  /// A gateway running ten days in the past: uploads made through it are ten days old.
  public var agedEndpoint: String
  public var accessKey: String
  public var secretKey: String

  public var credentials: Credentials { Credentials(accessKeyID: accessKey, secretAccessKey: secretKey) }
  /// reaper-owner, who owns the buckets of the discovery tests, and reaper-other, who starts uploads in them.
  public var ownerCredentials: Credentials?
  public var otherCredentials: Credentials?

  /// nil when the variables are missing; tests then fail, never skip, unless UPLOAD_REAPER_SKIP_CEPH=1.
  public static let current: CephEnvironment? = {
    let environment = ProcessInfo.processInfo.environment
    guard let endpoint = environment["UPLOAD_REAPER_CEPH_ENDPOINT"],
      let aged = environment["UPLOAD_REAPER_CEPH_AGED_ENDPOINT"],
      let accessKey = environment["UPLOAD_REAPER_CEPH_ACCESS_KEY"],
      let secretKey = environment["UPLOAD_REAPER_CEPH_SECRET_KEY"]
    else { return nil }
    var ceph = CephEnvironment(endpoint: endpoint, agedEndpoint: aged, accessKey: accessKey, secretKey: secretKey)
    func user(_ name: String) -> Credentials? {
      guard let access = environment["UPLOAD_REAPER_CEPH_\(name)_ACCESS_KEY"],
        let secret = environment["UPLOAD_REAPER_CEPH_\(name)_SECRET_KEY"]
      else { return nil }
      return Credentials(accessKeyID: access, secretAccessKey: secret)
    }
    ceph.ownerCredentials = user("OWNER")
    ceph.otherCredentials = user("OTHER")
    return ceph
  }()

  public static var explicitlySkipped: Bool { ProcessInfo.processInfo.environment["UPLOAD_REAPER_SKIP_CEPH"] == "1" }

  public static let missingMessage =
    "Ceph RGW is not running: run the tests with scripts/test, which starts it (or scripts/ceph start, then source /tmp/upload-reaper-ceph/env)"

  public func target(name: String = "ceph", buckets: [String], credentialsFile: String? = nil) -> Target {
    Target(
      name: name, provider: .s3, endpoint: endpoint, region: "us-east-1", buckets: buckets,
      credentialsFile: credentialsFile, pathStyle: true)
  }
}

/// Just enough of an S3 client to make real multipart uploads for the reaper to find.
public struct S3TestClient: Sendable {
  public let endpoint: String
  public let credentials: Credentials
  public let transport: HTTPTransport
  /// Added to this host's clock when signing: a gateway that runs in the past wants its own time.
  public let clockOffset: TimeInterval

  public init(endpoint: String, credentials: Credentials, transport: HTTPTransport, clockOffset: TimeInterval = 0) {
    self.endpoint = endpoint
    self.credentials = credentials
    self.transport = transport
    self.clockOffset = clockOffset
  }

  public struct Failure: Error, CustomStringConvertible {
    public var description: String
  }

  @discardableResult
  public func request(
    _ method: HTTPMethod, path: String, query: [(String, String)] = [], body: [UInt8] = [],
    headers extra: [(String, String)] = []
  ) async throws -> HTTPReply {
    let host = Endpoint(endpoint).authority()
    let signer = SigV4Signer(
      accessKey: credentials.accessKeyID ?? "", secretKey: credentials.secretAccessKey ?? "", region: "us-east-1")
    let queryText = query.map {
      $0.1.isEmpty ? URLEncoding.encode($0.0) : "\(URLEncoding.encode($0.0))=\(URLEncoding.encode($0.1))"
    }
    .joined(separator: "&")
    let encodedPath = URLEncoding.encode(path, keepSlash: true)
    let context = RequestContext(target: "test-client", bucket: "", request: "\(method.rawValue) \(encodedPath)")
    let reply = try await transport.send(
      context,
      build: { () throws(ProviderError) -> HTTPExchange in
        let amzDate = SigV4Signer.amzDate(Date().addingTimeInterval(clockOffset))
        let hash = SigV4Signer.payloadHash(body)
        let signed = [("host", host), ("x-amz-content-sha256", hash), ("x-amz-date", amzDate)] + extra
        let signature = signer.sign(
          method: method.rawValue, path: path, query: query, headers: signed, payloadHash: hash, amzDate: amzDate)
        var headers = HTTPHeaders()
        for (name, value) in signed { headers.add(name: name, value: value) }
        headers.add(name: "Authorization", value: signature.authorization)
        return HTTPExchange(
          method: method, url: "\(endpoint)\(encodedPath)" + (queryText.isEmpty ? "" : "?\(queryText)"),
          headers: headers, body: body.isEmpty && method != .PUT && method != .POST ? nil : body)
      },
      classify: { reply in
        ErrorClassifier.classify(reply, context: context, goneCodes: [], requestIDHeader: "x-amz-request-id")
      })
    return reply
  }

  public func createBucket(_ name: String) async throws {
    try await request(.PUT, path: "/\(name)")
  }

  /// A bucket every authenticated user may write to, so that another user's uploads can be started in it.
  public func createSharedBucket(_ name: String) async throws {
    try await request(.PUT, path: "/\(name)", headers: [("x-amz-acl", "public-read-write")])
  }

  /// The requester's buckets (one page: the test users own few).
  public func bucketNames() async throws -> [String] {
    let reply = try await request(.GET, path: "/")
    var names: [String] = []
    _ = StreamingXML.parse(reply.body) { path, text in
      if path.last == "Name", path.count == 4 { names.append(text) }
    }
    return names
  }

  /// Every upload in `bucket` as (key, upload id), one page of up to 1,000.
  public func uploads(in bucket: String) async throws -> [(key: String, uploadID: String)] {
    let reply = try await request(.GET, path: "/\(bucket)", query: [("uploads", "")])
    var found: [(String, String)] = []
    var key = ""
    _ = StreamingXML.parse(reply.body) { path, text in
      if path.count == 3, path[1] == "Upload", path.last == "Key" { key = text }
      if path.count == 3, path[1] == "Upload", path.last == "UploadId" { found.append((key, text)) }
    }
    return found
  }

  public func abort(bucket: String, key: String, uploadID: String) async throws {
    try await request(.DELETE, path: "/\(bucket)/\(key)", query: [("uploadId", uploadID)])
  }

  /// Replaces the bucket's lifecycle configuration (`PUT /{bucket}?lifecycle`, which wants a Content-MD5).
  public func putLifecycle(bucket: String, _ document: String) async throws {
    let body = Array(document.utf8)
    let digest = Data(Insecure.MD5.hash(data: body)).base64EncodedString()
    try await request(
      .PUT, path: "/\(bucket)", query: [("lifecycle", "")], body: body, headers: [("Content-MD5", digest)])
  }

  public func deleteLifecycle(bucket: String) async throws {
    try await request(.DELETE, path: "/\(bucket)", query: [("lifecycle", "")])
  }

  /// Starts a multipart upload and returns its id.
  public func initiate(bucket: String, key: String) async throws -> String {
    let reply = try await request(.POST, path: "/\(bucket)/\(key)", query: [("uploads", "")])
    var uploadID: String?
    _ = StreamingXML.parse(reply.body) { path, text in
      if path.last == "UploadId" { uploadID = text }
    }
    guard let uploadID else {
      throw Failure(description: "no UploadId in \(String(decoding: reply.body, as: UTF8.self))")
    }
    return uploadID
  }

  public func uploadPart(bucket: String, key: String, uploadID: String, number: Int, size: Int) async throws {
    try await request(
      .PUT, path: "/\(bucket)/\(key)", query: [("partNumber", "\(number)"), ("uploadId", uploadID)],
      body: [UInt8](repeating: UInt8(number & 0xFF), count: size))
  }

  /// Starts many uploads, `concurrency` at a time; returns (key, upload id) in the order given.
  public func initiateMany(bucket: String, keys: [String], concurrency: Int = 16) async throws -> [(String, String)] {
    var results = [(String, String)?](repeating: nil, count: keys.count)
    try await withThrowingTaskGroup(of: (Int, String).self) { group in
      var inFlight = 0
      for (index, key) in keys.enumerated() {
        if inFlight >= concurrency, let (done, id) = try await group.next() {
          results[done] = (keys[done], id)
          inFlight -= 1
        }
        group.addTask { (index, try await initiate(bucket: bucket, key: key)) }
        inFlight += 1
      }
      for try await (done, id) in group { results[done] = (keys[done], id) }
    }
    return results.map { $0! }
  }
}
