import Foundation
import ReaperCore

/// `ca_file`, `client_certificate`, `client_key` and `proxy`: how a target is reached. There is deliberately no
/// key to skip certificate checks.
extension ConfigValidator {
  mutating func validateReach(_ section: Section, endpoint: String?) -> (tls: TargetTLS?, proxy: String?) {
    let scheme = endpoint.flatMap { URLComponents(string: $0)?.scheme?.lowercased() }
    let tlsKeys = ["ca_file", "client_certificate", "client_key"]
    if scheme == "http" {
      for key in tlsKeys where section.table[key] != nil {
        report(
          at(section, key), "target.\(key)",
          "the endpoint is http://, which has no TLS: this setting would be ignored; use an https:// endpoint or remove it"
        )
      }
    }
    var tls = TargetTLS()
    tls.caFile = pemFile(section, "ca_file", PEMCheck.Kind.certificates)
    tls.clientCertificate = pemFile(section, "client_certificate", PEMCheck.Kind.certificates)
    tls.clientKey = pemFile(section, "client_key", PEMCheck.Kind.privateKey)
    let hasCertificate = section.table["client_certificate"] != nil
    let hasKey = section.table["client_key"] != nil
    if hasCertificate != hasKey {
      let given = hasCertificate ? "client_certificate" : "client_key"
      report(
        at(section, given), "target.\(given)",
        "client_certificate and client_key go together: set both for mutual TLS, or neither")
    }
    var proxy: String?
    if let text = string(section, "proxy") {
      if let problem = Self.proxyProblem(text) {
        report(at(section, "proxy"), "target.proxy", problem)
      } else {
        proxy = text
      }
    }
    let configured = tls.caFile != nil || tls.clientCertificate != nil || tls.clientKey != nil
    return (configured ? tls : nil, proxy)
  }

  /// A proxy the target names must be exactly `http://host:port`: anything else would be guessed at.
  static func proxyProblem(_ text: String) -> String? {
    guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(), let host = url.host,
      !host.isEmpty
    else { return "is not a URL of the form http://host:port" }
    if url.user != nil || url.password != nil {
      return
        "the proxy URL must not hold credentials (they would sit in the config); proxy authentication is not supported here"
    }
    guard scheme == "http" else {
      return "only http:// proxies are supported (endpoints are reached through them with CONNECT); found \(scheme)://"
    }
    guard url.port != nil else { return "\"\(text)\" names no port; write http://\(host):PORT" }
    if url.query != nil || url.fragment != nil || !(url.path.isEmpty || url.path == "/") {
      return "\"\(text)\" must be a bare http://host:port, with no path or query"
    }
    return nil
  }

  /// Resolves a PEM file like a credentials file and checks it; nil (and a diagnostic) when it cannot be used.
  mutating func pemFile(_ section: Section, _ key: String, _ kind: PEMCheck.Kind) -> String? {
    guard let name = string(section, key) else { return nil }
    let configDirectory = (path as NSString).deletingLastPathComponent
    let (found, tried) = CredentialsLoader.resolve(
      name: name, configDirectory: configDirectory.isEmpty ? "." : configDirectory, environment: environment)
    guard let found else {
      report(at(section, key), "target.\(key)", "\"\(name)\" not found (looked in \(tried.joined(separator: ", ")))")
      return nil
    }
    if let problem = PEMCheck.problem(found, kind) {
      report(at(section, key), "target.\(key)", "\(found): \(problem)")
      return nil
    }
    return found
  }
}

/// A structural check of a PEM file: readable, small, the right blocks, base64 that decodes to DER. The TLS
/// library parses it for real when a cycle builds the target's client; this catches the usual mistakes early
/// (a key given as the certificate, a DER file, an encrypted key, a truncated copy).
public enum PEMCheck {
  public enum Kind: Sendable {
    case certificates
    case privateKey
  }

  static let limit = 1 << 20
  static let keyLabels: Set<String> = ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"]

  public static func problem(_ path: String, _ kind: Kind) -> String? {
    if let refusal = SafeRead.refusal(path, limit: limit) { return refusal }
    guard let data = FileManager.default.contents(atPath: path) else { return "cannot read the file" }
    if kind == .privateKey, let problem = keyPermissionProblem(path) { return problem }
    guard let text = String(data: data, encoding: .utf8) else {
      return "not PEM text (a DER file? convert it with openssl)"
    }
    let blocks: [(label: String, body: String)]
    switch parse(text) {
    case .success(let found): blocks = found
    case .failure(let failure): return failure.message
    }
    switch kind {
    case .certificates:
      if blocks.contains(where: { keyLabels.contains($0.label) || $0.label == "ENCRYPTED PRIVATE KEY" }) {
        return "holds a private key; a certificate file must hold certificates only"
      }
      guard blocks.contains(where: { $0.label == "CERTIFICATE" }) else {
        return "holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
      }
    case .privateKey:
      if blocks.contains(where: { $0.label == "ENCRYPTED PRIVATE KEY" }) || text.contains("Proc-Type: 4,ENCRYPTED") {
        return "the key is encrypted; the daemon cannot ask for a passphrase: store it unencrypted with mode 600"
      }
      let keys = blocks.filter { keyLabels.contains($0.label) }
      guard keys.count == 1 else {
        return keys.isEmpty
          ? "holds no PEM private key (-----BEGIN PRIVATE KEY-----)" : "holds \(keys.count) private keys; give one"
      }
    }
    return nil
  }

  /// The same rule as for credentials files, but refused rather than warned about: the key proves who we are.
  static func keyPermissionProblem(_ path: String) -> String? {
    guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
      let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue
    else { return nil }
    guard mode & 0o037 == 0 else {
      return
        "mode \(String(mode & 0o777, radix: 8)) lets others read or change this private key; use chmod 600 (or 640)"
    }
    return nil
  }

  struct Failure: Error {
    let message: String
  }

  /// Every `-----BEGIN X-----` … `-----END X-----` block, with its base64 checked to decode to DER.
  static func parse(_ text: String) -> Result<[(label: String, body: String)], Failure> {
    var blocks: [(label: String, body: String)] = []
    var open: (label: String, line: Int, body: String)?
    for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
      if line.hasPrefix("-----BEGIN "), line.hasSuffix("-----") {
        if let open { return .failure(Failure(message: "line \(open.line): \(open.label) block has no END line")) }
        open = (String(line.dropFirst(11).dropLast(5)), index + 1, "")
      } else if line.hasPrefix("-----END "), line.hasSuffix("-----") {
        let label = String(line.dropFirst(9).dropLast(5))
        guard let block = open, block.label == label else {
          return .failure(Failure(message: "line \(index + 1): END \(label) without a matching BEGIN"))
        }
        let der = Data(base64Encoded: block.body)
        guard let der, der.first == 0x30 else {
          return .failure(Failure(message: "line \(block.line): the \(label) block is not valid base64 DER"))
        }
        blocks.append((label, block.body))
        open = nil
      } else if open != nil, !line.isEmpty, !line.contains(":") {
        open?.body += line
      }
    }
    if let open { return .failure(Failure(message: "line \(open.line): \(open.label) block has no END line")) }
    if blocks.isEmpty { return .failure(Failure(message: "not a PEM file: no -----BEGIN ...----- block")) }
    return .success(blocks)
  }
}
