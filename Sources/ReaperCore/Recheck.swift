import Foundation

/// The last look before an abort: the upload's parts listed again just now, compared with what the decision
/// saw. Any sign of life, or any doubt, skips the abort.
public enum Recheck {
  /// - Parameters:
  ///   - before: the parts the decision saw, or nil when the decision read none (a rule on age alone); the
  ///     re-check's listing is then the first look at them.
  ///   - decidedAt: the time, on the clock ages are measured on, of the listing that decided.
  /// - Returns: why the abort must be skipped, or nil when it may go ahead.
  /// Idle is measured as the decision measured it: from the newest part, else the upload's own last activity
  /// (PDS), never from an older stamp when the times cannot be read.
  public static func reasonToSkip(
    before: PartsSummary?, after: PartsSummary, rule: Rule, upload: Upload, decidedAt: Date, now: Date
  ) -> String? {
    let initiated = upload.initiated
    if before == nil {
      // With nothing to compare with, a sign of life is a part dated at or after the listing that decided (less
      // a second, as stamps and the Date header are truncated to it), or a part whose date cannot be read.
      if let unreadable = after.firstUnreadableTime {
        return "recheck: \(unreadable), so a part may have arrived since the decision"
      }
      if let newest = after.newestModified, newest >= decidedAt.addingTimeInterval(-Self.stampResolution) {
        return "recheck: a part is dated \(Timestamp.formatRFC3339(newest)), since the decision"
      }
    }
    if let before {
      if after.count > before.count || after.highestPartNumber > before.highestPartNumber {
        return "recheck: new part uploaded (\(before.count) → \(after.count) parts)"
      }
      if let newest = after.newestModified, before.newestModified.map({ newest > $0 }) ?? true {
        return "recheck: a part changed since the decision"
      }
      if after.bytes != before.bytes { return "recheck: bytes held changed" }
    }
    if let maxIdle = rule.maxIdle {
      if let unknown = after.idleUnknownReason(initiated: initiated) { return "recheck: \(unknown)" }
      if let unknown = upload.idleUnknown, after.newestModified == nil {
        return "recheck: idle time unknown: \(unknown)"
      }
      let idle = now.timeIntervalSince(
        max(after.newestModified ?? upload.lastActivity?.date ?? initiated, initiated))
      if idle <= Double(maxIdle.seconds) {
        return "recheck: idle \(TimeSpan.humanize(seconds: Int64(idle), like: maxIdle)) <= max_idle \(maxIdle)"
      }
    }
    return nil
  }

  /// Part stamps and the `Date` header are truncated to the second by some services.
  static let stampResolution: TimeInterval = 1
}
