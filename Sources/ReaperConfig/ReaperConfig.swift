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
  /// A cycle still running after this stops listing and aborts nothing more.
  public var cycleTimeout: TimeSpan = TimeSpan(seconds: 3600, leadingUnit: .hours)
  /// A bucket walk that needs more pages than this ends with an error (a server paging in circles).
  public var maxPagesPerBucket = 100_000
  /// Which of n hosts this is; each scans only its share of the (target, bucket) pairs.
  public var shard = Shard.whole
}

public struct LoadedConfig: Sendable {
  public var config: ReaperConfig
  public var warnings: [ConfigDiagnostic]
}
