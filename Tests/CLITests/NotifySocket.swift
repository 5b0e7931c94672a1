import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// A unix datagram socket standing in for systemd's NOTIFY_SOCKET: one datagram, one message, timestamped.
final class NotifySocket: Sendable {
  struct Message: Sendable {
    var at: ContinuousClock.Instant
    var text: String
  }

  let path: String
  private let descriptor: Int32
  private let received = Mutex<[Message]>([])
  private let closed = Atomic<Bool>(false)

  init() throws {
    path = FileManager.default.temporaryDirectory.appendingPathComponent("notify-\(UUID().uuidString.prefix(8))").path
    descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { buffer in
      for (index, byte) in path.utf8.enumerated() where index < buffer.count - 1 { buffer[index] = byte }
    }
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
    guard descriptor >= 0, bound == 0 else { throw CocoaError(.fileWriteUnknown) }
    var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
    setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    Thread.detachNewThread { [self] in
      var buffer = [UInt8](repeating: 0, count: 4096)
      while !closed.load(ordering: .relaxed) {
        let count = recv(descriptor, &buffer, buffer.count, 0)
        if count > 0 {
          let message = Message(at: .now, text: String(decoding: buffer[..<count], as: UTF8.self))
          received.withLock { $0.append(message) }
        }
      }
      close(descriptor)
      unlink(path)
    }
  }

  var messages: [Message] { received.withLock { $0 } }

  func stop() { closed.store(true, ordering: .relaxed) }

  /// Waits until a message satisfying `match` arrives, or the deadline passes.
  func wait(for match: (String) -> Bool, within seconds: Double) async -> Message? {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
      if let found = messages.first(where: { match($0.text) }) { return found }
      try? await Task.sleep(for: .milliseconds(50))
    }
    return nil
  }
}
