import Foundation
import ReaperCore
import ReaperProviders

/// What moves between the steps of one target's scan: an upload the policy would abort, what deciding or
/// aborting one came to.
extension Cycle {
  /// An upload the policy would abort, waiting for the guards.
  struct Candidate: Sendable {
    var upload: Upload
    var rule: Rule
    var decision: Decision
    var parts: PartsSummary?
    /// Server clock minus host clock when it was listed, so the recheck measures on the same clock.
    var clockOffset: TimeInterval
    /// When the listing that decided was answered, on that clock.
    var decidedAt: Date
    /// An abort request for it was sent and its answer lost: a later NoSuchUpload may be our own doing.
    var abortSent = false
    /// Which identities the choice of its rule turned on: the re-check must confirm them.
    var identity = IdentityAsk()
  }

  /// What one abort attempt came to: a final record, or a transient failure worth one more round.
  enum Attempt: Sendable {
    case final(UploadRecord, ProviderError?)
    case again(Candidate, UploadRecord, ProviderError)
  }

  /// What deciding one upload produced: a final record, or a candidate for abort.
  enum Evaluation: Sendable {
    case done(UploadRecord)
    case candidate(Candidate)
    /// Kept because its parts could not be listed; the error counts against the target.
    case partsFailed(UploadRecord, ProviderError)

    var upload: Upload {
      switch self {
      case .done(let record), .partsFailed(let record, _): record.upload
      case .candidate(let candidate): candidate.upload
      }
    }
  }
}
