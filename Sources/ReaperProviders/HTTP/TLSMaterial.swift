import Foundation
import NIOSSL
import ReaperCore

/// A target's TLS settings read from its files: the configuration its client is built with, and the files'
/// bytes, which key the client pool so that changed files (a reload, a renewed certificate) get a new client.
public struct TLSMaterial: Sendable, Hashable {
  let contents: [Data]
  let configuration: TLSConfiguration
  /// Where the trusted CAs come from, for error messages.
  let trustSource: String

  public static func == (lhs: TLSMaterial, rhs: TLSMaterial) -> Bool { lhs.contents == rhs.contents }
  public func hash(into hasher: inout Hasher) { hasher.combine(contents) }

  /// Reads and parses the files. Errors name the file and say what is wrong with it, never its contents.
  public static func load(_ tls: TargetTLS) throws(TLSLoadError) -> TLSMaterial {
    var configuration = TLSConfiguration.makeClientConfiguration()
    // Full verification is the default and stays so: there is no setting that weakens it.
    configuration.certificateVerification = .fullVerification
    var contents: [Data] = []
    var trustSource = "the system's trust store"
    if let path = tls.caFile {
      let data = try read(path, key: "ca_file")
      contents.append(data)
      let certificates = try certificates(data, path: path, key: "ca_file")
      configuration.trustRoots = .certificates(certificates)
      trustSource = "ca_file \(path)"
    }
    if let certificatePath = tls.clientCertificate, let keyPath = tls.clientKey {
      let certificateData = try read(certificatePath, key: "client_certificate")
      let keyData = try read(keyPath, key: "client_key")
      contents += [certificateData, keyData]
      configuration.certificateChain = try certificates(
        certificateData, path: certificatePath, key: "client_certificate"
      )
      .map { .certificate($0) }
      do {
        configuration.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(keyData), format: .pem))
      } catch {
        throw TLSLoadError(key: "client_key", path: keyPath, reason: "not a readable PEM private key")
      }
    }
    return TLSMaterial(contents: contents, configuration: configuration, trustSource: trustSource)
  }

  static func read(_ path: String, key: String) throws(TLSLoadError) -> Data {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw TLSLoadError(key: key, path: path, reason: "cannot be read")
    }
    return data
  }

  static func certificates(_ data: Data, path: String, key: String) throws(TLSLoadError) -> [NIOSSLCertificate] {
    let certificates = try? NIOSSLCertificate.fromPEMBytes(Array(data))
    guard let certificates, !certificates.isEmpty else {
      throw TLSLoadError(key: key, path: path, reason: "holds no readable PEM certificate")
    }
    return certificates
  }
}

public struct TLSLoadError: Error, Sendable, CustomStringConvertible {
  public var key: String
  public var path: String
  public var reason: String
  public var description: String { "\(key) \(path) \(reason)" }
}

/// Why a TLS connection failed, in the operator's words. NIOSSL reports most failures as BoringSSL's reason
/// names; a failed verification is one name for several causes, which `TLSProbe` tells apart.
public enum TLSFailure: Sendable, Equatable {
  /// The chain did not verify: an unknown CA, an expired or not yet valid certificate. Probed further.
  case verificationFailed
  case nameMismatch
  /// The server sent an alert: it refused our certificate, or wants one we did not send.
  case refusedByServer(alert: String)
  case handshake(String)

  /// nil when `error` is no TLS failure.
  public init?(_ error: any Error) {
    if let extra = error as? NIOSSLExtraError {
      if extra == .failedToValidateHostname || extra == .serverHostnameImpossibleToMatch {
        self = .nameMismatch
      } else {
        self = .handshake(String(describing: extra))
      }
      return
    }
    if let error = error as? BoringSSLError {
      // Raised after the handshake, while reading: under TLS 1.3 a server refuses a client certificate only then.
      let text = String(describing: error)
      if let alert = Self.alert(in: text) {
        self = .refusedByServer(alert: alert)
      } else {
        self = .handshake(Self.reasons(in: text))
      }
      return
    }
    guard let error = error as? NIOSSLError else { return nil }
    switch error {
    case .handshakeFailed(let inner):
      let text = String(describing: inner)
      if text.contains("CERTIFICATE_VERIFY_FAILED") {
        self = .verificationFailed
      } else if let alert = Self.alert(in: text) {
        self = .refusedByServer(alert: alert)
      } else {
        self = .handshake(Self.reasons(in: text))
      }
    case .uncleanShutdown, .readInInvalidTLSState, .writeDuringTLSShutdown, .shutdownFailed:
      // Closing and mid-stream trouble: the handshake went through, so this is the connection, not TLS trust.
      return nil
    default:
      self = .handshake(String(describing: error))
    }
  }

  /// `TLSV1_ALERT_CERTIFICATE_REQUIRED` → `certificate required`.
  static func alert(in text: String) -> String? {
    guard let range = text.range(of: #"(SSLV3|TLSV1)_ALERT_[A-Z_]+"#, options: .regularExpression) else { return nil }
    let name = text[range].split(separator: "_").dropFirst(2).joined(separator: " ")
    return name.lowercased()
  }

  /// BoringSSL's reason names out of its error strings (`error:...:SSL routines:OPENSSL_internal:NAME`).
  static func reasons(in text: String) -> String {
    let names = text.matches(of: /OPENSSL_internal:([A-Z0-9_]+)/).map { String($0.1) }
    return names.isEmpty ? text : Array(Set(names)).sorted().joined(separator: ", ")
  }
}
