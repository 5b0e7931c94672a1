import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ReaperCore

public struct HTTPSettings: Sendable {
  public var connectTimeout: Duration = .seconds(5)
  /// Longest silence while a response is coming in.
  public var readTimeout: Duration = .seconds(30)
  /// Longest a whole request may take, body included.
  public var requestTimeout: Duration = .seconds(60)
  /// Tries per request, the first included. Six: at one request in seven failing, a read then fails about once
  /// in 100,000 (four left one in 2,400, which cost a stale upload its decision in a busy cycle).
  public var maxAttempts = 6
  public var baseBackoff: Duration = .milliseconds(200)
  public var maxBackoff: Duration = .seconds(10)
  /// A `Retry-After` longer than this is cut to it, so a server cannot park a cycle.
  public var maxRetryAfter: Duration = .seconds(60)
  /// A response body larger than this is refused: one listing page is far smaller.
  public var maxBodyBytes = 32 << 20

  public init() {}
}

/// Whether a failed request may be sent again as it is. Reads and idempotent aborts may; a request that
/// destroys data and is not idempotent (the PDS delete) may not: its caller reads the state again first.
public enum RetryPolicy: Sendable {
  case whenRetryable
  case never
}

/// A request as a provider builds it for one attempt.
public struct HTTPExchange: Sendable {
  public var method: HTTPMethod
  public var url: String
  public var headers: HTTPHeaders
  public var body: [UInt8]?

  public init(method: HTTPMethod, url: String, headers: HTTPHeaders, body: [UInt8]? = nil) {
    self.method = method
    self.url = url
    self.headers = headers
    self.body = body
  }
}

public struct HTTPReply: Sendable {
  public var status: Int
  public var headers: HTTPHeaders
  public var body: [UInt8]

  public init(status: Int, headers: HTTPHeaders, body: [UInt8]) {
    self.status = status
    self.headers = headers
    self.body = body
  }

  /// The server's clock.
  public var date: Date? { headers.first(name: "Date").flatMap(Timestamp.parseRFC1123) }
}

/// Where a request is going, for errors and logs.
public struct RequestContext: Sendable {
  public var target: String
  public var bucket: String
  /// Method and path, never a credential.
  public var request: String

  public init(target: String, bucket: String, request: String) {
    self.target = target
    self.bucket = bucket
    self.request = request
  }

  func error(
    _ kind: ProviderError.Kind, _ message: String, status: Int? = nil, code: String? = nil, requestID: String? = nil
  ) -> ProviderError {
    ProviderError(
      kind: kind, target: target, bucket: bucket, request: request, status: status, code: code, message: message,
      requestID: requestID)
  }
}

/// The HTTP layer every provider shares: a pool of clients (one per TLS and proxy setting), timeouts, and
/// bounded retries with exponential backoff and full jitter for retryable failures, honouring `Retry-After`.
/// `route(for:)` gives a target its own view of the transport, with its TLS files and proxy; the default view
/// uses the system's trust store and the proxy environment variables.
public final class HTTPTransport: Sendable {
  public let settings: HTTPSettings
  let pool: ClientPool
  private let logger: Logger
  let proxies: ProxyEnvironment
  let tls: TLSMaterial?
  /// The target's `proxy`, which replaces the environment's.
  let proxyOverride: String?

  public init(
    settings: HTTPSettings = HTTPSettings(), logger: Logger = Logger(label: "upload-reaper.http"),
    environment: [String: String] = ProcessInfo.processInfo.environment
  ) {
    self.settings = settings
    self.logger = logger
    var configuration = HTTPClient.Configuration()
    configuration.timeout = .init(
      connect: TimeAmount(settings.connectTimeout), read: TimeAmount(settings.readTimeout))
    // A redirect (a wrong region, say) must surface as an error, not be followed with our signature.
    configuration.redirectConfiguration = .disallow
    configuration.decompression = .disabled
    configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
    // A failed connection fails its request at once, so `send` decides: a refused connection is retried with
    // the backoff above, a TLS failure is not retried at all. Left on, the client would reconnect on its own
    // until the connect timeout, a dozen handshakes against a server whose certificate we refuse.
    configuration.connectionPool.retryConnectionEstablishment = false
    pool = ClientPool(base: configuration)
    proxies = ProxyEnvironment(environment)
    tls = nil
    proxyOverride = nil
  }

  private init(sharing parent: HTTPTransport, tls: TLSMaterial?, proxyOverride: String?) {
    settings = parent.settings
    pool = parent.pool
    logger = parent.logger
    proxies = parent.proxies
    self.tls = tls
    self.proxyOverride = proxyOverride
  }

  /// The transport for one target: its TLS files read now (so a renewed certificate or a reloaded config is
  /// used from this cycle on) and its proxy. Shares this transport's clients and settings.
  public func route(for target: Target) throws(ProviderError) -> HTTPTransport {
    guard target.tls != nil || target.proxy != nil else { return self }
    var material: TLSMaterial?
    if let tls = target.tls {
      do {
        material = try TLSMaterial.load(tls)
      } catch {
        throw ProviderError(
          kind: .other, target: target.name, bucket: "", request: "TLS setup for \(target.endpoint)",
          message: error.description)
      }
    }
    return HTTPTransport(sharing: self, tls: material, proxyOverride: target.proxy)
  }

  /// Shuts down every client whose setting no request used since the last call: the daemon calls it after each
  /// cycle, so a reload that changes a target's TLS files or proxy leaves no old client behind.
  public func retireUnusedClients() async { await pool.retireUnused() }

  /// How many clients are open, for tests.
  public var openClients: Int { pool.count }

  /// Shuts down every client of the process: call it once, on the transport that was created first.
  public func shutdown() async {
    await pool.shutdown()
  }

  /// Sends the request that `build` makes, anew for each attempt so signatures and dates stay fresh.
  /// `classify` turns a reply into an error, or nil when it is a success; retryable errors are retried.
  public func send(
    _ context: RequestContext, retry: RetryPolicy = .whenRetryable, build: () throws(ProviderError) -> HTTPExchange,
    classify: (HTTPReply) -> ProviderError?
  ) async throws(ProviderError) -> HTTPReply {
    var attempt = 0
    while true {
      attempt += 1
      var failure: ProviderError
      var retryAfter: Duration?
      var url: String?
      do {
        let exchange = try build()
        url = exchange.url
        let started = ContinuousClock.now
        let reply: HTTPReply
        do {
          reply = try await once(exchange, context: context)
        } catch {
          Self.report(Self.isTimeout(error) ? .timedOut : .failed, started: started)
          throw error
        }
        let answer = classify(reply)
        Self.report(.of(status: reply.status, error: answer), started: started)
        guard let error = answer else { return reply }
        failure = error
        retryAfter = reply.headers.first(name: "Retry-After").flatMap(Self.parseRetryAfter)
      } catch let error as ProviderError {
        failure = error
      } catch {
        if let tlsFailure = TLSFailure(error) {
          // Trust does not change between attempts; retrying would only knock on the server again.
          failure = context.error(.other, await describeTLS(tlsFailure, url: url))
        } else if let refusal = Self.proxyRefusal(error) {
          failure = context.error(.other, refusal)
        } else {
          failure = context.error(.retryable, Self.describeTransport(error))
        }
      }
      failure.attempts = attempt
      failure.retryAfter = retryAfter.map { min($0, settings.maxRetryAfter) }
      guard failure.kind == .retryable, retry == .whenRetryable, attempt < settings.maxAttempts, !Task.isCancelled,
        !WalkControl.stopRequested()
      else { throw failure }
      let delay = retryAfter.map { min($0, settings.maxRetryAfter) } ?? backoff(attempt: attempt)
      logger.warning(
        "retrying after a retryable failure",
        metadata: [
          "target": "\(context.target)", "bucket": "\(context.bucket)", "attempt": "\(attempt)",
          "delay_ms": "\(delay.milliseconds)", "error": "\(failure)",
        ])
      do {
        try await Task.sleep(for: delay)
      } catch {
        throw context.error(.other, "cancelled while waiting to retry: \(failure.message)")
      }
    }
  }

  private func once(_ exchange: HTTPExchange, context: RequestContext) async throws -> HTTPReply {
    var request = HTTPClientRequest(url: exchange.url)
    request.method = exchange.method
    request.headers = exchange.headers
    // A caching proxy would hand the re-check the decision's own answer, and the re-check would prove nothing.
    request.headers.replaceOrAdd(name: "Cache-Control", value: "no-cache")
    if let body = exchange.body { request.body = .bytes(ByteBuffer(bytes: body)) }
    let client = try client(for: exchange.url, context: context)
    let response = try await client.execute(request, timeout: TimeAmount(settings.requestTimeout))
    let body: ByteBuffer
    do {
      body = try await response.body.collect(upTo: settings.maxBodyBytes)
    } catch is NIOTooManyBytesError {
      throw context.error(
        .malformedResponse, "response body larger than \(settings.maxBodyBytes) bytes",
        status: Int(response.status.code))
    }
    if let age = response.headers.first(name: "Age") {
      throw context.error(
        .malformedResponse, "answered from a cache (Age: \(age.prefix(32))), not by the server; not trusted",
        status: Int(response.status.code))
    }
    return HTTPReply(status: Int(response.status.code), headers: response.headers, body: Array(body.readableBytesView))
  }

  /// Tells the task's observer (the target's concurrency window) what one attempt came to.
  static func report(_ outcome: RequestOutcome, started: ContinuousClock.Instant) {
    RequestObservation.observer?.requestEnded(outcome, started: started, ended: .now)
  }

  /// A read or whole-request timeout: the server took too long to answer, which is load. A connect timeout is
  /// not counted so: it says the server is unreachable, and fewer requests would not change that.
  static func isTimeout(_ error: Error) -> Bool {
    guard let error = error as? HTTPClientError else { return false }
    return error == .readTimeout || error == .deadlineExceeded
  }

  /// Full jitter: a uniform delay between zero and the exponential ceiling.
  func backoff(attempt: Int) -> Duration {
    let ceiling = min(settings.maxBackoff, settings.baseBackoff * (1 << min(attempt - 1, 20)))
    return .milliseconds(Int64.random(in: 0...max(1, ceiling.milliseconds)))
  }

  /// Seconds, or an HTTP date.
  static func parseRetryAfter(_ value: String) -> Duration? {
    let trimmed = value.trimmingCharacters(in: .whitespaces)
    if let seconds = Int(trimmed), seconds >= 0 { return .seconds(seconds) }
    guard let date = Timestamp.parseRFC1123(trimmed) else { return nil }
    return .milliseconds(Int64(max(0, date.timeIntervalSinceNow) * 1000))
  }

  static func describeTransport(_ error: Error) -> String {
    if let error = error as? HTTPClientError {
      switch error {
      case .readTimeout: return "read timeout"
      case .connectTimeout: return "connect timeout"
      case .deadlineExceeded: return "request timeout"
      case .remoteConnectionClosed: return "connection closed by the server"
      default: return "transport error: \(error)"
      }
    }
    if error is CancellationError { return "cancelled" }
    return "transport error: \(error)"
  }
}

extension Duration {
  var milliseconds: Int64 {
    let (seconds, attoseconds) = components
    return seconds * 1000 + attoseconds / 1_000_000_000_000_000
  }
}

extension TimeAmount {
  init(_ duration: Duration) {
    self = .milliseconds(duration.milliseconds)
  }
}
