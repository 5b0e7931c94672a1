import Foundation
import ReaperConfig

/// A config written to a fresh temporary directory, with credentials files beside it.
struct ConfigFixture {
  let directory: URL
  var path: String { directory.appendingPathComponent("reaper.toml").path }

  init(_ toml: String, credentials: [String: String] = ["a.cred": "access_key_id=AK\nsecret_access_key=SK\n"]) throws {
    directory = FileManager.default.temporaryDirectory.appendingPathComponent("reaper-config-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    try toml.write(toFile: path, atomically: true, encoding: .utf8)
    for (name, text) in credentials {
      let file = directory.appendingPathComponent(name).path
      try text.write(toFile: file, atomically: true, encoding: .utf8)
      try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
    }
  }

  func load(environment: [String: String] = [:]) throws(ConfigError) -> LoadedConfig {
    try ConfigLoader.load(path: path, environment: environment)
  }

  /// The diagnostics of a config expected to be refused.
  func errors(environment: [String: String] = [:]) -> [ConfigDiagnostic] {
    do {
      _ = try load(environment: environment)
      return []
    } catch {
      return error.diagnostics
    }
  }

  /// A minimal valid config, with `extra` appended.
  static func valid(_ extra: String = "", target: String = defaultTarget) -> String {
    target + "\n" + extra
  }

  static let defaultTarget = """
    [[target]]
    name = "t1"
    provider = "s3"
    endpoint = "http://127.0.0.1:7480"
    buckets = ["b1", "b2"]
    credentials_file = "a.cred"
    """
}
