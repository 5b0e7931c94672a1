import Foundation
import ReaperConfig
import ReaperCore
import ReaperWire

/// What every HTTP provider is made with, so that a new one writes only its quirks: its signature, its error
/// codes, its checks of what the server echoes.
struct ProviderPlumbing: Sendable {
  let target: Target
  let credentials: Credentials
  let transport: HTTPTransport
  /// Entries asked for per listing request, within what the API accepts.
  let pageSize: Int
  let maximumPages: Int
  let clock: @Sendable () -> Date

  /// - Parameter largestPage: the API's own limit on entries per page. A configured size beyond it would be
  ///   refused by the server (or silently cut), and one below 1 asks for nothing.
  init(
    target: Target, credentials: Credentials, transport: HTTPTransport, pageSize: Int, largestPage: Int,
    maximumPages: Int, clock: @escaping @Sendable () -> Date = { Date() }
  ) {
    self.target = target
    self.credentials = credentials
    self.transport = transport
    self.pageSize = max(1, min(largestPage, pageSize))
    self.maximumPages = maximumPages
    self.clock = clock
  }
}

/// A provider built on `ProviderPlumbing`: its parts are read through it rather than stored again.
protocol PlumbedProvider: UploadProvider {
  var plumbing: ProviderPlumbing { get }
}

extension PlumbedProvider {
  var credentials: Credentials { plumbing.credentials }
  var transport: HTTPTransport { plumbing.transport }
  var pageSize: Int { plumbing.pageSize }
  var maximumPages: Int { plumbing.maximumPages }
  var clock: @Sendable () -> Date { plumbing.clock }

  /// The error `Pages` ends a walk with when the server hands back a marker it already gave, or the walk reaches
  /// its page limit: a server paging in circles would otherwise hold the cycle for ever.
  /// - Parameters:
  ///   - stopping: the end of the message.
  ///   - shown: the marker as the operator should read it (the provider's markers may be encoded).
  func stalledError(
    bucket: String, request: String, stopping: String = "stopping this walk",
    shown: @escaping @Sendable (_ marker: String) -> String
  ) -> @Sendable (_ marker: String) -> ProviderError {
    { [name = target.name] marker in
      ProviderError(
        kind: .malformedResponse, target: name, bucket: bucket, request: request,
        message: "\(shown(marker)) did not advance: the server repeated a page; \(stopping)")
    }
  }
}

extension RequestContext {
  /// The page a wire decoder reads from `reply`. A body it cannot read ends the request as a malformed response,
  /// with the decoder's reason and the reply's status: nothing of such a page may decide an abort.
  func decode<Value>(
    _ reply: HTTPReply, _ read: (_ body: [UInt8]) throws(WireFailure) -> Value
  ) throws(ProviderError) -> Value {
    do {
      return try read(reply.body)
    } catch {
      throw self.error(.malformedResponse, error.description, status: reply.status)
    }
  }
}

/// A query string exactly as it is signed and sent.
enum Query {
  /// `uploads` is a sub-resource, which S3 and CDCS name without a value (`?uploads`); every other parameter is
  /// `name=value`, both URL-encoded, even when the value is empty.
  static func join(_ parameters: [(String, String)]) -> String {
    parameters.map { name, value in
      value.isEmpty && name == "uploads" ? name : "\(URLEncoding.encode(name))=\(URLEncoding.encode(value))"
    }.joined(separator: "&")
  }
}

extension UploadEntry {
  /// The upload a listing's entry describes, as the S3 and CDCS listings give it.
  func upload(target: String, bucket: String) -> Upload {
    var upload = Upload(target: target, bucket: bucket, key: key, uploadID: uploadID, initiated: initiated)
    upload.otherKeyReading = otherReading
    upload.initiatorID = initiatorID
    upload.ownerID = ownerID
    return upload
  }
}
