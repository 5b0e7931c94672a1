import Foundation
import Logging
import ReaperConfig
import ReaperCore
import ReaperProviders

/// Where a cycle's records go, one at a time, as they are decided.
public protocol RecordSink: Sendable {
  func emit(_ record: UploadRecord) async
  /// The same, with the record's JSON line already made, so several sinks format it once.
  func emit(_ record: UploadRecord, jsonLine: String) async
}

extension RecordSink {
  public func emit(_ record: UploadRecord, jsonLine: String) async { await emit(record) }
}

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

/// Builds the provider for a target with this cycle's credentials.
public typealias ProviderMaker = @Sendable (Target, Credentials) throws -> any UploadProvider

/// One cycle over the configured targets: walk each bucket page by page, decide each upload with the pure
/// policy, then carry out the aborts the guards allow. Targets run concurrently; within a target at most
/// `concurrency` requests are in flight.
public struct Cycle: Sendable {
  let config: ReaperConfig
  let options: CycleOptions
  let environment: [String: String]
  let makeProvider: ProviderMaker
  let sink: any RecordSink
  let logger: Logger

  public init(
    config: ReaperConfig, options: CycleOptions, environment: [String: String], makeProvider: @escaping ProviderMaker,
    sink: any RecordSink, logger: Logger
  ) {
    self.config = config
    self.options = options
    self.environment = environment
    self.makeProvider = makeProvider
    self.sink = sink
    self.logger = logger
  }

  var dryRun: Bool { options.mode == .dryRun || config.daemon.dryRun }

  public func run() async -> CycleSummary {
    let started = ContinuousClock.now
    let targets = config.targets.filter { options.targetFilter == nil || $0.name == options.targetFilter }
    var summary = CycleSummary()
    summary.started = options.hostClock()
    summary.dryRun = dryRun
    summary.targets = targets.count
    summary.targetNames = targets.map(\.name)
    let timeout = config.daemon.cycleTimeout
    // The cycle races a timer. If the timer wins, the scan is cancelled: its walks stop, nothing further is
    // aborted, and what it had done is still counted.
    let timedOut = await withTaskGroup(of: CycleSummary?.self) { race -> Bool in
      race.addTask {
        await withTaskGroup(of: CycleSummary.self) { group in
          for target in targets {
            group.addTask { await WalkControl.$stopRequested.withValue(options.shouldStop) { await scan(target) } }
          }
          var total = CycleSummary()
          for await partial in group { total.merge(partial) }
          return total
        }
      }
      race.addTask {
        try? await Task.sleep(for: .seconds(timeout.seconds))
        return nil
      }
      // The first to finish decides; the scan, cancelled or not, then hands in what it did.
      let first = await race.next() ?? nil
      race.cancelAll()
      if let first { summary.merge(first) }
      for await result in race { if let result { summary.merge(result) } }
      let expired = first == nil
      return expired
    }
    if timedOut {
      let message = "cycle timeout of \(timeout) reached: listing stopped and nothing more was aborted"
      summary.timedOut = true
      summary.noteError(message, target: "all", kind: .timeout)
      logger.error("\(message)", metadata: ["cycle_timeout": "\(timeout)"])
    }
    let elapsed = ContinuousClock.now - started
    summary.durationSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    if !options.listOnly {
      logger.notice(
        "cycle finished: \(summary.uploadsSeen) uploads, \(summary.aborted) aborted, \(summary.reported) reported, \(summary.errors.count) errors",
        metadata: [
          "message_id": "\(ReaperEvent.cycleFinished.messageID)", "uploads_seen": "\(summary.uploadsSeen)",
          "aborted": "\(summary.aborted)", "reported": "\(summary.reported)", "errors": "\(summary.errors.count)",
          "bytes_reclaimed": "\(summary.bytesReclaimed)", "dry_run": "\(dryRun)",
        ])
    }
    return summary
  }

  // MARK: one target

  /// An upload the policy would abort, waiting for the guards.
  struct Candidate: Sendable {
    var upload: Upload
    var rule: Rule
    var decision: Decision
    var parts: PartsSummary?
    /// Server clock minus host clock when it was listed, so the recheck measures on the same clock.
    var clockOffset: TimeInterval
    /// An abort request for it was sent and its answer lost: a later NoSuchUpload may be our own doing.
    var abortSent = false
  }

  /// What one abort attempt came to: a final record, or a transient failure worth one more round.
  enum Attempt: Sendable {
    case final(UploadRecord, ProviderError?)
    case again(Candidate, UploadRecord, ProviderError)
  }

  /// Once true, no new page, parts listing or abort is started: SIGTERM, or the cycle timeout's cancellation.
  var stopping: Bool { options.shouldStop() || Task.isCancelled }

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

  func scan(_ target: Target) async -> CycleSummary {
    var tally = CycleSummary()
    let provider: any UploadProvider
    do {
      provider = try connect(target)
    } catch {
      failTarget(target, bucket: nil, "\(error)", kind: .credentials, into: &tally)
      return tally
    }
    var candidates: [Candidate] = []
    var candidateCount = 0
    let budget = config.safety.maxAbortsPerCycle
    var skewNoted = false
    /// Set when an upload claims to start in the server's future: this target aborts nothing this cycle.
    var clockSuspect: String?
    for bucket in target.buckets where config.daemon.shard.owns(target: target.name, bucket: bucket) {
      if stopping {
        tally.notices.append("target \(target.name), bucket \(bucket): not listed, the cycle was stopping")
        continue
      }
      let rules = config.rules.scoped(target: target.name, bucket: bucket)
      let firstCandidate = candidates.count
      // Tree walks (PDS) skip folders no rule's prefix reaches; nil walks everything, as list mode and
      // account_all (bytes held by every upload) must.
      let reach: [String]? = options.listOnly || config.daemon.accountAll ? nil : rules.rules.map(\.prefix)
      do {
        for try await page in provider.uploads(bucket: bucket, prefix: "", within: reach) {
          options.progress()
          let hostNow = options.hostClock()
          let now = ClockCheck.measuringNow(server: page.serverDate, host: hostNow)
          if !skewNoted, let serverDate = page.serverDate,
            let skew = ClockCheck.suspectSkew(server: serverDate, host: hostNow)
          {
            skewNoted = true
            let earlier = skew > 0 ? "this host's" : "the server's"
            let message =
              "target \(target.name): the server's clock differs from this host's by \(Int(skew))s; ages are measured on the earlier, \(earlier)"
            tally.notices.append(message)
            logger.warning(
              "clocks disagree: \(message)",
              metadata: [
                "message_id": "\(ReaperEvent.clockSkew.messageID)", "target": "\(target.name)",
                "bucket": "\(bucket)", "skew_seconds": "\(Int(skew))",
              ])
          }
          if clockSuspect == nil,
            let upload = page.uploads.first(where: { ClockCheck.futureInitiated($0, now: now) != nil }),
            let ahead = ClockCheck.futureInitiated(upload, now: now)
          {
            let message =
              "clock or timezone suspect: upload \(upload.uploadID) (\(upload.key)) was initiated \(TimeSpan.humanize(seconds: Int64(ahead))) in the server's future; check the target's timezone. Aborting nothing on \(target.name) this cycle"
            clockSuspect = message
            tally.noteError("target \(target.name), bucket \(bucket): \(message)", target: target.name, kind: .clock)
            logger.critical(
              "\(message)",
              metadata: [
                "message_id": "\(ReaperEvent.clockSuspect.messageID)", "target": "\(target.name)",
                "bucket": "\(bucket)",
                "key": "\(upload.key)", "upload_id": "\(upload.uploadID)", "ahead_seconds": "\(Int(ahead))",
              ])
          }
          for problem in page.unreadable {
            tally.noteError(
              "target \(target.name), bucket \(bucket): \(problem)", target: target.name,
              kind: .malformedResponse)
            logger.error(
              "unreadable upload record",
              metadata: ["target": "\(target.name)", "bucket": "\(bucket)", "error": "\(problem)"])
          }
          let evaluations = await evaluate(
            page.uploads, rules: rules, provider: provider, now: now, clockOffset: now.timeIntervalSince(hostNow))
          for (evaluation, doubt) in evaluations {
            if let doubt {
              tally.noteError(
                "target \(target.name), bucket \(bucket): key \"\(evaluation.upload.key)\" upload \(evaluation.upload.uploadID): \(doubt)",
                target: target.name, kind: .malformedResponse)
            }
            switch evaluation {
            case .done(let record):
              await finish(record, into: &tally)
            case .partsFailed(let record, let error):
              await finish(record, into: &tally)
              if let kind = error.errorKind { tally.noteError(error.description, target: target.name, kind: kind) }
            case .candidate(let candidate):
              candidateCount += 1
              if candidates.count < budget {
                candidates.append(candidate)
              } else {
                await finish(
                  record(candidate, .wouldAbort, note: "abort budget of \(budget) per cycle reached"), into: &tally)
              }
            }
          }
          if stopping { break }
        }
      } catch let error as ProviderError {
        failTarget(target, bucket: bucket, error.description, kind: error.errorKind ?? .other, into: &tally)
        // A walk that ends in an answer not to be trusted casts doubt on the pages before it: nothing it found is
        // aborted this cycle.
        if error.kind == .inconsistentResponse || error.kind == .malformedResponse {
          let doubted = candidates[firstCandidate...]
          candidates.removeSubrange(firstCandidate...)
          for candidate in doubted {
            await finish(
              record(candidate, .wouldAbort, note: "the listing of this bucket ended in an answer not to be trusted"),
              into: &tally)
          }
        }
      } catch is WalkControl.Stopped {
        tally.notices.append("target \(target.name), bucket \(bucket): listing ended early, the cycle was stopping")
      } catch {
        failTarget(target, bucket: bucket, "\(error)", kind: .other, into: &tally)
      }
    }
    if clockSuspect != nil {
      for candidate in candidates {
        await finish(record(candidate, .wouldAbort, note: "clock or timezone suspect on this target"), into: &tally)
      }
      return tally
    }
    await abortCandidates(candidates, count: candidateCount, target: target, provider: provider, into: &tally)
    return tally
  }

  func connect(_ target: Target) throws -> any UploadProvider {
    guard let source = config.credentialSources[target.name] else {
      throw EngineError("target \(target.name): no credentials configured")
    }
    let (credentials, problems) = CredentialsLoader.load(source, provider: target.provider, environment: environment)
    guard let credentials else {
      throw EngineError(
        "target \(target.name): credentials unusable: \(problems.filter { $0.severity == .error }.map(\.description).joined(separator: "; "))"
      )
    }
    return try makeProvider(target, credentials)
  }

  func failTarget(
    _ target: Target, bucket: String?, _ message: String, kind: ErrorKind, into tally: inout CycleSummary
  ) {
    tally.noteError(message, target: target.name, kind: kind)
    tally.failedTargets.insert(target.name)
    var metadata: Logger.Metadata = [
      "message_id": "\(ReaperEvent.targetFailed.messageID)", "target": "\(target.name)", "error": "\(message)",
    ]
    if let bucket { metadata["bucket"] = "\(bucket)" }
    logger.error("target failed: \(message)", metadata: metadata)
  }

  // MARK: deciding

  /// Decides a page of uploads in order. Parts are listed for every upload a rule selects and is old enough to
  /// be stale, so reports can say what stale uploads hold, and for every upload in list mode or with
  /// `account_all`; those requests run concurrently, at most `concurrency` at a time.
  func evaluate(
    _ uploads: [Upload], rules: ScopedRules, provider: any UploadProvider, now: Date, clockOffset: TimeInterval
  ) async -> [(Evaluation, doubt: String?)] {
    var results = [(Evaluation, doubt: String?)?](repeating: nil, count: uploads.count)
    let limit = config.daemon.concurrency
    await withTaskGroup(of: (Int, (Evaluation, doubt: String?)).self) { group in
      var inFlight = 0
      for (index, upload) in uploads.enumerated() {
        let selection = rules.select(key: upload.key)
        if !options.listOnly, let other = upload.otherKeyReading,
          rules.select(key: other).selectedRuleName != selection.selectedRuleName
        {
          let reason =
            "key ambiguous: the server did not say whether it URL-encoded keys, and the rules treat \"\(upload.key)\" and \"\(other)\" differently"
          let record = UploadRecord(
            upload: upload, ageSeconds: Int64(now.timeIntervalSince(upload.initiated).rounded(.down)), idleSeconds: nil,
            parts: nil, bytes: nil, rule: selection.rule?.name, decision: .keep, outcome: .kept, reason: reason)
          results[index] = (.done(record), reason)
          continue
        }
        let needsParts =
          options.listParts
          && (options.listOnly || config.daemon.accountAll
            || Policy.partsCanMatter(upload: upload, now: now, selection: selection, safety: config.safety))
        // Stopping: no new parts listing. A rule that needs the parts then keeps the upload; the others' candidates
        // are recorded would-abort when the aborts do not start.
        guard needsParts, !stopping else {
          results[index] = (decide(upload, selection: selection, parts: nil, now: now, clockOffset: clockOffset), nil)
          continue
        }
        if inFlight >= limit, let (finished, evaluation) = await group.next() {
          results[finished] = evaluation
          inFlight -= 1
        }
        group.addTask {
          do throws(ProviderError) {
            let parts = try await provider.partsSummary(of: upload)
            options.progress()
            let evaluation = decide(upload, selection: selection, parts: parts, now: now, clockOffset: clockOffset)
            return (index, (evaluation, parts.doubt(initiated: upload.initiated).map { "\($0); decided without it" }))
          } catch {
            let record = partsFailure(upload, selection: selection, error: error, now: now)
            return (index, (.partsFailed(record, error), nil))
          }
        }
        inFlight += 1
      }
      for await (finished, evaluation) in group { results[finished] = evaluation }
    }
    return results.map { $0! }
  }

  func decide(
    _ upload: Upload, selection: RuleSet.Selection, parts: PartsSummary?, now: Date, clockOffset: TimeInterval
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
        Candidate(upload: upload, rule: rule, decision: decision, parts: parts, clockOffset: clockOffset))
    }
    return .done(
      UploadRecord(
        upload: upload, ageSeconds: decision.ageSeconds, idleSeconds: decision.idleSeconds, parts: parts?.count,
        bytes: parts?.bytes, rule: decision.ruleName, decision: decision.kind == .abort ? .keep : decision.kind,
        outcome: decision.kind == .abort ? .kept : decision.outcomeWithoutAbort, reason: decision.reason))
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

  // MARK: acting

  func abortCandidates(
    _ candidates: [Candidate], count: Int, target: Target, provider: any UploadProvider, into tally: inout CycleSummary
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
      for candidate in candidates { await finish(record(candidate, .wouldAbort, note: "dry run"), into: &tally) }
      return
    }
    let limit = config.daemon.concurrency
    // An abort that meets a transient fault (503, SlowDown, a timeout) is tried again in a later round, after a
    // fresh re-check, never by the transport on the strength of an old one. Aborts are idempotent, so a repeat
    // destroys nothing more; one that then finds the upload gone says aborted-or-gone.
    var round = candidates
    for pass in 1...Self.abortRounds {
      var again: [(Candidate, UploadRecord, ProviderError)] = []
      await withTaskGroup(of: Attempt.self) { group in
        var inFlight = 0
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
          if inFlight >= limit, let attempt = await group.next() {
            await settle(attempt)
            inFlight -= 1
          }
          if stopping {
            await finish(record(candidate, .wouldAbort, note: "shutting down"), into: &tally)
            continue
          }
          group.addTask {
            let attempt = await abort(candidate, provider: provider)
            options.progress()
            return attempt
          }
          inFlight += 1
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
        if let reason = Recheck.reasonToSkip(
          before: candidate.parts, after: after, rule: candidate.rule, upload: candidate.upload, now: now)
        {
          return .final(record(current, .skippedRecheck, note: reason), nil)
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

  func log(_ record: UploadRecord) {
    // Kept uploads are most of a large scan and log nothing: build no metadata for them.
    guard !options.listOnly, record.outcome != .kept else { return }
    var metadata: Logger.Metadata = [
      "target": "\(record.upload.target)", "bucket": "\(record.upload.bucket)", "key": "\(record.upload.key)",
      "upload_id": "\(record.upload.uploadID)", "age_seconds": "\(record.ageSeconds)", "reason": "\(record.reason)",
    ]
    if let rule = record.rule { metadata["rule"] = "\(rule)" }
    if let bytes = record.bytes { metadata["bytes"] = "\(bytes)" }
    switch record.outcome {
    case .reported:
      metadata["action"] = "report"
      metadata["message_id"] = "\(ReaperEvent.uploadReported.messageID)"
      logger.notice("upload reported stale: \(record.upload.key)", metadata: metadata)
    case .logged:
      metadata["action"] = "log"
      logger.info("upload stale: \(record.upload.key)", metadata: metadata)
    case .aborted:
      metadata["action"] = "abort"
      metadata["message_id"] = "\(ReaperEvent.uploadAborted.messageID)"
      logger.notice("upload aborted: \(record.upload.key)", metadata: metadata)
    case .failed where record.decision == .abort:
      metadata["action"] = "abort"
      metadata["message_id"] = "\(ReaperEvent.abortFailed.messageID)"
      logger.error("abort failed: \(record.upload.key)", metadata: metadata)
    case .wouldAbort, .skippedRecheck, .gone:
      metadata["action"] = "abort"
      logger.info("upload not aborted (\(record.outcome.rawValue)): \(record.upload.key)", metadata: metadata)
    case .failed:
      logger.warning("upload could not be decided: \(record.upload.key)", metadata: metadata)
    case .kept:
      break
    }
  }
}

struct EngineError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}
