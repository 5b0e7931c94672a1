import Foundation
import ReaperCore

/// One page of a bucket's in-progress uploads.
public struct UploadPage: Sendable {
  public var uploads: [Upload]
  /// The server's clock, from the response's `Date` header: ages are measured against it.
  public var serverDate: Date?
  /// Records the provider could not read (an unparseable `Initiated`, say). They are reported, never acted on.
  public var unreadable: [String]

  public init(uploads: [Upload], serverDate: Date?, unreadable: [String] = []) {
    self.uploads = uploads
    self.serverDate = serverDate
    self.unreadable = unreadable
  }
}

/// One page of an upload's parts.
public struct PartPage: Sendable {
  public var parts: [Part]
  /// The `Initiator`/`Owner` IDs the answer names, where the API has them (S3).
  public var initiatorIDs: Set<String> = []
  public var ownerIDs: Set<String> = []

  public init(parts: [Part], initiatorIDs: Set<String> = [], ownerIDs: Set<String> = []) {
    self.parts = parts
    self.initiatorIDs = initiatorIDs
    self.ownerIDs = ownerIDs
  }
}

public enum AbortResult: Sendable, Equatable {
  case aborted
  /// It had already completed or been aborted elsewhere (NoSuchUpload).
  case gone
  /// NoSuchUpload, or the file gone, after an earlier attempt whose answer was lost: that attempt may have
  /// aborted it, or something else did. Said as it is, never counted as an abort of ours.
  case abortedOrGone
  /// The provider's own last look found the upload alive and changed since it was listed, so nothing was
  /// cancelled (PDS re-reads the file before deleting it). The reason says what changed.
  case changed(String)
}

/// What every provider offers. Listings are pulled page by page, so a walk over millions of uploads
/// holds one page at a time, and the next request is made only when the caller asks for it.
public protocol UploadProvider: Sendable {
  var target: Target { get }
  func uploads(bucket: String, prefix: String) -> Pages<UploadPage>
  /// The same walk, told which key prefixes some rule could select (`within`), so that a provider walking a
  /// folder tree (PDS) can skip folders no rule can reach. nil: walk everything. Flat listings ignore it.
  func uploads(bucket: String, prefix: String, within prefixes: [String]?) -> Pages<UploadPage>
  func parts(of upload: Upload) -> Pages<PartPage>
  func abort(_ upload: Upload) async throws(ProviderError) -> AbortResult
  /// The endpoint's bucket names (drive ids for PDS), for `buckets` globs. Only providers whose API documents a
  /// listing (`ProviderKind.listsBuckets`) have one; check-config refuses globs for the others.
  func bucketNames() -> Pages<BucketNamePage>
  /// What the bucket's own configuration says of the server aborting incomplete uploads by itself (S3 lifecycle
  /// rules). Advice only: never an error, and never read on the way to a decision.
  func serverSweeps(bucket: String) async -> ServerSweepLookup
}

/// What a provider could learn of a bucket's server-side sweeps of incomplete uploads.
public enum ServerSweepLookup: Sendable, Equatable {
  /// The provider has no such configuration, or does not read it (CDCS, PDS).
  case unsupported
  /// Read: no configuration at all is an empty reading.
  case read(LifecycleReading)
  /// The credentials may not read it: unknown.
  case accessDenied(String)
  /// Any other failure: unknown.
  case failed(String)
}

extension UploadProvider {
  public func bucketNames() -> Pages<BucketNamePage> {
    let target = target
    let refusal = ProviderError(
      kind: .invalidArgument, target: target.name, bucket: "", request: "list buckets",
      message: "\(target.provider.rawValue) documents no listing of buckets; name each bucket in buckets")
    let fetch: Pages<BucketNamePage>.Fetch = { (_: String?) async throws(ProviderError) in throw refusal }
    return Pages(stalled: { _ in refusal }, fetch: fetch)
  }

  public func uploads(bucket: String, prefix: String, within prefixes: [String]?) -> Pages<UploadPage> {
    uploads(bucket: bucket, prefix: prefix)
  }

  public func serverSweeps(bucket: String) async -> ServerSweepLookup { .unsupported }

  /// What every request about one upload is built from. A record that cannot make one (an empty key or id, a
  /// path a proxy would rewrite) is never listed, re-checked or aborted: the request is not sent.
  public func address(of upload: Upload, keyInPath: Bool, request: String) throws(ProviderError) -> UploadAddress {
    do {
      return try UploadAddress(upload, keyInPath: keyInPath)
    } catch {
      throw ProviderError(
        kind: .unaddressable, target: target.name, bucket: upload.bucket, request: request,
        message: "not sent: \(error.description)")
    }
  }

  /// Every part of `upload`, folded page by page.
  public func partsSummary(of upload: Upload) async throws(ProviderError) -> PartsSummary {
    var summary = PartsSummary()
    do {
      for try await page in parts(of: upload) {
        for part in page.parts { summary.add(part) }
        for (ids, said) in [(summary.initiatorIDs, page.initiatorIDs), (summary.ownerIDs, page.ownerIDs)] {
          if let id = said.first(where: { ids.spelledOtherwise($0) != nil }) {
            throw ProviderError(
              kind: .inconsistentResponse, target: target.name, bucket: upload.bucket,
              request: "list parts of \(upload.key)",
              message: "the pages name ID \"\(id.prefix(128))\" in two Unicode spellings; not trusted")
          }
        }
        summary.initiatorIDs.formUnion(page.initiatorIDs)
        summary.ownerIDs.formUnion(page.ownerIDs)
      }
    } catch let error as ProviderError {
      throw error
    } catch let stopped as WalkControl.Stopped {
      throw ProviderError(
        kind: .other, target: target.name, bucket: upload.bucket, request: "list parts of \(upload.key)",
        message: stopped.description)
    } catch {
      throw ProviderError(
        kind: .other, target: target.name, bucket: upload.bucket, request: "list parts of \(upload.key)",
        message: "\(error)")
    }
    return summary
  }
}

/// What a walk needs to know about the cycle it serves. A task-local, so that every provider's pages honour it
/// without each listing call carrying it.
public enum WalkControl {
  /// Whether the cycle must start no new request (SIGTERM). A class, not the closure itself: an optimised build
  /// (Swift 6.3, -O) that binds a closure-typed task-local crashes in swift_task_localValuePush, while a
  /// reference-sized value binds safely.
  public final class StopSignal: Sendable {
    let isSet: @Sendable () -> Bool
    public init(_ isSet: @escaping @Sendable () -> Bool) { self.isSet = isSet }
    public static let never = StopSignal { false }
  }

  @TaskLocal public static var signal: StopSignal = .never

  /// True once the cycle must start no new request: no page is then fetched ahead.
  public static func stopRequested() -> Bool { signal.isSet() }

  /// A walk ended by a stop before its end.
  public struct Stopped: Error, CustomStringConvertible {
    public var description: String { "not continued: the cycle is stopping" }
  }
}

/// The page fetched ahead, cancelled when the walk that asked for it is dropped (a `break`, a stop, a timeout),
/// so no request outlives the loop that wanted it.
final class Prefetch<Value: Sendable>: @unchecked Sendable {
  // Touched only by the iterator that owns it, which is never shared between tasks.
  var task: Task<Value, any Error>?

  deinit { task?.cancel() }

  func take() -> Task<Value, any Error>? {
    defer { task = nil }
    return task
  }
}

/// A listing that is a walk rather than one chain of markers (a folder tree, say). Each call to `next` makes at
/// most one request and returns its page, or nil when the walk is over. A walk serves one iteration only, so
/// it keeps its own state; it is responsible for its own bounds and for detecting markers that do not advance.
public protocol PageWalk<Page>: AnyObject {
  associatedtype Page: Sendable
  func next() async throws(ProviderError) -> Page?
}

/// A paged listing driven by an opaque marker. It ends with an error, never a loop, when the server hands
/// back a marker it has already given (a stalled or cycling marker), and it stops after `maximumPages`.
/// Or a `PageWalk`, made afresh for each iteration.
public struct Pages<Page: Sendable>: AsyncSequence, Sendable {
  public typealias Element = Page

  /// Fetches the page after `marker` (nil for the first) and returns it with the next marker, or nil at the end.
  public typealias Fetch = @Sendable (_ marker: String?) async throws(ProviderError) -> (Page, next: String?)

  enum Source: Sendable {
    /// `stalled` builds the error for a marker that did not advance.
    case chain(fetch: Fetch, maximumPages: Int, stalled: @Sendable (_ marker: String) -> ProviderError)
    case walk(@Sendable () -> any PageWalk<Page>)
  }

  let source: Source

  public init(
    maximumPages: Int = PageLimit.defaultMaximumPages, stalled: @escaping @Sendable (_ marker: String) -> ProviderError,
    fetch: @escaping Fetch
  ) {
    source = .chain(fetch: fetch, maximumPages: maximumPages, stalled: stalled)
  }

  public init(walk: @escaping @Sendable () -> any PageWalk<Page>) {
    source = .walk(walk)
  }

  public func makeAsyncIterator() -> Iterator { Iterator(source: source) }

  public struct Iterator: AsyncIteratorProtocol {
    let source: Source
    var marker: String?
    var finished = false
    var count = 0
    /// Every marker handed out so far: a repeat means the server is going round in circles.
    var seen: Set<String> = []
    var walk: (any PageWalk<Page>)?
    /// The next page of a chain, already requested while the caller works on this one, so the server's time and
    /// ours overlap. Only ever one ahead, so memory stays at two pages.
    let prefetched = Prefetch<(Page, String?)>()

    init(source: Source) { self.source = source }

    public mutating func next() async throws -> Page? {
      guard !finished else { return nil }
      // A stop starts no new request: a listing already under way (a parts listing a hostile server pages one
      // part at a time, say) ends here, with an error, so the caller does not take it for a complete answer.
      if count > 0 || walk != nil, WalkControl.stopRequested() {
        finished = true
        throw WalkControl.Stopped()
      }
      switch source {
      case .walk(let makeWalk):
        let current = walk ?? makeWalk()
        walk = current
        do {
          guard let page = try await current.next() else {
            finished = true
            return nil
          }
          return page
        } catch {
          finished = true
          throw error
        }
      case .chain(let fetch, let maximumPages, let stalled):
        if count >= maximumPages {
          finished = true
          throw stalled("page limit \(maximumPages) reached after marker \(marker ?? "")")
        }
        count += 1
        let (page, next): (Page, String?)
        do {
          if let ahead = prefetched.take() {
            (page, next) = try await ahead.value
          } else {
            (page, next) = try await fetch(marker)
          }
        } catch {
          finished = true
          throw error
        }
        if let next {
          guard seen.insert(next).inserted, next != marker else {
            finished = true
            throw stalled(next)
          }
          marker = next
          if count < maximumPages, !Task.isCancelled, !WalkControl.stopRequested() {
            prefetched.task = Task { () async throws -> (Page, String?) in try await fetch(next) }
          }
        } else {
          finished = true
        }
        return page
      }
    }
  }
}

/// A provider failure, typed so the engine knows what to do, and carrying where it happened.
public struct ProviderError: Error, Sendable, CustomStringConvertible {
  /// What went wrong, as the engine acts on it: the one vocabulary of error kinds, `gone` included.
  public typealias Kind = ErrorKind

  public var kind: Kind
  /// How the error is counted; nil for `gone`, which is an outcome, not an error.
  public var errorKind: ErrorKind? { kind.asError }
  public var target: String
  public var bucket: String
  /// Method and path, such as `GET /coffer?uploads&prefix=tmp%2F`: never a signature or credential.
  public var request: String
  public var status: Int?
  public var code: String?
  public var message: String
  public var requestID: String?
  /// How many times the request was sent before this error ended it.
  public var attempts = 1
  /// The server's `Retry-After`, when it gave one.
  public var retryAfter: Duration?

  public init(
    kind: Kind, target: String, bucket: String, request: String, status: Int? = nil, code: String? = nil,
    message: String, requestID: String? = nil
  ) {
    self.kind = kind
    self.target = target
    self.bucket = bucket
    self.request = request
    self.status = status
    self.code = code
    self.message = message
    self.requestID = requestID
  }

  public var description: String {
    var text = bucket.isEmpty ? "target \(target): \(request): " : "target \(target), bucket \(bucket): \(request): "
    if let status { text += "HTTP \(status) " }
    if let code { text += "\(code): " }
    text += message
    if let requestID { text += " (request id \(requestID))" }
    return text
  }
}
