import Foundation
import ReaperCore

/// Secrets for one target. Printing, dumping or interpolating it never shows a value.
public struct Credentials: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
  CustomReflectable
{
  public var accessKeyID: String?
  public var secretAccessKey: String?
  public var sessionToken: String?
  public var accessToken: String?

  public init(
    accessKeyID: String? = nil, secretAccessKey: String? = nil, sessionToken: String? = nil,
    accessToken: String? = nil
  ) {
    self.accessKeyID = accessKeyID
    self.secretAccessKey = secretAccessKey
    self.sessionToken = sessionToken
    self.accessToken = accessToken
  }

  public var description: String { "Credentials(redacted)" }
  public var debugDescription: String { description }
  public var customMirror: Mirror { Mirror(self, children: [:]) }

  /// Every secret value, so tests and output filters can check that none leaks.
  public var secretValues: [String] {
    [secretAccessKey, sessionToken, accessToken].compactMap { $0 }.filter { !$0.isEmpty }
  }

  static let keys = ["access_key_id", "secret_access_key", "session_token", "access_token"]

  static func requiredKeys(for provider: ProviderKind) -> [String] {
    switch provider {
    case .cdcs, .s3: ["access_key_id", "secret_access_key"]
    case .pds: ["access_token"]
    }
  }

  mutating func set(_ key: String, _ value: String) {
    switch key {
    case "access_key_id": accessKeyID = value
    case "secret_access_key": secretAccessKey = value
    case "session_token": sessionToken = value
    case "access_token": accessToken = value
    default: break
    }
  }

  func value(_ key: String) -> String? {
    switch key {
    case "access_key_id": accessKeyID
    case "secret_access_key": secretAccessKey
    case "session_token": sessionToken
    case "access_token": accessToken
    default: nil
    }
  }
}

/// Where a target's credentials come from.
public enum CredentialSource: Sendable, Hashable, CustomStringConvertible {
  /// A `KEY=VALUE` file, already resolved to a path.
  case file(String)
  /// `UPLOAD_REAPER_<TARGET>_<KEY>` variables, used when a target names no credentials file.
  case environment(prefix: String)

  public var description: String {
    switch self {
    case .file(let path): path
    case .environment(let prefix): "environment \(prefix)*"
    }
  }

  static func environmentPrefix(forTarget name: String) -> String {
    let sanitized = name.uppercased().unicodeScalars.map { scalar -> Character in
      (scalar.properties.isAlphabetic && scalar.isASCII) || ("0"..."9").contains(scalar) ? Character(scalar) : "_"
    }
    return "UPLOAD_REAPER_\(String(sanitized))_"
  }
}

/// Reads credentials. Each cycle calls it again, so a rotated token is picked up without a restart.
public enum CredentialsLoader {
  /// A relative name is looked up first in `$CREDENTIALS_DIRECTORY` (systemd's `LoadCredential=`), then next to
  /// the config file, then in `credentials/` beside it (where the package keeps them, so `check-config` by hand
  /// finds what systemd hands the service). Returns the first that exists, and every place tried.
  public static func resolve(
    name: String, configDirectory: String, environment: [String: String]
  ) -> (
    path: String?, tried: [String]
  ) {
    if name.hasPrefix("/") { return (FileManager.default.fileExists(atPath: name) ? name : nil, [name]) }
    var candidates: [String] = []
    if let directory = environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty {
      candidates.append((directory as NSString).appendingPathComponent(name))
    }
    candidates.append((configDirectory as NSString).appendingPathComponent(name))
    candidates.append((configDirectory as NSString).appendingPathComponent("credentials/\(name)"))
    return (candidates.first { FileManager.default.fileExists(atPath: $0) }, candidates)
  }

  /// Loads and checks the credentials. Diagnostics name the file, line and key, never a value.
  public static func load(
    _ source: CredentialSource, provider: ProviderKind, environment: [String: String]
  ) -> (credentials: Credentials?, diagnostics: [ConfigDiagnostic]) {
    switch source {
    case .file(let path): return loadFile(path, provider: provider)
    case .environment(let prefix):
      var credentials = Credentials()
      for key in Credentials.keys {
        if let value = environment[prefix + key.uppercased()], !value.isEmpty { credentials.set(key, value) }
      }
      let missing = Credentials.requiredKeys(for: provider).filter { credentials.value($0) == nil }
      guard missing.isEmpty else {
        let names = missing.map { prefix + $0.uppercased() }.joined(separator: ", ")
        return (
          nil,
          [
            ConfigDiagnostic(
              file: "environment", line: nil, key: "credentials",
              message: "no credentials_file is set and \(names) \(missing.count == 1 ? "is" : "are") not set")
          ]
        )
      }
      return (credentials, [])
    }
  }

  static func loadFile(_ path: String, provider: ProviderKind) -> (Credentials?, [ConfigDiagnostic]) {
    var diagnostics: [ConfigDiagnostic] = []
    func problem(_ line: Int?, _ key: String, _ message: String, _ severity: ConfigDiagnostic.Severity = .error) {
      diagnostics.append(ConfigDiagnostic(file: path, line: line, key: key, message: message, severity: severity))
    }
    if let refusal = SafeRead.refusal(path, limit: SafeRead.credentialsLimit) {
      problem(nil, "credentials", refusal)
      return (nil, diagnostics)
    }
    guard let data = FileManager.default.contents(atPath: path) else {
      problem(nil, "credentials", "cannot read the credentials file")
      return (nil, diagnostics)
    }
    if let attributes = try? FileManager.default.attributesOfItem(atPath: path),
      let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue, mode & 0o037 != 0
    {
      problem(
        nil, "credentials",
        "mode \(String(mode & 0o777, radix: 8)) lets others read or change this file; use chmod 600 (or 640)",
        .warning)
    }
    guard let text = String(data: data, encoding: .utf8) else {
      problem(nil, "credentials", "the file is not UTF-8 text")
      return (nil, diagnostics)
    }
    var credentials = Credentials()
    var seen: [String: Int] = [:]
    for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
      if line.isEmpty || line.hasPrefix("#") { continue }
      guard let equals = line.firstIndex(of: "=") else {
        problem(offset + 1, "credentials", "expected KEY=VALUE")
        continue
      }
      let key = line[..<equals].trimmingCharacters(in: .whitespaces)
      var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
      if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
      guard Credentials.keys.contains(key) else {
        problem(
          offset + 1, key, "unknown key; expected one of \(Credentials.keys.joined(separator: ", "))")
        continue
      }
      if let earlier = seen[key] {
        problem(offset + 1, key, "set twice (first on line \(earlier))")
        continue
      }
      seen[key] = offset + 1
      guard !value.isEmpty else {
        problem(offset + 1, key, "empty value")
        continue
      }
      credentials.set(key, value)
    }
    for key in Credentials.requiredKeys(for: provider) where credentials.value(key) == nil && seen[key] == nil {
      problem(
        nil, key,
        "missing; a \(provider.rawValue) target needs \(Credentials.requiredKeys(for: provider).joined(separator: " and "))"
      )
    }
    return (diagnostics.contains { $0.severity == .error } ? nil : credentials, diagnostics)
  }
}

/// Files the reaper reads must be regular and small: a path to /dev/zero or a log file must give an error,
/// never a hang or an exhausted memory.
enum SafeRead {
  static let configLimit = 4 << 20
  static let credentialsLimit = 64 << 10

  static func refusal(_ path: String, limit: Int) -> String? {
    guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
    if let type = attributes[.type] as? FileAttributeType, type != .typeRegular {
      return "not a regular file"
    }
    if let size = (attributes[.size] as? NSNumber)?.intValue, size > limit {
      return "larger than \(limit / 1024) KiB; this cannot be the right file"
    }
    return nil
  }
}
