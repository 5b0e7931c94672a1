import Foundation
import Logging
import ReaperCore
import ReaperEngine
import ReaperProviders
import ReaperSandbox
import Synchronization
import TestSupport
import Testing

@testable import ReaperConfig

/// The true clock of the shared sandbox, which each case sets.
final class HostileClock: Sendable {
  private let value = Mutex(Date())
  var now: Date {
    get { value.withLock { $0 } }
    set { value.withLock { $0 = newValue } }
  }
}

/// One sandbox that many cases share, one after another: each case brings its own bucket, sets the clock and
/// the lies, and reads back what the sandbox did. A server per case would cost more than the case.
final class HostileBench: Sendable {
  static let token = "hostile-token"
  let store: SandboxStore
  let server: SandboxServer
  let transport: HTTPTransport
  let clock: HostileClock

  private init(store: SandboxStore, server: SandboxServer, transport: HTTPTransport, clock: HostileClock) {
    self.store = store
    self.server = server
    self.transport = transport
    self.clock = clock
  }

  static func with(_ body: (HostileBench) async throws -> Void) async throws {
    let clock = HostileClock()
    let store = SandboxStore(
      buckets: [], credentials: [SandboxHarness.accessKey: SandboxHarness.secretKey], accessTokens: [token],
      clock: { clock.now })
    let server = try await SandboxServer.start(store: store)
    var settings = SandboxHarness.fastSettings()
    // Retries are what class 8 exercises, not their pacing: a Retry-After of a second would only slow the batch.
    settings.baseBackoff = .milliseconds(1)
    settings.maxBackoff = .milliseconds(4)
    settings.maxRetryAfter = .milliseconds(4)
    let bench = HostileBench(
      store: store, server: server,
      transport: HTTPTransport(settings: settings, logger: Logger(label: "hostile") { _ in SwiftLogNoOpLogHandler() }),
      clock: clock)
    do {
      try await body(bench)
    } catch {
      await bench.transport.shutdown()
      await server.stop()
      throw error
    }
    await bench.transport.shutdown()
    await server.stop()
  }

  /// Runs one real cycle (no dry run; guards that cannot get in the way) and returns every broken invariant.
  func run(_ world: HostileCase, exact: Bool) async -> (problems: [String], aborted: Int, stale: Int) {
    clock.now = world.now
    store.add(world.bucket)
    store.clearRequestLog()
    store.hostility = world.hostility
    let endpoint = "http://127.0.0.1:\(server.port)"
    let name = world.bucket.name
    let target =
      switch world.dialect {
      case .cdcs:
        Target(
          name: "h", provider: .cdcs, endpoint: endpoint, region: "ap-beijing", buckets: [name], credentialsFile: nil)
      case .s3:
        Target(
          name: "h", provider: .s3, endpoint: endpoint, region: "us-east-1", buckets: [name], credentialsFile: nil,
          pathStyle: true)
      case .pds:
        Target(name: "h", provider: .pds, endpoint: endpoint, region: "", buckets: [name], credentialsFile: nil)
      }
    let config = ReaperConfig(
      path: "hostile.toml",
      daemon: DaemonSettings(
        interval: TimeSpan(seconds: 900), jitter: TimeSpan(seconds: 60), concurrency: world.concurrency,
        stateDirectory: "/tmp", dryRun: false),
      safety: SafetySettings(
        minAge: world.minAge, maxAbortsPerCycle: 100_000, maxAbortFraction: 1, recheckBeforeAbort: true),
      targets: [target], rules: RuleSet(world.rules), credentialSources: ["h": .environment(prefix: "H_")])
    var options = CycleOptions()
    options.hostClock = { [now = world.now] in now }
    let cycle = Cycle(
      config: config, options: options,
      environment: [
        "H_ACCESS_KEY_ID": SandboxHarness.accessKey, "H_SECRET_ACCESS_KEY": SandboxHarness.secretKey,
        "H_ACCESS_TOKEN": Self.token,
      ],
      makeProvider: Providers.maker(transport: transport), sink: CollectingSink(),
      logger: Logger(label: "hostile") { _ in SwiftLogNoOpLogHandler() })
    let summary = await cycle.run()
    store.hostility = SandboxHostility()
    let aborted = store.aborted.filter { $0.bucket == name }
    var problems = HostileInvariants.check(world, aborted: aborted, log: store.requestLog, exact: exact)
    if exact, !problems.isEmpty { problems += summary.errors.map { "cycle error: \($0)" } }
    return (problems, aborted.count, HostileOracle.abortable(world).count)
  }
}

/// Which seeds a batch runs: a fixed batch in CI, `HOSTILE_SEED=<n>` or `HOSTILE_SEED=random` by hand, and
/// `HOSTILE_CASES=<n>` for how many. A failing case prints the seed that replays it alone; the first three of a
/// batch are shown, or every one with `HOSTILE_VERBOSE=1`.
enum HostileSeeds {
  static func batch(defaultCount: Int) -> [UInt64] {
    let environment = ProcessInfo.processInfo.environment
    let count = environment["HOSTILE_CASES"].flatMap { Int($0) } ?? defaultCount
    let base: UInt64
    switch environment["HOSTILE_SEED"] {
    case "random"?:
      base = UInt64.random(in: 1...(UInt64.max / 2))
      print("hostile model: HOSTILE_SEED=\(base)")
    case let text?:
      base = UInt64(text) ?? 1
    case nil:
      base = 1
    }
    // A seed given by hand replays just its cases; otherwise the regression seeds come first.
    let byHand = environment["HOSTILE_SEED"].map { $0 != "random" } ?? false
    let replay = byHand ? [] : HostileModelTests.regressionSeeds
    // Each seed once: a case's bucket is named after its seed, and the sandbox keeps what it aborted.
    var seen: Set<UInt64> = []
    return (replay + (0..<UInt64(max(0, count))).map { base &+ $0 }).filter {
      seen.insert($0).inserted
    }
  }
}

/// Random worlds (uploads with parts, finished PDS files, rules) served by the sandbox in each dialect, with
/// and without its hostile lies; one real cycle each, judged against `HostileOracle`, which reads only the
/// sandbox's true state and clock. Invariants: nothing outside the oracle's set is aborted; no upload whose
/// identity was misstated is aborted; no request addresses a bucket (or a dot-segment path) instead of one
/// upload; no finished PDS file is deleted; with no lie, or with only transient 503s, exactly the oracle's set
/// is aborted. `swift test --filter HostileModelTests`, with `HOSTILE_SEED`, `HOSTILE_CASES` and
/// `HOSTILE_VERBOSE` as `HostileSeeds` describes.
@Suite("Hostile servers: no false abort, judged by a model of the true state")
struct HostileModelTests {
  /// Seeds that once broke an invariant; they replay before every fixed batch.
  static let regressionSeeds: [UInt64] = [2, 3, 4, 8, 20, 23, 44, 55, 56, 400, 746]

  /// Lies the engine is known not to withstand yet. Their cases still run alone, with failures shown as known
  /// issues, and the mixed batch leaves them out. Empty: every lie is held to the invariants.
  static let knownOpen: Set<SandboxHostility.Lie> = []

  /// The dialect a seed's case speaks, among those where its lies make sense.
  static func dialect(_ seed: UInt64, among dialects: Set<SandboxHostility.Dialect>) -> SandboxHostility.Dialect {
    let ordered = SandboxHostility.Dialect.allCases.filter(dialects.contains)
    return ordered[Int(seed % UInt64(ordered.count))]
  }

  /// Runs the cases and records the failures, each with the command line that replays it.
  static func batch(
    _ label: String, count: Int, exact: Bool, make: (UInt64, Date) -> HostileCase
  ) async throws -> (cases: Int, failing: [UInt64]) {
    var failing: [UInt64] = []
    var cases = 0
    var aborted = 0
    var stale = 0
    try await HostileBench.with { bench in
      for seed in HostileSeeds.batch(defaultCount: count) {
        // Whole seconds, as every dialect's timestamps and the Date header carry them.
        let now = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        let world = make(seed, now)
        let (problems, abortedHere, staleHere) = await bench.run(world, exact: exact)
        cases += 1
        aborted += abortedHere
        stale += staleHere
        guard !problems.isEmpty else { continue }
        failing.append(seed)
        if failing.count <= 3 || ProcessInfo.processInfo.environment["HOSTILE_VERBOSE"] != nil {
          Issue.record(
            "\(label): HOSTILE_SEED=\(seed) HOSTILE_CASES=1 swift test --filter HostileModelTests replays it\n  \(world)\n  - \(problems.prefix(8).joined(separator: "\n  - "))"
          )
        }
      }
    }
    print(
      "hostile model \(label): \(cases) cases, \(aborted) of \(stale) stale uploads aborted, \(failing.count) failing\(failing.isEmpty ? "" : ", first seeds \(failing.prefix(5).map(String.init).joined(separator: " "))")"
    )
    return (cases, failing)
  }

  @Test func withoutLiesExactlyTheStaleUploadsAreAborted() async throws {
    let (_, failing) = try await Self.batch("no lies", count: 1500, exact: true) { seed, now in
      HostileCase(
        seed: seed, dialect: Self.dialect(seed, among: Set(SandboxHostility.Dialect.allCases)), lies: [], now: now)
    }
    #expect(failing.isEmpty)
  }

  @Test func transientSlowDownsChangeNothing() async throws {
    let (_, failing) = try await Self.batch("slow-down only", count: 500, exact: true) { seed, now in
      HostileCase(
        seed: seed, dialect: Self.dialect(seed, among: Set(SandboxHostility.Dialect.allCases)), lies: [.slowDown],
        now: now)
    }
    #expect(failing.isEmpty)
  }

  /// Each lie alone, in every dialect where it makes sense, so a failure names its class.
  @Test(arguments: SandboxHostility.Lie.allCases)
  func eachLieAloneAbortsNothingFalse(_ lie: SandboxHostility.Lie) async throws {
    let run: () async throws -> Void = {
      let (_, failing) = try await Self.batch(lie.rawValue, count: 100, exact: false) { seed, now in
        HostileCase(seed: seed, dialect: Self.dialect(seed, among: lie.dialects), lies: [lie], now: now)
      }
      #expect(failing.isEmpty)
    }
    if Self.knownOpen.contains(lie) {
      await withKnownIssue("\(lie.rawValue) is a known open hole", isIntermittent: true) { try await run() }
    } else {
      try await run()
    }
  }

  @Test func mixedLiesAbortNothingFalse() async throws {
    let (_, failing) = try await Self.batch("mixed lies", count: 1000, exact: false) { seed, now in
      HostileCase(
        seed: seed, dialect: Self.dialect(seed, among: Set(SandboxHostility.Dialect.allCases)), lies: nil,
        excluding: Self.knownOpen, now: now)
    }
    #expect(failing.isEmpty)
  }
}
