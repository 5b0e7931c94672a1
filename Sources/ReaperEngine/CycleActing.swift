import Foundation
import Logging
import ReaperConfig
import ReaperCore
import ReaperProviders

extension Cycle {
  // MARK: acting

  func abortCandidates(
    _ candidates: [Candidate], count: Int, target: Target, provider: any UploadProvider, limiter: TargetLimiter,
    into tally: inout CycleSummary
  ) async {
    guard !candidates.isEmpty else { return }
    if stopping {
      for candidate in candidates { await finish(record(candidate, .wouldAbort, note: "cycle stopped"), into: &tally) }
      return
    }
    let seen = tally.uploadsSeen + candidates.count
    let fraction = config.safety.maxAbortFraction
    if Double(count) > fraction * Double(seen) {
      let note =
        "circuit breaker: \(count) of \(seen) uploads would be aborted, more than max_abort_fraction \(fraction)"
      logger.critical(
        "circuit breaker tripped on target \(target.name): \(count) of \(seen) uploads would be aborted; aborting none",
        metadata: [
          "message_id": "\(ReaperEvent.circuitBreakerTripped.messageID)", "target": "\(target.name)",
          "candidates": "\(count)", "uploads_seen": "\(seen)", "max_abort_fraction": "\(fraction)",
        ])
      for candidate in candidates { await finish(record(candidate, .wouldAbort, note: note), into: &tally) }
      return
    }
    if dryRun {
      for candidate in candidates {
        var planned = record(candidate, .wouldAbort, note: "dry run")
        planned.plannable = true
        await finish(planned, into: &tally)
      }
      return
    }
    // An abort that meets a transient fault (503, SlowDown, a timeout) is tried again in a later round, after a
    // fresh re-check, never by the transport on the strength of an old one. Aborts are idempotent, so a repeat
    // destroys nothing more; one that then finds the upload gone says aborted-or-gone.
    var round = candidates
    for pass in 1...Self.abortRounds {
      var again: [(Candidate, UploadRecord, ProviderError)] = []
      await withTaskGroup(of: Attempt.self) { group in
        func settle(_ attempt: Attempt) async {
          switch attempt {
          case .final(let finished, let error): await finish(finished, into: &tally, error: error)
          case .again(let candidate, let finished, let error):
            if pass < Self.abortRounds {
              again.append((candidate, finished, error))
            } else {
              await finish(finished, into: &tally, error: error)
            }
          }
        }
        for candidate in round {
          await limiter.permit(draining: &group, settle: settle)
          if stopping {
            limiter.release()
            await finish(record(candidate, .wouldAbort, note: "shutting down"), into: &tally)
            continue
          }
          group.addTask {
            defer { limiter.release() }
            let attempt = await abort(candidate, provider: provider)
            options.progress()
            return attempt
          }
        }
        for await attempt in group { await settle(attempt) }
      }
      if again.isEmpty { break }
      if stopping {
        for (_, finished, error) in again { await finish(finished, into: &tally, error: error) }
        break
      }
      logger.info(
        "trying \(again.count) abort(s) again that met transient faults", metadata: ["target": "\(target.name)"])
      let asked = again.compactMap(\.2.retryAfter).max()
      let pause = min(asked ?? .milliseconds(100 << pass), .seconds(5))
      let ceiling = pause.components.seconds * 1000 + pause.components.attoseconds / 1_000_000_000_000_000
      try? await Task.sleep(for: .milliseconds(Int64.random(in: 0...max(1, ceiling))))
      round = again.map(\.0)
    }
  }

  /// Rounds of aborts per target and cycle: the first, and retries of those that met transient faults.
  static let abortRounds = 5

  /// Rechecks and aborts one candidate.
  func abort(_ candidate: Candidate, provider: any UploadProvider) async -> Attempt {
    var current = candidate
    let goneAfterOurAbort =
      "aborted-or-gone: an earlier abort request's answer was lost, and now the upload is gone (aborted by it, or completed elsewhere)"
    if config.safety.recheckBeforeAbort {
      do {
        let after = try await provider.partsSummary(of: candidate.upload)
        let now = options.hostClock().addingTimeInterval(candidate.clockOffset)
        let reason = Recheck.reasonToSkip(
          before: candidate.parts, after: after, rule: candidate.rule, upload: candidate.upload,
          decidedAt: candidate.decidedAt, now: now,
          partsNameIdentities: provider.target.provider.partsListingNamesIdentities,
          passedOver: config.rules.scoped(target: candidate.upload.target, bucket: candidate.upload.bucket)
            .passedOver(before: candidate.rule, key: candidate.upload.key))
        // The only listing, when the decision made none: what the upload holds, kept or aborted.
        if candidate.parts == nil { current.parts = after }
        if let reason {
          // Where this listing is the only one, what the server got wrong in it is counted here, as a decision's
          // listing would have been.
          let doubt = candidate.parts == nil ? after.doubt(initiated: candidate.upload.initiated) : nil
          return .final(
            record(current, .skippedRecheck, note: reason),
            doubt.map {
              ProviderError(
                kind: .malformedResponse, target: candidate.upload.target, bucket: candidate.upload.bucket,
                request: "parts of \(candidate.upload.key) (\(candidate.upload.uploadID))", message: $0)
            })
        }
        current.parts = after
      } catch let error where error.kind == .gone {
        if candidate.abortSent { return .final(record(current, .gone, note: goneAfterOurAbort), nil) }
        return .final(
          record(current, .skippedRecheck, note: "recheck: the upload vanished (completed or aborted elsewhere)"), nil)
      } catch {
        let failed = record(current, .skippedRecheck, note: "recheck failed, not aborting: \(error.message)")
        return error.kind == .retryable ? .again(candidate, failed, error) : .final(failed, error)
      }
    }
    if stopping { return .final(record(current, .wouldAbort, note: "stopping: re-checked, not aborted"), nil) }
    do {
      switch try await provider.abort(current.upload) {
      case .aborted: return .final(record(current, .aborted), nil)
      case .gone:
        let note = candidate.abortSent ? goneAfterOurAbort : "already gone (completed or aborted elsewhere)"
        return .final(record(current, .gone, note: note), nil)
      case .abortedOrGone:
        return .final(
          record(
            current, .gone,
            note:
              "aborted-or-gone: the abort was retried after a lost answer and then found no such upload (aborted by the first try, or completed elsewhere)"
          ), nil)
      case .changed(let why): return .final(record(current, .skippedRecheck, note: why), nil)
      }
    } catch {
      let failed = record(current, .failed, note: "abort failed: \(error.message)")
      guard error.kind == .retryable else { return .final(failed, error) }
      var retry = candidate
      retry.abortSent = true
      return .again(retry, failed, error)
    }
  }

  func record(_ candidate: Candidate, _ outcome: Outcome, note: String? = nil) -> UploadRecord {
    UploadRecord(
      upload: candidate.upload, ageSeconds: candidate.decision.ageSeconds, idleSeconds: candidate.decision.idleSeconds,
      parts: candidate.parts?.count, bytes: candidate.parts?.bytes, rule: candidate.rule.name, decision: .abort,
      outcome: outcome, reason: note.map { "\(candidate.decision.reason); \($0)" } ?? candidate.decision.reason)
  }

  /// Counts, logs and emits one final record.
  func finish(_ record: UploadRecord, into tally: inout CycleSummary, error: ProviderError? = nil) async {
    tally.count(record)
    if let error, let kind = error.errorKind {
      tally.noteError(error.description, target: record.upload.target, kind: kind)
    }
    log(record)
    await sink.emit(record)
  }
}
