import Foundation
import Logging
import ReaperConfig
import ReaperCore
import ReaperProviders

extension Cycle {
  // MARK: deciding

  /// Decides a page of uploads in order. Parts are listed for every upload a rule selects and is old enough to
  /// be stale, so reports can say what stale uploads hold, and for every upload in list mode or with
  /// `account_all`; those requests run concurrently, as many at a time as the target's window allows. An abort
  /// rule on age alone is the exception: its candidates' parts are listed once, by the re-check before the abort.
  func evaluate(
    _ uploads: [Upload], rules: ScopedRules, provider: any UploadProvider, limiter: TargetLimiter, now: Date,
    clockOffset: TimeInterval
  ) async -> [(Evaluation, doubt: String?)] {
    var results = [(Evaluation, doubt: String?)?](repeating: nil, count: uploads.count)
    await withTaskGroup(of: (Int, (Evaluation, doubt: String?)).self) { group in
      for (index, upload) in uploads.enumerated() {
        let selection = rules.select(key: upload.key, initiator: upload.initiatorID, owner: upload.ownerID)
        let identity = rules.identityAsked(key: upload.key, initiator: upload.initiatorID, owner: upload.ownerID)
        let (notConsidered, planned) = planVerdict(upload, selection: selection, now: now)
        if let notConsidered {
          results[index] = (.done(notConsidered), nil)
          continue
        }
        if !options.listOnly, let other = upload.otherKeyReading,
          rules.select(key: other, initiator: upload.initiatorID, owner: upload.ownerID).selectedRuleName
            != selection.selectedRuleName
        {
          let reason =
            "key ambiguous: the server did not say whether it URL-encoded keys, and the rules treat \"\(upload.key)\" and \"\(other)\" differently"
          let record = UploadRecord(
            upload: upload, ageSeconds: Int64(now.timeIntervalSince(upload.initiated).rounded(.down)), idleSeconds: nil,
            parts: nil, bytes: nil, rule: selection.rule?.name, decision: .keep, outcome: .kept, reason: reason,
            doubtful: true)
          results[index] = (.done(record), reason)
          continue
        }
        let needsParts =
          options.listParts
          && (options.listOnly || config.daemon.accountAll
            || (Policy.partsCanMatter(upload: upload, now: now, selection: selection, safety: config.safety)
              && !recheckIsTheOnlyListing(selection, provider: provider.target.provider)))
        // Stopping: no new parts listing. A rule that needs the parts then keeps the upload; the others' candidates
        // are recorded would-abort when the aborts do not start.
        guard needsParts, !stopping else {
          results[index] = (
            decide(
              upload, selection: selection, parts: nil, now: now, clockOffset: clockOffset, planned: planned,
              identity: identity), nil
          )
          continue
        }
        await limiter.permit(draining: &group) { results[$0.0] = $0.1 }
        group.addTask {
          defer { limiter.release() }
          do throws(ProviderError) {
            // A listing that outlasted the transport's tries gets one more before the upload is left undecided.
            let parts: PartsSummary
            do throws(ProviderError) {
              parts = try await provider.partsSummary(of: upload)
            } catch  where error.kind == .retryable && !stopping {
              parts = try await provider.partsSummary(of: upload)
            }
            options.progress()
            let evaluation = decide(
              upload, selection: selection, parts: parts, now: now, clockOffset: clockOffset, planned: planned,
              identity: identity)
            return (index, (evaluation, parts.doubt(initiated: upload.initiated).map { "\($0); decided without it" }))
          } catch {
            let record = partsFailure(upload, selection: selection, error: error, now: now)
            return (index, (.partsFailed(record, error), nil))
          }
        }
      }
      for await (finished, evaluation) in group { results[finished] = evaluation }
    }
    return results.map { $0! }
  }

  /// An abort rule that reads neither idle time nor bytes is decided on the uploads listing alone. The re-check
  /// lists the parts just before the abort, and that one listing supplies the bytes held and reclaimed: two
  /// requests per abort, not three. A dry run, having no re-check, lists them to say what would be reclaimed.
  /// PDS parts carry no time: a re-check alone could not tell a part uploaded since the decision from an old one,
  /// so there the decision lists them and the re-check compares.
  func recheckIsTheOnlyListing(_ selection: RuleSet.Selection, provider: ProviderKind) -> Bool {
    guard case .selected(let rule) = selection, rule.action == .abort, !Policy.decisionReadsParts(rule),
      provider != .pds
    else {
      return false
    }
    return config.safety.recheckBeforeAbort && !dryRun
  }

  func decide(
    _ upload: Upload, selection: RuleSet.Selection, parts: PartsSummary?, now: Date, clockOffset: TimeInterval,
    planned: PlanEntry? = nil, identity: IdentityAsk = IdentityAsk()
  ) -> Evaluation {
    let decision = Policy.decide(upload: upload, parts: parts, now: now, selection: selection, safety: config.safety)
    if options.listOnly {
      return .done(
        UploadRecord(
          upload: upload, ageSeconds: decision.ageSeconds, idleSeconds: decision.idleSeconds, parts: parts?.count,
          bytes: parts?.bytes, rule: nil, decision: .keep, outcome: .kept, reason: "listed"))
    }
    if decision.kind == .abort, case .selected(let rule) = selection, rule.action == .abort {
      return .candidate(
        Candidate(
          upload: upload, rule: rule, decision: decision, parts: parts, clockOffset: clockOffset, decidedAt: now,
          identity: identity))
    }
    return .done(
      UploadRecord(
        upload: upload, ageSeconds: decision.ageSeconds, idleSeconds: decision.idleSeconds, parts: parts?.count,
        bytes: parts?.bytes, rule: decision.ruleName, decision: decision.kind == .abort ? .keep : decision.kind,
        outcome: decision.kind == .abort ? .kept : decision.outcomeWithoutAbort,
        reason: planned == nil ? decision.reason : Self.plannedButNot(decision),
        doubtful: decision.doubtful))
  }

  func partsFailure(_ upload: Upload, selection: RuleSet.Selection, error: ProviderError, now: Date) -> UploadRecord {
    let age = Int64(now.timeIntervalSince(upload.initiated).rounded(.down))
    let gone = error.kind == .gone
    return UploadRecord(
      upload: upload, ageSeconds: age, idleSeconds: nil, parts: nil, bytes: nil, rule: selection.rule?.name,
      decision: .keep, outcome: gone ? .gone : .failed,
      reason: gone
        ? "gone while its parts were listed (completed or aborted elsewhere)" : "listing parts failed: \(error)")
  }
}
