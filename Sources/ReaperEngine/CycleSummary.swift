import Foundation
import ReaperCore

/// Where a group of uploads sits: the unit that bytes held are counted by.
public struct HoldingKey: Sendable, Hashable, Comparable {
  public var target: String
  public var bucket: String
  /// nil for uploads no rule matched (seen only with `account_all`, or when unmatched uploads are listed).
  public var rule: String?

  public init(target: String, bucket: String, rule: String?) {
    self.target = target
    self.bucket = bucket
    self.rule = rule
  }

  public static func < (lhs: HoldingKey, rhs: HoldingKey) -> Bool {
    (lhs.target, lhs.bucket, lhs.rule ?? "") < (rhs.target, rhs.bucket, rhs.rule ?? "")
  }
}

/// What a group of uploads holds.
public struct Holding: Sendable, Equatable {
  public var uploads = 0
  /// Uploads a rule found past its thresholds (decided log, report or abort), whatever then happened.
  public var stale = 0
  public var bytes: Int64 = 0
  public var staleBytes: Int64 = 0
  /// Uploads whose parts were not listed: their bytes are unknown and not in `bytes`.
  public var unlisted = 0

  public init() {}

  mutating func merge(_ other: Holding) {
    uploads += other.uploads
    stale += other.stale
    bytes = bytes.saturatingAdd(other.bytes)
    staleBytes = staleBytes.saturatingAdd(other.staleBytes)
    unlisted += other.unlisted
  }
}

/// An error's place and kind, for counting errors by kind per target.
public struct ErrorKey: Sendable, Hashable, Comparable {
  public var target: String
  public var kind: ErrorKind

  public init(target: String, kind: ErrorKind) {
    self.target = target
    self.kind = kind
  }

  public static func < (lhs: ErrorKey, rhs: ErrorKey) -> Bool { (lhs.target, lhs.kind) < (rhs.target, rhs.kind) }
}

/// The totals of one cycle.
public struct CycleSummary: Sendable, Equatable {
  public var started: Date?
  public var dryRun = false
  public var targets = 0
  /// The targets the cycle set out to scan.
  public var targetNames: [String] = []
  public var uploadsSeen = 0
  public var unmatched = 0
  public var kept = 0
  public var logged = 0
  public var reported = 0
  public var aborted = 0
  public var wouldAbort = 0
  public var abortFailed = 0
  public var skippedRecheck = 0
  public var gone = 0
  /// Uploads decided log, report or abort.
  public var stale = 0
  public var bytesHeld: Int64 = 0
  public var staleBytes: Int64 = 0
  public var bytesReclaimed: Int64 = 0
  /// Bytes held and stale counts by target, bucket and rule; bounded by the config, not by the uploads.
  public var holdings: [HoldingKey: Holding] = [:]
  /// Every upload's outcome by target and bucket (`unmatched` apart from `kept`), for the metrics.
  public var outcomes: [OutcomeKey: Int] = [:]
  /// The outcomes of uploads decided abort, by target and bucket, for the metrics.
  public var abortOutcomes: [OutcomeKey: Int] = [:]
  public var reclaimedByBucket: [HoldingKey: Int64] = [:]
  public var errors: [String] = []
  /// What an operator should know that is not a failure: clocks that disagree, buckets left unlisted by a stop.
  public var notices: [String] = []
  public var errorKinds: [ErrorKey: Int] = [:]
  /// Targets that could not be scanned at all, or only in part.
  public var failedTargets: Set<String> = []
  /// Each scanned target's concurrency window as the cycle left it.
  public var concurrency: [String: ConcurrencyReport] = [:]
  /// Server sweeps that run before a rule would act, per bucket whose lifecycle was read (rule nil); a bucket whose
  /// lifecycle is unknown has no entry.
  public var serverSweepConflicts: [HoldingKey: Int] = [:]
  public var durationSeconds = 0.0

  public init() {}

  /// True when `cycle_timeout` cut the cycle short: no target then counts as a success.
  public var timedOut = false

  public struct OutcomeKey: Sendable, Hashable, Comparable {
    public var target: String
    public var bucket: String
    public var outcome: String

    public init(target: String, bucket: String, outcome: String) {
      self.target = target
      self.bucket = bucket
      self.outcome = outcome
    }

    public static func < (lhs: OutcomeKey, rhs: OutcomeKey) -> Bool {
      (lhs.target, lhs.bucket, lhs.outcome) < (rhs.target, rhs.bucket, rhs.outcome)
    }
  }

  public mutating func noteError(_ message: String, target: String, kind: ErrorKind) {
    errors.append(message)
    errorKinds[ErrorKey(target: target, kind: kind), default: 0] += 1
  }

  mutating func count(_ record: UploadRecord) {
    uploadsSeen += 1
    bytesHeld = bytesHeld.saturatingAdd(record.bytes ?? 0)
    let isStale = record.decision == .log || record.decision == .report || record.decision == .abort
    let key = HoldingKey(target: record.upload.target, bucket: record.upload.bucket, rule: record.rule)
    // One lookup per record: this runs for every upload of a cycle.
    var holding = holdings.removeValue(forKey: key) ?? Holding()
    holding.uploads += 1
    holding.bytes = holding.bytes.saturatingAdd(record.bytes ?? 0)
    if record.bytes == nil { holding.unlisted += 1 }
    if isStale {
      stale += 1
      staleBytes = staleBytes.saturatingAdd(record.bytes ?? 0)
      holding.stale += 1
      holding.staleBytes = holding.staleBytes.saturatingAdd(record.bytes ?? 0)
    }
    holdings[key] = holding
    let state = record.decision == .unmatched ? "unmatched" : record.outcome.rawValue
    outcomes[OutcomeKey(target: record.upload.target, bucket: record.upload.bucket, outcome: state), default: 0] += 1
    if record.decision == .abort {
      let outcome = OutcomeKey(
        target: record.upload.target, bucket: record.upload.bucket, outcome: record.outcome.rawValue)
      abortOutcomes[outcome, default: 0] += 1
      if record.outcome == .aborted {
        let key = HoldingKey(target: outcome.target, bucket: outcome.bucket, rule: nil)
        reclaimedByBucket[key] = reclaimedByBucket[key, default: 0].saturatingAdd(record.bytes ?? 0)
      }
    }
    switch record.outcome {
    case .kept: if record.decision == .unmatched { unmatched += 1 } else { kept += 1 }
    case .logged: logged += 1
    case .reported: reported += 1
    case .aborted:
      aborted += 1
      bytesReclaimed = bytesReclaimed.saturatingAdd(record.bytes ?? 0)
    case .wouldAbort: wouldAbort += 1
    case .skippedRecheck: skippedRecheck += 1
    case .gone: gone += 1
    case .failed: if record.decision == .abort { abortFailed += 1 }
    }
  }

  mutating func merge(_ other: CycleSummary) {
    uploadsSeen += other.uploadsSeen
    unmatched += other.unmatched
    kept += other.kept
    logged += other.logged
    reported += other.reported
    aborted += other.aborted
    wouldAbort += other.wouldAbort
    abortFailed += other.abortFailed
    skippedRecheck += other.skippedRecheck
    gone += other.gone
    stale += other.stale
    bytesHeld = bytesHeld.saturatingAdd(other.bytesHeld)
    staleBytes = staleBytes.saturatingAdd(other.staleBytes)
    bytesReclaimed = bytesReclaimed.saturatingAdd(other.bytesReclaimed)
    holdings.merge(other.holdings) { mine, theirs in
      var total = mine
      total.merge(theirs)
      return total
    }
    outcomes.merge(other.outcomes, uniquingKeysWith: +)
    abortOutcomes.merge(other.abortOutcomes, uniquingKeysWith: +)
    reclaimedByBucket.merge(other.reclaimedByBucket) { $0.saturatingAdd($1) }
    errors += other.errors
    notices += other.notices
    errorKinds.merge(other.errorKinds, uniquingKeysWith: +)
    failedTargets.formUnion(other.failedTargets)
    concurrency.merge(other.concurrency) { $1 }
    serverSweepConflicts.merge(other.serverSweepConflicts, uniquingKeysWith: +)
  }
}
