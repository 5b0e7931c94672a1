import NIOCore
import NIOHTTP1
import NIOPosix
import ReaperConfig
import ReaperProviders

/// `[metrics] listen`: serves `GET /metrics` in the Prometheus text format, and nothing else.
public final class MetricsEndpoint: Sendable {
  private let listener: HTTPListener

  public var port: Int { listener.port }

  private init(listener: HTTPListener) { self.listener = listener }

  /// Binds `address` and starts serving `metrics`. Throws when the address cannot be bound (in use, say).
  public static func start(_ address: ListenAddress, metrics: CycleMetrics) async throws -> MetricsEndpoint {
    let listener = try await HTTPListener.start(host: address.host, port: address.port, backlog: 64) { connection in
      await serve(connection, metrics: metrics)
    }
    return MetricsEndpoint(listener: listener)
  }

  public func stop() async { await listener.stop() }

  private static func serve(
    _ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, metrics: CycleMetrics
  ) async {
    do {
      try await connection.executeThenClose { inbound, outbound in
        var head: HTTPRequestHead?
        for try await part in inbound {
          switch part {
          case .head(let requestHead):
            head = requestHead
          case .body:
            // Request bodies mean nothing here; they are read and dropped.
            continue
          case .end:
            guard let request = head else { continue }
            let path = request.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.uri
            let (status, contentType, body): (HTTPResponseStatus, String, String) =
              switch (request.method, path) {
              case (.GET, "/metrics"), (.HEAD, "/metrics"):
                (.ok, "text/plain; version=0.0.4; charset=utf-8", metrics.text())
              case (.GET, "/"), (.HEAD, "/"):
                (.ok, "text/plain; charset=utf-8", "upload-reaper: metrics are at /metrics\n")
              case (_, "/metrics"), (_, "/"):
                (.methodNotAllowed, "text/plain; charset=utf-8", "only GET is served here\n")
              default:
                (.notFound, "text/plain; charset=utf-8", "not found: metrics are at /metrics\n")
              }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Content-Length", value: "\(body.utf8.count)")
            headers.add(name: "Connection", value: request.isKeepAlive ? "keep-alive" : "close")
            if status == .methodNotAllowed { headers.add(name: "Allow", value: "GET, HEAD") }
            try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers)))
            if request.method != .HEAD { try await outbound.write(.body(.byteBuffer(ByteBuffer(string: body)))) }
            try await outbound.write(.end(nil))
            if !request.isKeepAlive { return }
          }
        }
      }
    } catch {
      // A scraper that hung up mid-response is not our problem.
    }
  }
}
