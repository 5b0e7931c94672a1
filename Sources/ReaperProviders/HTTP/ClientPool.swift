import AsyncHTTPClient
import NIOCore
import Synchronization

/// The HTTP clients of one process, one per distinct TLS and proxy setting: targets with neither share the
/// default one. A client whose setting no cycle used since the last sweep (a reload changed a `ca_file`, a
/// target went away) is shut down by `retireUnused`.
final class ClientPool: Sendable {
  struct Key: Hashable, Sendable {
    var tls: TLSMaterial?
    var proxy: ProxyServer?

    var isDefault: Bool { tls == nil && proxy == nil }
  }

  private struct State {
    var clients: [Key: HTTPClient] = [:]
    var usedSinceSweep: Set<Key> = []
    var closed = false
  }

  private let base: HTTPClient.Configuration
  private let state = Mutex(State())

  init(base: HTTPClient.Configuration) {
    self.base = base
  }

  /// nil once the pool is shut down.
  func client(_ key: Key) -> HTTPClient? {
    state.withLock { state in
      guard !state.closed else { return nil }
      state.usedSinceSweep.insert(key)
      if let client = state.clients[key] { return client }
      var configuration = base
      if let tls = key.tls { configuration.tlsConfiguration = tls.configuration }
      if let proxy = key.proxy {
        configuration.proxy = .server(
          host: proxy.host, port: proxy.port,
          authorization: proxy.login.map { .basic(username: $0.user, password: $0.password) })
      }
      let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
      state.clients[key] = client
      return client
    }
  }

  var count: Int { state.withLock { $0.clients.count } }

  /// Shuts down every client but the default that no request asked for since the last sweep. Call it between
  /// cycles, when nothing is in flight.
  func retireUnused() async {
    let retired = state.withLock { state -> [HTTPClient] in
      let stale = state.clients.keys.filter { !$0.isDefault && !state.usedSinceSweep.contains($0) }
      state.usedSinceSweep = []
      return stale.compactMap { state.clients.removeValue(forKey: $0) }
    }
    for client in retired { try? await client.shutdown() }
  }

  func shutdown() async {
    let all = state.withLock { state -> [HTTPClient] in
      state.closed = true
      defer { state.clients = [:] }
      return Array(state.clients.values)
    }
    for client in all { try? await client.shutdown() }
  }
}
