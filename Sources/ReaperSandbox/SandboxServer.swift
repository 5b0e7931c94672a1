import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import ReaperProviders

/// The sandbox on the network: SwiftNIO's HTTP/1.1 server in front of a `SandboxStore`, on 127.0.0.1 only.
public final class SandboxServer: Sendable {
  public let store: SandboxStore
  private let listener: HTTPListener

  /// The bound port; port 0 at start picks a free one.
  public var port: Int { listener.port }

  private init(store: SandboxStore, listener: HTTPListener) {
    self.store = store
    self.listener = listener
  }

  /// Binds and starts serving. Port 0 picks a free port; `port` says which.
  public static func start(
    store: SandboxStore, host: String = "127.0.0.1", port: Int = 0, tls: SandboxTLS? = nil
  ) async throws -> SandboxServer {
    let context = try tls.map { try NIOSSLContext(configuration: $0.configuration()) }
    let listener = try await HTTPListener.start(host: host, port: port, tls: context) { connection in
      await serve(connection, store: store)
    }
    return SandboxServer(store: store, listener: listener)
  }

  public func stop() async { await listener.stop() }

  private static func serve(
    _ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, store: SandboxStore
  ) async {
    do {
      try await connection.executeThenClose { inbound, outbound in
        var head: HTTPRequestHead?
        var body: [UInt8] = []
        for try await part in inbound {
          switch part {
          case .head(let requestHead):
            head = requestHead
            body = []
          case .body(let buffer):
            body += buffer.readableBytesView
          case .end:
            guard let requestHead = head else { continue }
            let request = SandboxRequest(
              method: requestHead.method.rawValue, uri: requestHead.uri,
              headers: requestHead.headers.map { ($0.name, $0.value) }, body: body)
            let response = store.handle(request)
            if response.delayMilliseconds > 0 { try await Task.sleep(for: .milliseconds(response.delayMilliseconds)) }
            switch response.delivery {
            case .hang:
              // Hold the connection open and say nothing until the client gives up.
              try await Task.sleep(for: .seconds(3600))
              return
            case .resetMidBody:
              try await outbound.write(.head(responseHead(response, keepAlive: false)))
              try await outbound.write(
                .body(.byteBuffer(ByteBuffer(bytes: response.body.prefix(response.body.count / 2)))))
              // Returning closes the connection with the body incomplete.
              return
            case .normal:
              try await outbound.write(.head(responseHead(response, keepAlive: requestHead.isKeepAlive)))
              if !response.body.isEmpty {
                try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: response.body))))
              }
              try await outbound.write(.end(nil))
              if !requestHead.isKeepAlive { return }
            }
          }
        }
      }
    } catch {
      // A client that went away mid-exchange is normal for a test server.
    }
  }

  private static func responseHead(_ response: SandboxResponse, keepAlive: Bool) -> HTTPResponseHead {
    var headers = HTTPHeaders(response.headers)
    headers.replaceOrAdd(name: "Content-Length", value: "\(response.body.count)")
    headers.replaceOrAdd(name: "Connection", value: keepAlive ? "keep-alive" : "close")
    return HTTPResponseHead(
      version: .http1_1, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
  }
}
