import Foundation
import ReaperCore
import TOMLKit

/// Reads and validates the TOML config. Every problem found is reported, each as `FILE:LINE: key: message`.
public enum ConfigLoader {
  public static let defaultPath = "/etc/upload-reaper/config.toml"

  public static func load(
    path: String, environment: [String: String] = ProcessInfo.processInfo.environment
  ) throws(ConfigError) -> LoadedConfig {
    if let refusal = SafeRead.refusal(path, limit: SafeRead.configLimit) {
      throw ConfigError([ConfigDiagnostic(file: path, line: nil, key: "config", message: refusal)])
    }
    guard let data = FileManager.default.contents(atPath: path) else {
      let reason = FileManager.default.fileExists(atPath: path) ? "cannot read the file" : "no such file"
      throw ConfigError([ConfigDiagnostic(file: path, line: nil, key: "config", message: reason)])
    }
    guard let source = String(data: data, encoding: .utf8) else {
      throw ConfigError([ConfigDiagnostic(file: path, line: nil, key: "config", message: "the file is not UTF-8 text")])
    }
    return try parse(source: source, path: path, environment: environment)
  }

  public static func parse(
    source: String, path: String, environment: [String: String]
  ) throws(ConfigError) -> LoadedConfig {
    // toml++ skips a leading byte-order mark; without it the preflight would not see a header on line 1 (a
    // malformed one there made toml++ assert, found by fuzzing).
    var source = source
    if source.unicodeScalars.first == "\u{FEFF}" { source = String(source.unicodeScalars.dropFirst()) }
    let preflight = TOMLLocator(source: source)
    if !preflight.malformedHeaders.isEmpty {
      throw ConfigError(
        preflight.malformedHeaders.map {
          ConfigDiagnostic(
            file: path, line: $0.line, key: "syntax",
            message: "invalid TOML: malformed table header \($0.text.prefix(60)); write [name] or [[name]]")
        })
    }
    let root: TOMLTable
    do {
      root = try TOMLTable(string: source)
    } catch let error as TOMLParseError {
      let line = error.source.begin.line
      throw ConfigError([
        ConfigDiagnostic(
          file: path, line: line, key: SyntaxKey.guess(source: source, line: line),
          message: "invalid TOML: \(SyntaxKey.trimPosition(error.description))")
      ])
    } catch {
      throw ConfigError([ConfigDiagnostic(file: path, line: nil, key: "config", message: "invalid TOML: \(error)")])
    }
    var validator = ConfigValidator(path: path, locator: preflight, environment: environment)
    let config = validator.validate(root)
    let errors = validator.diagnostics.filter { $0.severity == .error }
    guard errors.isEmpty, let config else { throw ConfigError(errors.isEmpty ? validator.diagnostics : errors) }
    return LoadedConfig(config: config, warnings: validator.diagnostics)
  }
}

enum SyntaxKey {
  /// The key written on a line, if the line looks like `key = value`; otherwise a neutral word.
  static func guess(source: String, line: Int) -> String {
    let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
    guard line >= 1, line <= lines.count, let equals = lines[line - 1].firstIndex(of: "=") else { return "syntax" }
    let key = lines[line - 1][..<equals].trimmingCharacters(in: .whitespaces)
    return key.isEmpty || key.contains(" ") ? "syntax" : key
  }

  /// TOMLKit appends `(at line N, column M)`; the diagnostic already carries the line.
  static func trimPosition(_ description: String) -> String {
    guard let range = description.range(of: " (at line ", options: .backwards) else { return description }
    return String(description[..<range.lowerBound])
  }
}
