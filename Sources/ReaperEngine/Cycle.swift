import Foundation
import Logging
import ReaperConfig
import ReaperCore
import ReaperProviders

/// Builds the provider for a target with this cycle's credentials.
public typealias ProviderMaker = @Sendable (Target, Credentials) throws -> any UploadProvider

/// One cycle over the configured targets: walk each bucket page by page, decide each upload with the pure
/// policy, then carry out the aborts the guards allow. Targets run concurrently; within a target the parts
/// listings, re-checks and aborts in flight are held to its adaptive window (`TargetLimiter`), at most
/// `concurrency`.
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
    let targets = config.targets.filter {
      (options.targetFilter == nil || $0.name == options.targetFilter) && (options.plan?.names(target: $0.name) ?? true)
    }
    var summary = CycleSummary()
    summary.started = options.hostClock()
    summary.dryRun = dryRun
    summary.targets = targets.count
    summary.targetNames = targets.map(\.name)
    summary.notices += options.notes
    let timeout = config.daemon.cycleTimeout
    // The cycle races a timer. If the timer wins, the scan is cancelled: its walks stop, nothing further is
    // aborted, and what it had done is still counted.
    let timedOut = await withTaskGroup(of: CycleSummary?.self) { race -> Bool in
      race.addTask {
        await withTaskGroup(of: CycleSummary.self) { group in
          for target in targets {
            group.addTask {
              let limiter = TargetLimiter(target: target.name, ceiling: config.daemon.concurrency)
              var partial = await WalkControl.$signal.withValue(WalkControl.StopSignal(options.shouldStop)) {
                await RequestObservation.$observer.withValue(limiter.walkObserver) {
                  await scan(target, limiter: limiter)
                }
              }
              partial.concurrency[target.name] = limiter.report
              return partial
            }
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
    for record in plannedOutsideConfig() { await finish(record, into: &summary) }
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

  /// Once true, no new page, parts listing or abort is started: SIGTERM, or the cycle timeout's cancellation.
  var stopping: Bool { options.shouldStop() || Task.isCancelled }

  func scan(_ target: Target, limiter: TargetLimiter) async -> CycleSummary {
    var tally = CycleSummary()
    let provider: any UploadProvider
    do {
      provider = try connect(target)
    } catch {
      // A provider that cannot be made says why in its own kind (its TLS files, say); otherwise credentials.
      let kind = (error as? ProviderError)?.errorKind ?? .credentials
      failTarget(target, bucket: nil, "\(error)", kind: kind, into: &tally)
      for bucket in plannedBuckets(of: target) {
        for record in unseenPlanned(target: target.name, bucket: bucket, seen: [], complete: false) {
          await finish(record, into: &tally)
        }
      }
      return tally
    }
    var candidates: [Candidate] = []
    /// Which uploads are candidates, by bucket and upload id: a listing that serves one twice is not to be trusted,
    /// and two abort tasks for one upload would race each other (one PDS delete can follow the other's re-read).
    var candidateIDs: Set<String> = []
    var candidateCount = 0
    let budget = config.safety.maxAbortsPerCycle
    var skewNoted = false
    /// Set when an upload claims to start in the server's future: this target aborts nothing this cycle.
    var clockSuspect: String?
    /// With a plan: the planned uploads the listing showed, those it will not be shown, and how many it showed
    /// that the plan does not name.
    var seenPlanned: Set<PlanAddress> = []
    var unseen: [UploadRecord] = []
    var outsidePlan = 0
    /// Set once a lifecycle lookup got no answer: the rest of the target's buckets are not kept waiting for more.
    var sweepsUnanswered = false
    let watched = await watchedBuckets(target, provider: provider, into: &tally)
    unseen += plannedNotWatched(target, watched: watched)
    for bucket in watched.buckets where listed(target, bucket: bucket) {
      var complete = false
      defer { unseen += unseenPlanned(target: target.name, bucket: bucket, seen: seenPlanned, complete: complete) }
      if stopping {
        tally.notices.append("target \(target.name), bucket \(bucket): not listed, the cycle was stopping")
        continue
      }
      let rules = config.rules.scoped(target: target.name, bucket: bucket)
      // A bucket only a glob found, that no rule reaches, would be walked to decide nothing.
      if rules.isEmpty, watched.discovered.contains(bucket), !options.listOnly, !config.daemon.accountAll { continue }
      let askSweeps = !sweepsUnanswered
      async let sweeps = serverSweepLookup(provider, bucket: bucket, rules: rules, ask: askSweeps)
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
              metadata: [
                "target": "\(target.name)", "bucket": "\(bucket)", "error": "\(problem)",
                "error_kind": "\(ErrorKind.malformedResponse.rawValue)",
              ])
          }
          // Every request evaluate makes is a parts listing under a permit; the walk's next page is fetched out here.
          let evaluations = await RequestObservation.$observer.withValue(limiter.permitObserver) {
            await evaluate(
              page.uploads, rules: rules, provider: provider, limiter: limiter, now: now,
              clockOffset: now.timeIntervalSince(hostNow))
          }
          for (evaluation, doubt) in evaluations {
            if options.plan != nil {
              let upload = evaluation.upload
              if case .done(let record) = evaluation, record.reason == Self.outsidePlan {
                outsidePlan += 1
              } else {
                seenPlanned.insert(
                  PlanAddress(target: upload.target, bucket: upload.bucket, key: upload.key, uploadID: upload.uploadID))
              }
            }
            if let doubt {
              tally.noteError(
                "target \(target.name), bucket \(bucket): key \"\(evaluation.upload.key)\" upload \(evaluation.upload.uploadID): \(doubt)",
                target: target.name, kind: .malformedResponse)
            }
            switch evaluation {
            case .done(var record):
              // Decided on parts the server got wrong: counted as an error, so listed in the report too.
              if doubt != nil { record.doubtful = true }
              await finish(record, into: &tally)
            case .partsFailed(let record, let error):
              await finish(record, into: &tally)
              if let kind = error.errorKind { tally.noteError(error.description, target: target.name, kind: kind) }
            case .candidate(let candidate):
              candidateCount += 1
              let id = candidate.upload.bucket + "\u{0}" + candidate.upload.uploadID
              if !candidateIDs.insert(id).inserted {
                let note = "listed twice in this cycle: the listing is not to be trusted"
                if let first = candidates.firstIndex(where: {
                  $0.upload.bucket == candidate.upload.bucket && $0.upload.uploadID == candidate.upload.uploadID
                }) {
                  await finish(record(candidates.remove(at: first), .wouldAbort, note: note), into: &tally)
                }
                await finish(record(candidate, .wouldAbort, note: note), into: &tally)
                tally.noteError(
                  "target \(target.name), bucket \(bucket): upload \(candidate.upload.uploadID) (\(candidate.upload.key)) \(note)",
                  target: target.name, kind: .inconsistentResponse)
              } else if candidates.count < budget {
                candidates.append(candidate)
              } else {
                await finish(
                  record(candidate, .wouldAbort, note: "abort budget of \(budget) per cycle reached"), into: &tally)
              }
            }
          }
          if stopping { break }
        }
        complete = !stopping
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
      let sweepLookup = await sweeps
      sweepsUnanswered = sweepsUnanswered || ServerSweeps.wentUnanswered(sweepLookup)
      noteServerSweeps(sweepLookup, target: target, bucket: bucket, rules: rules, into: &tally)
    }
    if clockSuspect != nil {
      for candidate in candidates {
        await finish(record(candidate, .wouldAbort, note: "clock or timezone suspect on this target"), into: &tally)
      }
    } else {
      // Every request made from here on is a re-check or an abort under a permit.
      await RequestObservation.$observer.withValue(limiter.permitObserver) {
        await abortCandidates(
          candidates, count: candidateCount, target: target, provider: provider, limiter: limiter, into: &tally)
      }
    }
    // After the circuit breaker has counted the uploads listed: these were not.
    for record in unseen { await finish(record, into: &tally) }
    if outsidePlan > 0 {
      tally.notices.append(
        "target \(target.name): \(outsidePlan) listed upload(s) outside the plan were kept without being considered")
    }
    return tally
  }

  func connect(_ target: Target) throws -> any UploadProvider {
    try Providers.connect(target, config: config, environment: environment, makeProvider: makeProvider)
  }

  func failTarget(
    _ target: Target, bucket: String?, _ message: String, kind: ErrorKind, into tally: inout CycleSummary
  ) {
    tally.noteError(message, target: target.name, kind: kind)
    tally.failedTargets.insert(target.name)
    var metadata: Logger.Metadata = [
      "message_id": "\(ReaperEvent.targetFailed.messageID)", "target": "\(target.name)", "error": "\(message)",
      "error_kind": "\(kind.rawValue)",
    ]
    if let bucket { metadata["bucket"] = "\(bucket)" }
    logger.error("target failed: \(message)", metadata: metadata)
  }

  /// Logs one final record. Its journal entry carries this file as CODE_FILE, which operators may filter on.
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
