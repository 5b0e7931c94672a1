import NIOSSL

/// HTTPS for the sandbox, from PEM files: what the TLS tests serve with.
public struct SandboxTLS: Sendable {
  public var certificateFile: String
  public var keyFile: String
  /// When set, a client must present a certificate issued by one of these CAs (mutual TLS).
  public var clientCAFile: String?

  public init(certificateFile: String, keyFile: String, clientCAFile: String? = nil) {
    self.certificateFile = certificateFile
    self.keyFile = keyFile
    self.clientCAFile = clientCAFile
  }

  func configuration() throws -> TLSConfiguration {
    var configuration = TLSConfiguration.makeServerConfiguration(
      certificateChain: try NIOSSLCertificate.fromPEMFile(certificateFile).map { .certificate($0) },
      privateKey: .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem)))
    if let clientCAFile {
      configuration.certificateVerification = .noHostnameVerification
      configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(clientCAFile))
    }
    return configuration
  }
}
