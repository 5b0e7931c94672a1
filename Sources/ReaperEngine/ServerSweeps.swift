import Foundation
import Logging
import ReaperConfig
import ReaperCore
import ReaperProviders
import Synchronization

/// One thing worth saying about a bucket's server-side sweeps of incomplete uploads (S3 lifecycle rules with
/// `AbortIncompleteMultipartUpload`), as a line an operator reads.
public struct ServerSweepFinding: Sendable, Hashable, CustomStringConvertible {
  public enum Kind: Sendable, Hashable {
    /// A sweep runs before a reaper rule would act on uploads it covers.
    case conflict(ServerSweepConflict)
    /// The lifecycle configuration could not be read because the credentials may not.
    case accessDenied(String)
    /// It could not be read for another reason.
    case unknown(String)
    /// A lifecycle rule that may sweep, but that could not be read.
    case unreadableRule(String)
  }

  public var target: String
  public var bucket: String
  public var kind: Kind

  public init(target: String, bucket: String, kind: Kind) {
    self.target = target
    self.bucket = bucket
    self.kind = kind
  }

  public var isConflict: Bool {
    if case .conflict = kind { return true }
    return false
  }

  /// The finding without its target and bucket.
  public var text: String {
    switch kind {
    case .conflict(let conflict): "server-side sweep: \(conflict)"
    case .accessDenied(let error):
      "server-side sweeps unknown (access denied): these credentials may not read the bucket's lifecycle configuration (s3:GetLifecycleConfiguration): \(error)"
    case .unknown(let error):
      "server-side sweeps unknown: the bucket's lifecycle configuration could not be read: \(error)"
    case .unreadableRule(let problem): "server-side sweep unknown: \(problem)"
    }
  }

  public var description: String { "target \(target), bucket \(bucket): \(text)" }
}

/// What `check-config --online` prints for one bucket: every server sweep that runs before a rule of `rules` would
/// act, and what could not be read, "unknown (access denied)" included. Empty when the provider has no such
/// sweeps (CDCS, PDS) or no rule applies to the bucket. Makes at most one request.
public func serverSweepWarnings(
  target: Target, bucket: String, rules: RuleSet, provider: any UploadProvider
) async -> [ServerSweepFinding] {
  let scoped = rules.scoped(target: target.name, bucket: bucket)
  guard !scoped.isEmpty else { return [] }
  let lookup = await ServerSweeps.lookup(provider, bucket: bucket)
  return ServerSweeps.findings(lookup, target: target.name, bucket: bucket, rules: scoped)
}

enum ServerSweeps {
  static func findings(
    _ lookup: ServerSweepLookup, target: String, bucket: String, rules: ScopedRules
  ) -> [ServerSweepFinding] {
    func finding(_ kind: ServerSweepFinding.Kind) -> ServerSweepFinding {
      ServerSweepFinding(target: target, bucket: bucket, kind: kind)
    }
    switch lookup {
    case .unsupported: return []
    case .accessDenied(let error): return [finding(.accessDenied(error))]
    case .failed(let error): return [finding(.unknown(error))]
    case .read(let reading):
      return ServerSweepCheck.conflicts(rules: rules.rules, sweeps: reading.sweeps).map { finding(.conflict($0)) }
        + reading.problems.map { finding(.unreadableRule($0)) }
    }
  }

  /// Targets and buckets whose lifecycle was refused to these credentials, already said: a permission missing on
  /// purpose is said once per process, not every cycle. Keyed by endpoint too, so two configs' same names differ.
  static let deniedSaid = Mutex<Set<String>>([])

  /// How long a lookup may take, retries included. It runs beside the bucket's listing, so this is only ever
  /// waited for when the server is slow to answer it; a task-local so tests can shorten it.
  @TaskLocal static var patience: Duration = .seconds(30)

  /// The lookup, or `failed` once `patience` has run out: a slow lifecycle answer never holds back the aborts.
  static func lookup(_ provider: any UploadProvider, bucket: String) async -> ServerSweepLookup {
    let patience = patience
    return await withTaskGroup(of: ServerSweepLookup?.self) { race in
      race.addTask { await provider.serverSweeps(bucket: bucket) }
      race.addTask {
        try? await Task.sleep(for: patience)
        return nil
      }
      let first = await race.next() ?? nil
      race.cancelAll()
      return first ?? .failed("\(unanswered) \(patience)")
    }
  }

  static let unanswered = "no answer within"

  /// Whether the lookup ran out of patience: the endpoint is slow to answer lifecycle requests, and asking again
  /// for the target's next bucket would hold back its aborts by one more patience each.
  static func wentUnanswered(_ lookup: ServerSweepLookup) -> Bool {
    if case .failed(let why) = lookup { return why.hasPrefix(unanswered) }
    return false
  }

  static func firstDenial(_ target: Target, bucket: String) -> Bool {
    let key = [target.name, target.endpoint, bucket].joined(separator: "\u{0}")
    return deniedSaid.withLock { $0.insert(key).inserted }
  }
}

extension Cycle {
  /// Reads the bucket's server sweeps while its uploads are listed. Nothing a decision depends on waits for it.
  func serverSweepLookup(
    _ provider: any UploadProvider, bucket: String, rules: ScopedRules, ask: Bool = true
  ) async
    -> ServerSweepLookup
  {
    guard !options.listOnly, !rules.isEmpty, !stopping else { return .unsupported }
    guard ask else {
      return .failed("not asked: a lookup for an earlier bucket of this target got no answer this cycle")
    }
    return await ServerSweeps.lookup(provider, bucket: bucket)
  }

  /// Says what the lookup found: each conflict as a warning with its MESSAGE_ID and a notice in the report, the
  /// count in the summary for the metrics. Never an error: a target's success does not depend on advice.
  func noteServerSweeps(
    _ lookup: ServerSweepLookup, target: Target, bucket: String, rules: ScopedRules, into tally: inout CycleSummary
  ) {
    if case .read(let reading) = lookup {
      let count = ServerSweepCheck.conflicts(rules: rules.rules, sweeps: reading.sweeps).count
      tally.serverSweepConflicts[HoldingKey(target: target.name, bucket: bucket, rule: nil)] = count
    }
    for finding in ServerSweeps.findings(lookup, target: target.name, bucket: bucket, rules: rules) {
      var metadata: Logger.Metadata = ["target": "\(target.name)", "bucket": "\(bucket)"]
      switch finding.kind {
      case .conflict(let conflict):
        metadata["message_id"] = "\(ReaperEvent.serverSweepConflict.messageID)"
        metadata["lifecycle_rule"] = "\(conflict.sweep.ruleID)"
        metadata["lifecycle_prefix"] = "\(conflict.sweep.prefix)"
        metadata["lifecycle_days"] = "\(conflict.sweep.days)"
        metadata["rule"] = "\(conflict.ruleName)"
        metadata["rule_prefix"] = "\(conflict.rulePrefix)"
        if let maxAge = conflict.ruleMaxAge { metadata["rule_max_age_seconds"] = "\(maxAge.seconds)" }
        if let maxIdle = conflict.ruleMaxIdle { metadata["rule_max_idle_seconds"] = "\(maxIdle.seconds)" }
        metadata["coverage"] = "\(conflict.coverage.rawValue)"
        metadata["conflict"] = "\(conflict.kind.rawValue)"
        if let doubt = conflict.sweep.filterDoubt { metadata["lifecycle_filter_doubt"] = "\(doubt)" }
        logger.warning("\(finding.text)", metadata: metadata)
      case .accessDenied:
        // A cycle stopped by a timeout cancels the request; that is no news about permissions.
        guard !stopping, ServerSweeps.firstDenial(target, bucket: bucket) else { continue }
        logger.notice("\(finding.text)", metadata: metadata)
      case .unknown:
        guard !stopping else { continue }
        logger.notice("\(finding.text)", metadata: metadata)
      case .unreadableRule:
        logger.notice("\(finding.text)", metadata: metadata)
      }
      tally.notices.append(finding.description)
    }
  }
}
