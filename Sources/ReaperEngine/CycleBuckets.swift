import Foundation
import Logging
import ReaperCore
import ReaperProviders
import Synchronization

/// What each target's bucket globs matched in the cycle before, so that a change is said once, not every cycle.
/// The daemon keeps one for its lifetime (across reloads); a one-off scan starts without one.
public final class BucketMemory: Sendable {
  private let matched = Mutex<[String: [String]]>([:])

  public init() {}

  /// Records this cycle's matches and returns what changed; nil the first time a target is seen.
  func update(target: String, matches: [String]) -> BucketChanges? {
    matched.withLock { known in
      defer { known[target] = matches }
      return known[target].map { BucketChanges.between(previous: $0, current: matches) }
    }
  }
}

extension Cycle {
  /// No endpoint lists more buckets than this (AWS allows 10,000 per account by request); a listing that goes on
  /// is a server paging in circles, and the cycle stops reading it rather than hold it.
  static let mostListedBuckets = 100_000

  /// The target's buckets for this cycle: its names as written, and what its globs match in the endpoint's listing
  /// now. When the listing fails, the globs match nothing this cycle (the named buckets are still walked) and
  /// the memory is left as it was, so a failed listing is never said as every bucket vanishing.
  func watchedBuckets(
    _ target: Target, provider: any UploadProvider, into tally: inout CycleSummary
  ) async -> BucketResolution {
    guard target.discoversBuckets else {
      return .resolve(entries: target.buckets, listed: nil, exclude: target.excludeBuckets)
    }
    var listed: [String] = []
    do {
      for try await page in provider.bucketNames() {
        options.progress()
        listed.append(contentsOf: page.names)
        for problem in page.unreadable {
          tally.noteError("target \(target.name): \(problem)", target: target.name, kind: .malformedResponse)
          logger.error(
            "unreadable bucket name", metadata: ["target": "\(target.name)", "error": "\(problem)"])
        }
        guard listed.count <= Self.mostListedBuckets else {
          throw ProviderError(
            kind: .inconsistentResponse, target: target.name, bucket: "", request: "list buckets",
            message: "the endpoint lists more than \(Self.mostListedBuckets) buckets; not trusted")
        }
      }
    } catch {
      let kind = (error as? ProviderError)?.errorKind ?? .other
      failTarget(
        target, bucket: nil,
        "target \(target.name): listing its buckets failed, so its bucket globs match nothing this cycle (named buckets are still walked): \(error)",
        kind: kind, into: &tally)
      return .resolve(entries: target.buckets, listed: nil, exclude: target.excludeBuckets)
    }
    let resolution = BucketResolution.resolve(entries: target.buckets, listed: listed, exclude: target.excludeBuckets)
    let matches = resolution.buckets.filter(resolution.discovered.contains)
    guard let memory = options.bucketMemory else { return resolution }
    guard let changes = memory.update(target: target.name, matches: matches) else {
      logger.info(
        "target \(target.name): bucket globs match \(matches.count) bucket(s)",
        metadata: [
          "target": "\(target.name)", "buckets": "\(matches.prefix(50).joined(separator: ","))",
          "bucket_count": "\(matches.count)",
        ])
      return resolution
    }
    for (names, change) in [(changes.appeared, "appeared"), (changes.vanished, "vanished")] {
      for bucket in names {
        let verb = change == "appeared" ? "now matches" : "no longer matches"
        logger.notice(
          "target \(target.name): a bucket glob \(verb) bucket \(bucket)",
          metadata: [
            "message_id": "\(ReaperEvent.bucketsChanged.messageID)", "target": "\(target.name)",
            "bucket": "\(bucket)", "change": "\(change)",
          ])
      }
    }
    return resolution
  }
}
