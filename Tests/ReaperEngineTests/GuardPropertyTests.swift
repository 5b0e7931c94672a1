import Foundation
import PropertyBased
import ReaperCore
import ReaperEngine
import ReaperProviders
import Synchronization
import TestSupport
import Testing

@testable import ReaperConfig

/// One random world: rules, safety settings, uploads with parts, and a clock.
struct Scenario: CustomStringConvertible {
  var rules: [Rule]
  var safety: SafetySettings
  var dryRun: Bool
  var uploads: [String: [Upload]]
  var parts: [String: [Part]]
  var now: Date

  var description: String {
    "rules \(rules.map { "\($0.name):\($0.prefix):\($0.bucket ?? "*"):\($0.action)" }), budget \(safety.maxAbortsPerCycle), fraction \(safety.maxAbortFraction), dry \(dryRun), uploads \(uploads.values.map(\.count))"
  }

  static let prefixes = ["", "a/", "a/b/", "c/", "a/b/c/"]
  static let globs = ["a/b/*", "*.keep", "c/?", "*"]

  /// - Parameter recentParts: also date a third of the parts within the clocks' tolerance of the listing, where a
  ///   re-check with no earlier listing to compare with must take them for signs of life.
  init(seed: UInt64, recentParts: Bool = false) {
    var random = SplitMix64(seed: seed)
    let hour: Int64 = 3600
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    self.now = now
    let minAge = TimeSpan(seconds: Int64(random.next() % 48 + 1) * hour)
    safety = SafetySettings(
      minAge: minAge, maxAbortsPerCycle: Int(random.next() % 25),
      maxAbortFraction: [0.1, 0.3, 0.5, 0.8, 1.0][Int(random.next() % 5)], recheckBeforeAbort: random.next() % 2 == 0)
    dryRun = random.next() % 10 == 0
    rules = (0..<Int(random.next() % 4 + 1)).map { index in
      let maxAge = random.next() % 4 == 0 ? nil : TimeSpan(seconds: minAge.seconds + Int64(random.next() % 240) * hour)
      let maxIdle =
        maxAge == nil || random.next() % 2 == 0 ? TimeSpan(seconds: Int64(random.next() % 72 + 1) * hour) : nil
      let actions: [RuleAction] = [.abort, .abort, .report, .log]
      return Rule(
        name: "r\(index)", target: random.next() % 3 == 0 ? "t" : nil,
        bucket: [nil, nil, "b1", "b2"][Int(random.next() % 4)], prefix: Self.prefixes[Int(random.next() % 5)],
        maxAge: maxAge, maxIdle: maxIdle, minBytes: random.next() % 3 == 0 ? Int64(random.next() % 3000) : nil,
        exclude: random.next() % 3 == 0 ? [Glob(Self.globs[Int(random.next() % 4)])] : [],
        action: actions[Int(random.next() % 4)])
    }
    var uploads: [String: [Upload]] = [:]
    var parts: [String: [Part]] = [:]
    var counter = 0
    let names = ["x.bin", "y.keep", "z", "q/r.bin"]
    for bucket in ["b1", "b2"] {
      for _ in 0..<Int(random.next() % 40) {
        counter += 1
        let key = Self.prefixes[Int(random.next() % 5)] + names[Int(random.next() % 4)]
        // Mostly in the past; now and then minutes or hours in the future, as a zone mistake would show.
        var age = Double(random.next() % UInt64(30 * 24 * hour))
        if random.next() % 40 == 0 { age = -Double(random.next() % UInt64(10 * hour)) }
        let initiated = now.addingTimeInterval(-age)
        let upload = Upload(target: "t", bucket: bucket, key: key, uploadID: "u\(counter)", initiated: initiated)
        uploads[bucket, default: []].append(upload)
        parts[upload.uploadID] = (0..<Int(random.next() % 4)).map { number in
          // Never within the clocks' tolerance of the listing (where the upload is old enough to allow it): a part
          // dated then is a sign of life to a re-check that has no earlier listing to compare with.
          let span = max(0, age)
          let floor = min(span, ClockCheck.tolerance + 1)
          var since = floor + (span - floor) * Double(random.next() % 1001) / 1000
          if recentParts, random.next() % 3 == 0 {
            since = min(span, ClockCheck.tolerance) * Double(random.next() % 1001) / 1000
          }
          return Part(
            number: number + 1, size: Int64(random.next() % 2000), lastModified: now.addingTimeInterval(-since))
        }
      }
    }
    self.uploads = uploads
    self.parts = parts
  }
}

/// The rules of the contract, written out again naively and separately from the engine, to judge it.
enum Oracle {
  static func winner(_ rules: [Rule], bucket: String, key: String) -> Rule? {
    let matching = rules.enumerated().filter { _, rule in
      (rule.target == nil || rule.target == "t") && (rule.bucket == nil || rule.bucket == bucket)
        && Array(key.utf8).starts(with: Array(rule.prefix.utf8))
    }
    return matching.max { lhs, rhs in
      let left = (
        lhs.element.prefix.utf8.count, lhs.element.bucket != nil ? 1 : 0, lhs.element.target != nil ? 1 : 0, -lhs.offset
      )
      let right = (
        rhs.element.prefix.utf8.count, rhs.element.bucket != nil ? 1 : 0, rhs.element.target != nil ? 1 : 0, -rhs.offset
      )
      return left < right
    }?.element
  }

  /// Glob by translation to a regular expression: a second, independent reading of `*` and `?`.
  static func globMatches(_ pattern: String, _ key: String) -> Bool {
    let regex =
      "^"
      + pattern.map { character -> String in
        switch character {
        case "*": return ".*"
        case "?": return "."
        default: return NSRegularExpression.escapedPattern(for: String(character))
        }
      }.joined() + "$"
    return key.range(of: regex, options: .regularExpression) != nil
  }

  /// Whether the policy alone (before guards) may abort this upload.
  static func policyAllowsAbort(_ scenario: Scenario, _ upload: Upload) -> Bool {
    guard let rule = winner(scenario.rules, bucket: upload.bucket, key: upload.key), rule.action == .abort else {
      return false
    }
    if rule.exclude.contains(where: { globMatches($0.pattern, upload.key) }) { return false }
    let age = scenario.now.timeIntervalSince(upload.initiated)
    guard age > Double(scenario.safety.minAge.seconds) else { return false }
    if let maxAge = rule.maxAge, !(age > Double(maxAge.seconds)) { return false }
    let parts = scenario.parts[upload.uploadID] ?? []
    if let maxIdle = rule.maxIdle {
      let newest = parts.compactMap(\.lastModified).max() ?? upload.initiated
      let idle = scenario.now.timeIntervalSince(max(newest, upload.initiated))
      guard idle > Double(maxIdle.seconds) else { return false }
    }
    if let minBytes = rule.minBytes, minBytes > 0, parts.reduce(0, { $0 + $1.size }) < minBytes { return false }
    return true
  }
}

@Suite("No false abort, over random worlds")
struct GuardPropertyTests {
  static func runCycle(_ scenario: Scenario) async -> (CycleSummary, MemoryProvider) {
    let target = Target(
      name: "t", provider: .s3, endpoint: "http://127.0.0.1:1", region: "us-east-1", buckets: ["b1", "b2"],
      credentialsFile: nil)
    let provider = MemoryProvider(
      target: target, uploads: scenario.uploads, parts: scenario.parts, serverNow: scenario.now, pageSize: 7)
    let config = ReaperConfig(
      path: "property.toml",
      daemon: DaemonSettings(
        interval: TimeSpan(seconds: 900), jitter: TimeSpan(seconds: 60), concurrency: 3, stateDirectory: "/tmp",
        dryRun: scenario.dryRun),
      safety: scenario.safety, targets: [target], rules: RuleSet(scenario.rules),
      credentialSources: ["t": .environment(prefix: "P_")])
    return (await MemoryCycle.run(config, provider: provider, now: scenario.now).0, provider)
  }

  @Test func anAbortAlwaysHasEveryReasonAndNoGuardAgainstIt() async {
    await propertyCheck(count: 400, input: Gen.int(in: 0...Int.max)) { seed in
      let scenario = Scenario(seed: UInt64(seed))
      let (summary, provider) = await Self.runCycle(scenario)
      let aborted = provider.abortedUploads
      let all = scenario.uploads.values.flatMap { $0 }
      let candidates = all.filter { Oracle.policyAllowsAbort(scenario, $0) }
      let future = all.contains { $0.initiated.timeIntervalSince(scenario.now) > ClockCheck.tolerance }
      let breakerTrips = Double(candidates.count) > scenario.safety.maxAbortFraction * Double(all.count)

      // Every abort is one the policy selects clearly.
      for upload in aborted {
        #expect(Oracle.policyAllowsAbort(scenario, upload), "false abort of \(upload.key) in \(scenario)")
      }
      // And no guard stood against it.
      if scenario.dryRun || future || breakerTrips || scenario.safety.maxAbortsPerCycle == 0 {
        #expect(aborted.isEmpty, "guard ignored in \(scenario)")
      }
      #expect(aborted.count <= scenario.safety.maxAbortsPerCycle)
      #expect(Set(aborted.map(\.uploadID)).count == aborted.count, "an upload aborted twice")
      // When nothing stands in the way, everything the policy selects is aborted (within the budget).
      if !scenario.dryRun, !future, !breakerTrips {
        #expect(aborted.count == min(candidates.count, scenario.safety.maxAbortsPerCycle), "\(scenario)")
      }
      #expect(summary.uploadsSeen == all.count)
      #expect(summary.aborted == aborted.count)
    }
  }

  /// Worlds with parts written just before the listing: every guard still holds, and under an abort rule on age
  /// alone (whose re-check is the only parts listing) no upload with a part that recent is aborted.
  @Test func aRecentlyWrittenUploadIsNeverAbortedOnItsAgeAlone() async {
    await propertyCheck(count: 300, input: Gen.int(in: 0...Int.max)) { seed in
      let scenario = Scenario(seed: UInt64(seed), recentParts: true)
      let (summary, provider) = await Self.runCycle(scenario)
      let aborted = provider.abortedUploads
      for upload in aborted {
        #expect(Oracle.policyAllowsAbort(scenario, upload), "false abort of \(upload.key) in \(scenario)")
        guard let rule = Oracle.winner(scenario.rules, bucket: upload.bucket, key: upload.key),
          rule.maxIdle == nil, (rule.minBytes ?? 0) == 0, scenario.safety.recheckBeforeAbort
        else { continue }
        let newest = (scenario.parts[upload.uploadID] ?? []).compactMap(\.lastModified).max()
        #expect(
          newest.map { $0 < scenario.now.addingTimeInterval(-ClockCheck.tolerance) } ?? true,
          "\(upload.key) aborted with a part dated \(newest.map(Timestamp.formatRFC3339) ?? "-") in \(scenario)")
      }
      #expect(aborted.count <= scenario.safety.maxAbortsPerCycle)
      #expect(Set(aborted.map(\.uploadID)).count == aborted.count, "an upload aborted twice")
      #expect(summary.aborted == aborted.count)
    }
  }

  @Test func thePolicyNeverSelectsWhatTheOracleWouldNot() async {
    await propertyCheck(count: 400, input: Gen.int(in: 0...Int.max)) { seed in
      let scenario = Scenario(seed: UInt64(seed))
      let rules = RuleSet(scenario.rules)
      for upload in scenario.uploads.values.flatMap({ $0 }) {
        let parts = (scenario.parts[upload.uploadID] ?? []).reduce(into: PartsSummary()) { $0.add($1) }
        let decision = Policy.decide(
          upload: upload, parts: parts, now: scenario.now,
          selection: rules.select(target: "t", bucket: upload.bucket, key: upload.key), safety: scenario.safety)
        #expect(
          (decision.kind == .abort) == Oracle.policyAllowsAbort(scenario, upload),
          "\(upload.key) in \(upload.bucket): \(decision.reason)")
        #expect(decision.ruleName == Oracle.winner(scenario.rules, bucket: upload.bucket, key: upload.key)?.name)
      }
    }
  }
}
