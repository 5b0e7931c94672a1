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

  public init(
    upload: Upload, ageSeconds: Int64, idleSeconds: Int64?, parts: Int?, bytes: Int64?, rule: String?,
    decision: DecisionKind, outcome: Outcome, reason: String
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
  }
}
