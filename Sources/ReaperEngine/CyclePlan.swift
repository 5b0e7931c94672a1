import Foundation
import ReaperConfig
import ReaperCore

extension Cycle {
  // MARK: applying a plan

  /// What applying a plan makes of one listed upload before any rule decides it: a record when it is not to be
  /// considered for abort at all (outside the plan, another upload than planned, now under another rule), or the
  /// plan's entry when it is to be decided again like any upload. Without a plan, neither.
  func planVerdict(
    _ upload: Upload, selection: RuleSet.Selection, now: Date
  ) -> (record: UploadRecord?, planned: PlanEntry?) {
    guard let plan = options.plan else { return (nil, nil) }
    let age = Int64(now.timeIntervalSince(upload.initiated).rounded(.down))
    func kept(_ reason: String, rule: String?, doubtful: Bool) -> UploadRecord {
      UploadRecord(
        upload: upload, ageSeconds: age, idleSeconds: nil, parts: nil, bytes: nil, rule: rule, decision: .keep,
        outcome: .kept, reason: reason, doubtful: doubtful)
    }
    switch plan.check(upload) {
    case .outside:
      return (kept(Self.outsidePlan, rule: nil, doubtful: false), nil)
    case .mismatch(let why):
      return (kept(why, rule: nil, doubtful: true), nil)
    case .planned(let entry):
      if let change = PlanSet.ruleChange(planned: entry, selected: selection.selectedRuleName) {
        return (kept(change, rule: selection.rule?.name, doubtful: true), nil)
      }
      return (nil, entry)
    }
  }

  static let outsidePlan = "outside the plan: not considered for abort"

  /// Why a planned upload the rules now decide otherwise than abort is not aborted.
  static func plannedButNot(_ decision: Decision) -> String {
    decision.kind == .keep && !decision.doubtful
      ? "no longer stale: \(decision.reason)" : "planned, now decided \(decision.kind.rawValue): \(decision.reason)"
  }

  /// The buckets of a target that a cycle lists: with a plan, only those it names.
  func listed(_ target: Target, bucket: String) -> Bool {
    config.daemon.shard.owns(target: target.name, bucket: bucket)
      && (options.plan?.names(target: target.name, bucket: bucket) ?? true)
  }

  /// Records for the planned uploads of a listed bucket that the listing did not show. A listing that ran to its
  /// end says they are gone; one cut short says nothing, and they are kept for want of knowing.
  func unseenPlanned(target: String, bucket: String, seen: Set<PlanAddress>, complete: Bool) -> [UploadRecord] {
    guard let plan = options.plan else { return [] }
    let now = options.hostClock()
    return plan.entries(target: target, bucket: bucket).filter { !seen.contains($0.address) }
      .sorted { $0.key < $1.key }
      .map { entry in
        let upload = Upload(
          target: entry.target, bucket: entry.bucket, key: entry.key, uploadID: entry.uploadID,
          initiated: entry.initiated)
        return UploadRecord(
          upload: upload, ageSeconds: Int64(now.timeIntervalSince(entry.initiated).rounded(.down)), idleSeconds: nil,
          parts: nil, bytes: nil, rule: entry.rule, decision: .keep, outcome: complete ? .gone : .kept,
          reason: complete
            ? "no longer listed: completed or aborted since the plan was made"
            : "not seen: the listing of this bucket did not complete", doubtful: !complete)
      }
  }

  /// Records for the planned uploads this cycle does not list at all: their target or bucket is no longer in the
  /// config, or belongs to another shard. Never listed, never aborted.
  func plannedOutsideConfig() -> [UploadRecord] {
    guard let plan = options.plan else { return [] }
    let now = options.hostClock()
    var records: [UploadRecord] = []
    for entry in plan.entries.sorted(by: { ($0.target, $0.bucket, $0.key) < ($1.target, $1.bucket, $1.key) }) {
      let reason: String
      if options.targetFilter.map({ $0 != entry.target }) ?? false {
        reason = "not applied: target \(entry.target) is not the one --target names"
      } else if let target = config.target(named: entry.target) {
        if target.excludeBuckets.contains(where: { $0.matches(entry.bucket) }) {
          reason = "not applied: bucket \(entry.bucket) is excluded by exclude_buckets on target \(entry.target)"
        } else if !Self.configures(target, bucket: entry.bucket) {
          reason = "not applied: bucket \(entry.bucket) is no longer configured on target \(entry.target)"
        } else if !config.daemon.shard.owns(target: entry.target, bucket: entry.bucket) {
          reason = "not applied: bucket \(entry.bucket) belongs to another shard than \(config.daemon.shard)"
        } else {
          continue
        }
      } else {
        reason = "not applied: target \(entry.target) is no longer in the config"
      }
      let upload = Upload(
        target: entry.target, bucket: entry.bucket, key: entry.key, uploadID: entry.uploadID,
        initiated: entry.initiated)
      records.append(
        UploadRecord(
          upload: upload, ageSeconds: Int64(now.timeIntervalSince(entry.initiated).rounded(.down)), idleSeconds: nil,
          parts: nil, bytes: nil, rule: entry.rule, decision: .keep, outcome: .kept, reason: reason, doubtful: true))
    }
    return records
  }

  /// Whether `bucket` is one the target's config names or one of its globs may match, and no `exclude_buckets`
  /// entry takes back. A bucket a glob matches is the target's walk to account for, listed or not: saying
  /// "no longer configured" here as well would give one planned upload two records, one of them wrong.
  static func configures(_ target: Target, bucket: String) -> Bool {
    guard !target.excludeBuckets.contains(where: { $0.matches(bucket) }) else { return false }
    return target.buckets.contains { entry in
      BucketPattern.isGlob(entry)
        ? Glob(entry).matches(bucket) : entry.unicodeScalars.elementsEqual(bucket.unicodeScalars)
    }
  }

  /// The buckets of `target` the plan names that the config may still watch and this shard owns, each once.
  func plannedBuckets(of target: Target) -> [String] {
    guard let plan = options.plan else { return [] }
    var buckets: [String] = []
    for entry in plan.entries where entry.target.unicodeScalars.elementsEqual(target.name.unicodeScalars) {
      guard Self.configures(target, bucket: entry.bucket),
        config.daemon.shard.owns(target: target.name, bucket: entry.bucket),
        !buckets.contains(where: { $0.unicodeScalars.elementsEqual(entry.bucket.unicodeScalars) })
      else { continue }
      buckets.append(entry.bucket)
    }
    return buckets.sorted()
  }

  /// Records for the planned uploads of buckets a glob may match that this cycle's listing of buckets did not
  /// yield (the listing failed, or no longer names them): never listed, never aborted.
  func plannedNotWatched(_ target: Target, watched: BucketResolution) -> [UploadRecord] {
    plannedBuckets(of: target).filter { bucket in
      !watched.buckets.contains { $0.unicodeScalars.elementsEqual(bucket.unicodeScalars) }
    }.flatMap { bucket in
      unseenPlanned(target: target.name, bucket: bucket, seen: [], complete: false).map { record in
        var record = record
        record.reason =
          "not applied: bucket \(bucket) is not among the buckets target \(target.name)'s globs matched this cycle"
        return record
      }
    }
  }
}
