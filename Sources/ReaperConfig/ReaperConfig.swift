import Foundation
import ReaperCore

/// The validated config: plain Sendable values, with TOMLKit left behind in the loader.
public struct ReaperConfig: Sendable, Hashable {
  public var path: String
  public var daemon: DaemonSettings
  public var safety: SafetySettings
  public var targets: [Target]
  public var rules: RuleSet
  /// Keyed by target name.
  public var credentialSources: [String: CredentialSource]

  public func target(named name: String) -> Target? { targets.first { $0.name == name } }
}

public struct DaemonSettings: Sendable, Hashable {
  public var interval: TimeSpan
  public var jitter: TimeSpan
  /// Requests in flight per target.
  public var concurrency: Int
  public var stateDirectory: String
  public var dryRun: Bool
}

public struct LoadedConfig: Sendable {
  public var config: ReaperConfig
  public var warnings: [ConfigDiagnostic]
}
