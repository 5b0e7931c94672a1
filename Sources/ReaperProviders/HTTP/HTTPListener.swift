import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A listening HTTP/1.1 socket that hands each connection to `serve`: shared by the metrics endpoint and the
/// sandbox, which differ only in what they answer.
public final class HTTPListener: Sendable {
  public typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

  /// The bound port: the one asked for, or the system's pick for port 0.
  public let port: Int
  private let channel: NIOAsyncChannel<Connection, Never>
  private let acceptLoop: Task<Void, Never>

  private init(port: Int, channel: NIOAsyncChannel<Connection, Never>, acceptLoop: Task<Void, Never>) {
    self.port = port
    self.channel = channel
    self.acceptLoop = acceptLoop
  }

  /// - Parameter tls: serve HTTPS with this context (the sandbox's TLS tests); nil serves plain HTTP.
  public static func start(
    host: String, port: Int, backlog: Int32 = 256, tls: NIOSSLContext? = nil,
    serve: @escaping @Sendable (Connection) async -> Void
  ) async throws -> HTTPListener {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      .serverChannelOption(ChannelOptions.backlog, value: backlog)
      .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
      .bind(host: host, port: port) { child in
        child.eventLoop.makeCompletedFuture {
          if let tls { try child.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
          try child.pipeline.syncOperations.configureHTTPServerPipeline()
          return try Connection(wrappingChannelSynchronously: child)
        }
      }
    let boundPort = channel.channel.localAddress?.port ?? port
    let loop = Task {
      await withDiscardingTaskGroup { group in
        do {
          try await channel.executeThenClose { connections in
            for try await connection in connections {
              group.addTask { await serve(connection) }
            }
          }
        } catch {
          // The listening socket closed: the server is stopping.
        }
      }
    }
    return HTTPListener(port: boundPort, channel: channel, acceptLoop: loop)
  }

  public func stop() async {
    try? await channel.channel.close()
    acceptLoop.cancel()
  }
}
