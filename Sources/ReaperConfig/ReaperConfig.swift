import Foundation
import ReaperCore

/// The validated config: plain Sendable values, with TOMLKit left behind in the loader.
public struct ReaperConfig: Sendable, Hashable {
  public var path: String
  public var daemon: DaemonSettings
  public var safety: SafetySettings
  public var metrics = MetricsSettings()
  public var targets: [Target]
  public var rules: RuleSet
  /// Keyed by target name.
  public var credentialSources: [String: CredentialSource]

  public func target(named name: String) -> Target? { targets.first { $0.name == name } }
}

public struct DaemonSettings: Sendable, Hashable {
  public var interval: TimeSpan
  public var jitter: TimeSpan
  /// The most requests in flight per target: the ceiling of each target's adaptive window.
  public var concurrency: Int
  public var stateDirectory: String
  public var dryRun: Bool
  /// A cycle still running after this stops listing and aborts nothing more.
  public var cycleTimeout: TimeSpan = TimeSpan(seconds: 3600, leadingUnit: .hours)
  /// A bucket walk that needs more pages than this ends with an error (a server paging in circles).
  public var maxPagesPerBucket = PageLimit.defaultMaximumPages
  /// Which of n hosts this is; each scans only its share of the (target, bucket) pairs.
  public var shard = Shard.whole
  /// How many cycle reports `state_dir` keeps.
  public var keepReports = ReportRetention.default
  /// List the parts of every upload, not only of those a rule selects, so bytes held covers everything.
  public var accountAll = false
  /// Whether a cycle report lists plain keeps one by one or counts them.
  public var reportDetail = ReportDetail.summary
}

/// `[metrics]`: where Prometheus finds the figures. Both are off unless set.
public struct MetricsSettings: Sendable, Hashable {
  /// `/metrics` over HTTP on this address.
  public var listen: ListenAddress?
  /// A node_exporter textfile collector file, rewritten atomically after each cycle.
  public var textfile: String?

  public init(listen: ListenAddress? = nil, textfile: String? = nil) {
    self.listen = listen
    self.textfile = textfile
  }
}

public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
  public var host: String
  public var port: Int

  public init(host: String, port: Int) {
    self.host = host
    self.port = port
  }

  /// `127.0.0.1:9464`, `[::1]:9464` or `localhost:9464`. Port 0 asks the system for a free one.
  public init?(parsing text: String) {
    let host: Substring
    let portText: Substring
    if text.hasPrefix("[") {
      guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
      host = text[text.index(after: text.startIndex)..<close]
      portText = text[text.index(close, offsetBy: 2)...]
    } else {
      guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else { return nil }
      host = text[..<colon]
      portText = text[text.index(after: colon)...]
    }
    guard !host.isEmpty, !host.contains(where: \.isWhitespace), !portText.isEmpty,
      portText.allSatisfy({ $0.isASCII && $0.isNumber }), let port = Int(portText), port <= 65535
    else { return nil }
    self.init(host: String(host), port: port)
  }

  public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

public struct LoadedConfig: Sendable {
  public var config: ReaperConfig
  public var warnings: [ConfigDiagnostic]
}
