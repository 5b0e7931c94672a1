import Foundation
import ReaperCore

/// One upload seen in a cycle, and what became of it: a line of the report.
public struct UploadRecord: Sendable {
  public var upload: Upload
  public var ageSeconds: Int64
  /// nil when parts were not listed.
  public var idleSeconds: Int64?
  public var parts: Int?
  public var bytes: Int64?
  public var rule: String?
  public var decision: DecisionKind
  public var outcome: Outcome
  public var reason: String
  /// Kept for want of knowing (see `Decision.doubtful`), or decided on parts the server got wrong.
  public var doubtful: Bool
  /// A would-abort that passed every guard and was stopped only by the dry run: what `scan --plan` plans.
  public var plannable = false

  public init(
    upload: Upload, ageSeconds: Int64, idleSeconds: Int64?, parts: Int?, bytes: Int64?, rule: String?,
    decision: DecisionKind, outcome: Outcome, reason: String, doubtful: Bool = false
  ) {
    self.upload = upload
    self.ageSeconds = ageSeconds
    self.idleSeconds = idleSeconds
    self.parts = parts
    self.bytes = bytes
    self.rule = rule
    self.decision = decision
    self.outcome = outcome
    self.reason = reason
    self.doubtful = doubtful
  }

  /// A plain keep: a rule found the upload not stale or excluded it, or no rule matched it. The default report
  /// counts these instead of listing them; every other record is listed, so an operator can find each upload the
  /// reaper acted on, or declined to act on for a reason.
  public var isPlainKeep: Bool {
    outcome == .kept && !doubtful && (decision == .keep || decision == .unmatched)
  }
}
