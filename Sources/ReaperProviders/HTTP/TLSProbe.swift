import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// BoringSSL says only CERTIFICATE_VERIFY_FAILED for an unknown CA, an expired certificate and one not yet
/// valid. After such a failure the probe connects once more with the same trust, records the chain the server
/// shows, refuses it, and reads the dates: the handshake is all it sends, so the server sees no request.
enum TLSProbe {
  /// - Parameter proxy: the proxy the failed request went through; the probe asks it for a tunnel too.
  static func diagnose(
    host: String, port: Int, configuration: TLSConfiguration, trustSource: String, proxy: ProxyServer? = nil,
    now: Date = Date()
  ) async -> String {
    let generic = "certificate verification failed: not trusted by \(trustSource), expired, or not yet valid"
    guard let chain = await chain(host: host, port: port, configuration: configuration, proxy: proxy), !chain.isEmpty
    else {
      return generic
    }
    let seconds = time_t(now.timeIntervalSince1970)
    for (index, certificate) in chain.enumerated() {
      let which = index == 0 ? "the server's certificate" : "a CA certificate the server sent"
      if certificate.notValidAfter < seconds {
        return "certificate expired: \(which) was valid until \(stamp(certificate.notValidAfter))"
      }
      if certificate.notValidBefore > seconds {
        return
          "certificate not yet valid: \(which) is valid from \(stamp(certificate.notValidBefore)) (is this host's clock right?)"
      }
    }
    return "certificate not trusted: no CA in \(trustSource) issued it (unknown CA)"
  }

  static func stamp(_ seconds: time_t) -> String {
    ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
  }

  /// The certificates the server presents, or nil when the probe could not reach it.
  static func chain(
    host: String, port: Int, configuration: TLSConfiguration, proxy: ProxyServer?
  ) async -> [NIOSSLCertificate]? {
    let recorder = ChainRecorder()
    guard let context = try? NIOSSLContext(configuration: configuration) else { return nil }
    let serverName = IPAddress(host) == nil ? host : nil
    let addTLS: @Sendable (Channel) throws -> Void = { channel in
      let handler = try NIOSSLClientHandler(
        context: context, serverHostname: serverName,
        customVerificationCallback: { certificates, promise in
          recorder.record(certificates)
          promise.succeed(.failed)
        })
      try channel.pipeline.syncOperations.addHandler(handler)
    }
    let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      .connectTimeout(.seconds(5))
      .channelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          if let proxy {
            let authority = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            try channel.pipeline.syncOperations.addHandler(
              ConnectTunnel(authority: authority, login: proxy.login, then: addTLS))
          } else {
            try addTLS(channel)
          }
        }
      }
    let connection = bootstrap.connect(host: proxy?.host ?? host, port: proxy?.port ?? port)
    guard let channel = try? await connection.get() else { return nil }
    let deadline = channel.eventLoop.scheduleTask(in: .seconds(5)) { channel.close(promise: nil) }
    try? await channel.closeFuture.get()
    deadline.cancel()
    return recorder.chain
  }
}

private final class ChainRecorder: Sendable {
  private let recorded = Mutex<[NIOSSLCertificate]?>(nil)

  func record(_ certificates: [NIOSSLCertificate]) { recorded.withLock { $0 = certificates } }
  var chain: [NIOSSLCertificate]? { recorded.withLock { $0 } }
}

/// Asks an HTTP proxy for a tunnel, then hands the channel to `then` (which adds TLS); any answer but 200
/// closes it.
private final class ConnectTunnel: ChannelInboundHandler, RemovableChannelHandler {
  typealias InboundIn = ByteBuffer

  let authority: String
  let login: ProxyServer.Login?
  let then: @Sendable (Channel) throws -> Void
  var received: [UInt8] = []

  init(authority: String, login: ProxyServer.Login?, then: @escaping @Sendable (Channel) throws -> Void) {
    self.authority = authority
    self.login = login
    self.then = then
  }

  func channelActive(context: ChannelHandlerContext) {
    var request = "CONNECT \(authority) HTTP/1.1\r\nHost: \(authority)\r\n"
    if let login {
      request += "Proxy-Authorization: Basic \(Data("\(login.user):\(login.password)".utf8).base64EncodedString())\r\n"
    }
    context.writeAndFlush(NIOAny(ByteBuffer(string: request + "\r\n")), promise: nil)
    context.fireChannelActive()
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    received += Self.unwrapInboundIn(data).readableBytesView
    guard let end = String(decoding: received, as: UTF8.self).range(of: "\r\n\r\n") else {
      if received.count > 16 << 10 { context.close(promise: nil) }
      return
    }
    let head = String(decoding: received, as: UTF8.self)[..<end.lowerBound]
    let status = head.split(separator: " ", maxSplits: 2).dropFirst().first
    guard status == "200" else {
      context.close(promise: nil)
      return
    }
    do {
      try then(context.channel)
      context.pipeline.syncOperations.removeHandler(self, promise: nil)
    } catch {
      context.close(promise: nil)
    }
  }
}
