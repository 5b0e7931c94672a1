import Foundation
import ReaperCore

public struct CycleOptions: Sendable {
  /// What a cycle is for. Only these combinations exist: a list decides nothing, so it cannot be a dry run.
  public enum Mode: Sendable, Equatable {
    /// Decide every upload and carry out what the rules and guards allow.
    case scan
    /// Decide every upload and abort nothing, whatever the rules and config say (`scan --dry-run`).
    case dryRun
    /// Uploads with age, idle time, parts and bytes; no decisions, no actions. `parts: false` is
    /// `list --no-parts`: no parts requests at all.
    case list(parts: Bool)
  }

  public var mode: Mode
  public var targetFilter: String?
  public var hostClock: @Sendable () -> Date = { Date() }
  /// Called whenever a request completes: a page, a parts listing, an abort. The daemon's watchdog pings
  /// only while this keeps being called.
  public var progress: @Sendable () -> Void = {}
  /// Once true, no new page is fetched and no new abort started; in-flight work finishes.
  public var shouldStop: @Sendable () -> Bool = { false }
  /// What bucket globs matched last cycle, so that a bucket appearing or vanishing is said once (the daemon's).
  public var bucketMemory: BucketMemory?
  /// `apply`: only uploads this plan names may become abort candidates, and only its targets and buckets are
  /// listed. Every other upload listed is kept without being decided.
  public var plan: PlanSet?
  /// Said among the cycle's notices, in its report and summary: why a refused plan was applied anyway.
  public var notes: [String] = []

  public init(mode: Mode = .scan, targetFilter: String? = nil) {
    self.mode = mode
    self.targetFilter = targetFilter
  }

  var listOnly: Bool {
    if case .list = mode { return true }
    return false
  }

  var listParts: Bool { mode != .list(parts: false) }
}
