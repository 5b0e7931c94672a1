import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// BoringSSL says only CERTIFICATE_VERIFY_FAILED for an unknown CA, an expired certificate and one not yet
/// valid. After such a failure the probe connects once more with the same trust, records the chain the server
/// shows, refuses it, and reads the dates: the handshake is all it sends, so the server sees no request.
enum TLSProbe {
  static func diagnose(
    host: String, port: Int, configuration: TLSConfiguration, trustSource: String, now: Date = Date()
  ) async -> String {
    let generic = "certificate verification failed: not trusted by \(trustSource), expired, or not yet valid"
    guard let chain = await chain(host: host, port: port, configuration: configuration), !chain.isEmpty else {
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
  static func chain(host: String, port: Int, configuration: TLSConfiguration) async -> [NIOSSLCertificate]? {
    let recorder = ChainRecorder()
    guard let context = try? NIOSSLContext(configuration: configuration) else { return nil }
    let serverName = IPAddress(host) == nil ? host : nil
    let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      .connectTimeout(.seconds(5))
      .channelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          let handler = try NIOSSLClientHandler(
            context: context, serverHostname: serverName,
            customVerificationCallback: { certificates, promise in
              recorder.record(certificates)
              promise.succeed(.failed)
            })
          try channel.pipeline.syncOperations.addHandler(handler)
        }
      }
    guard let channel = try? await bootstrap.connect(host: host, port: port).get() else { return nil }
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
