/// How a target's TLS differs from the default (the system's trust store, no client certificate). Paths are
/// resolved by the config loader; the files are read again whenever a cycle builds its providers, so a renewed
/// certificate is picked up without a restart.
public struct TargetTLS: Sendable, Hashable {
  /// A PEM bundle trusted for this endpoint instead of the system store.
  public var caFile: String?
  /// Mutual TLS: both or neither.
  public var clientCertificate: String?
  public var clientKey: String?

  public init(caFile: String? = nil, clientCertificate: String? = nil, clientKey: String? = nil) {
    self.caFile = caFile
    self.clientCertificate = clientCertificate
    self.clientKey = clientKey
  }
}
