/// One problem found in a config or credentials file, printed as `FILE:LINE: key: message`.
public struct ConfigDiagnostic: Sendable, Hashable, CustomStringConvertible {
  public enum Severity: String, Sendable, Hashable {
    case error, warning
  }

  public var file: String
  public var line: Int?
  /// The dotted key, such as `rule.max_age`; the line says which rule.
  public var key: String
  public var message: String
  public var severity: Severity

  public init(file: String, line: Int?, key: String, message: String, severity: Severity = .error) {
    self.file = file
    self.line = line
    self.key = key
    self.message = message
    self.severity = severity
  }

  public var description: String {
    let place = line.map { "\(file):\($0)" } ?? file
    let text = severity == .warning ? "warning: \(message)" : message
    return "\(place): \(key): \(text)"
  }
}

/// A config that cannot be used. Holds every error found, not only the first.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
  public var diagnostics: [ConfigDiagnostic]

  public init(_ diagnostics: [ConfigDiagnostic]) { self.diagnostics = diagnostics }

  public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
