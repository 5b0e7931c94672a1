import Foundation
import Logging
import ReaperConfig
import ReaperCore
import ReaperEngine
import ReaperProviders
import ReaperSystemd
import ServiceLifecycle
import Synchronization
import UnixSignals

/// `upload-reaper run`: cycles every `interval` plus jitter under a ServiceGroup, with sd_notify READY, STATUS,
/// WATCHDOG (only while the scan loop makes progress), RELOADING on SIGHUP and STOPPING on shutdown.
public final class ReaperDaemon: Service {
  let configPath: String
  let environment: [String: String]
  let logger: Logger
  let transport: HTTPTransport
  let current: Mutex<ReaperConfig>
  /// Bumped whenever a request completes or a cycle starts: the watchdog's evidence that the loop is alive.
  let ticks = Atomic<Int>(0)
  let busy = Atomic<Bool>(false)
  let stopping = Atomic<Bool>(false)
  /// Delay before the first cycle, so a restart loop does not hammer the servers.
  let firstDelay: Duration
  /// Kept for the life of the process, so counters keep counting across cycles and reloads.
  let metrics = CycleMetrics()
  /// What bucket globs matched, across cycles and reloads: a bucket appearing or vanishing is said once.
  let bucketMemory = BucketMemory()

  public init(
    config: ReaperConfig, configPath: String, environment: [String: String], transport: HTTPTransport,
    logger: Logger, firstDelay: Duration = .seconds(2)
  ) {
    current = Mutex(config)
    self.configPath = configPath
    self.environment = environment
    self.transport = transport
    self.logger = logger
    self.firstDelay = firstDelay
  }

  public var config: ReaperConfig { current.withLock { $0 } }

  public func run() async throws {
    removeUnfinishedReports()
    metrics.prepare(config)
    let endpoint = await startMetricsEndpoint()
    Systemd.notify("READY=1\nSTATUS=started; first cycle shortly")
    logger.info("upload-reaper started", metadata: ["config": "\(configPath)", "targets": "\(config.targets.count)"])
    await withGracefulShutdownHandler {
      await withTaskGroup(of: Void.self) { group in
        group.addTask { await self.watchdogLoop() }
        group.addTask { await self.reloadLoop() }
        await self.cycleLoop()
        group.cancelAll()
      }
    } onGracefulShutdown: {
      self.stopping.store(true, ordering: .relaxed)
      Systemd.notify("STOPPING=1\nSTATUS=stopping: finishing aborts in flight")
      self.logger.notice("shutting down: no new work; aborts in flight finish")
    }
    await endpoint?.stop()
  }

  /// `[metrics] listen`. An address that cannot be bound is logged and the daemon runs on without it: a scrape
  /// target is not worth leaving uploads unreaped.
  func startMetricsEndpoint() async -> MetricsEndpoint? {
    guard let address = config.metrics.listen else { return nil }
    do {
      let endpoint = try await MetricsEndpoint.start(address, metrics: metrics)
      logger.info(
        "serving metrics on http://\(ListenAddress(host: address.host, port: endpoint.port))/metrics",
        metadata: ["listen": "\(address)"])
      return endpoint
    } catch {
      logger.error(
        "cannot serve metrics on \(address): \(error); continuing without the endpoint",
        metadata: ["listen": "\(address)"])
      metrics.countError(target: "all", kind: .metrics)
      return nil
    }
  }

  /// A previous process killed mid-cycle (by the watchdog, say) leaves its temporary report behind.
  func removeUnfinishedReports() {
    let directory = config.daemon.stateDirectory
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    for name in names where name.hasPrefix(".cycle-") && name.hasSuffix(".tmp") {
      try? FileManager.default.removeItem(atPath: (directory as NSString).appendingPathComponent(name))
    }
  }

  func cycleLoop() async {
    var number = 0
    var delay = firstDelay
    while !stopping.load(ordering: .relaxed) {
      do {
        try await cancelWhenGracefulShutdown { [delay] in try await Task.sleep(for: delay) }
      } catch {
        break
      }
      if stopping.load(ordering: .relaxed) { break }
      number += 1
      let config = self.config
      var options = CycleOptions()
      options.progress = { [self] in ticks.add(1, ordering: .relaxed) }
      options.shouldStop = { [self] in stopping.load(ordering: .relaxed) }
      options.bucketMemory = bucketMemory
      ticks.add(1, ordering: .relaxed)
      busy.store(true, ordering: .relaxed)
      let summary = await CycleRunner(config: config, metrics: metrics, logger: logger).run(
        options: options, environment: environment,
        makeProvider: Providers.maker(transport: transport, maximumPages: config.daemon.maxPagesPerBucket))
      // A reload may have changed a target's TLS files or proxy: the clients of the old settings go now.
      await transport.retireUnusedClients()
      busy.store(false, ordering: .relaxed)
      let jitter = config.daemon.jitter.seconds > 0 ? Int64.random(in: 0...config.daemon.jitter.seconds) : 0
      let next = config.daemon.interval.seconds + jitter
      delay = .seconds(next)
      Systemd.notify("STATUS=\(Self.status(cycle: number, summary, nextInSeconds: next))")
    }
  }

  /// `cycle 12: 4211 uploads, 17 aborted, 2 reported, window ceph=12/16, next in 14m`: the window is each target's
  /// concurrency as the cycle left it, over its ceiling.
  static func status(cycle: Int, _ summary: CycleSummary, nextInSeconds: Int64) -> String {
    var text =
      "cycle \(cycle): \(summary.uploadsSeen) uploads, \(summary.aborted) aborted, \(summary.reported) reported"
    if !summary.errors.isEmpty { text += ", \(summary.errors.count) errors" }
    if !summary.concurrency.isEmpty {
      let windows = summary.concurrency.sorted { $0.key < $1.key }.map {
        "\($0.key)=\($0.value.window)/\($0.value.ceiling)"
      }
      text += ", window " + windows.joined(separator: " ")
    }
    return text + ", next in \(TimeSpan.humanize(seconds: nextInSeconds))"
  }

  /// Pings at half the watchdog period while the loop is idle between cycles or a cycle keeps making progress.
  /// A cycle stuck longer than the period (a server that never answers) gets no pings, so systemd restarts us.
  func watchdogLoop() async {
    guard let period = Systemd.watchdogPeriod() else { return }
    var seenTicks = ticks.load(ordering: .relaxed)
    var lastProgress = ContinuousClock.now
    var warned = false
    while !stopping.load(ordering: .relaxed), !Task.isCancelled {
      let nowTicks = ticks.load(ordering: .relaxed)
      if nowTicks != seenTicks {
        seenTicks = nowTicks
        lastProgress = .now
      }
      let stalled = ContinuousClock.now - lastProgress
      if !busy.load(ordering: .relaxed) || stalled < period {
        Systemd.notify("WATCHDOG=1")
        warned = false
      } else if !warned {
        warned = true
        logger.error(
          "the scan loop has made no progress for \(stalled); withholding the watchdog ping so systemd restarts the service"
        )
      }
      do { try await Task.sleep(for: period / 2) } catch { return }
    }
  }

  /// SIGHUP: RELOADING=1, load the config, READY=1. A bad new config keeps the old one running.
  func reloadLoop() async {
    for await _ in await UnixSignalsSequence(trapping: .sighup) {
      Systemd.notify("RELOADING=1\nMONOTONIC_USEC=\(Systemd.monotonicMicroseconds())")
      do {
        let loaded = try ConfigLoader.load(path: configPath, environment: environment)
        let previous = current.withLock { config in
          defer { config = loaded.config }
          return config
        }
        if previous.metrics.listen != loaded.config.metrics.listen {
          logger.warning(
            "metrics.listen changed; the endpoint keeps its old address until the service restarts",
            metadata: ["listen": "\(previous.metrics.listen.map(\.description) ?? "off")"])
        }
        for warning in loaded.warnings { logger.warning("\(warning)") }
        logger.notice("config reloaded", metadata: ["config": "\(configPath)"])
        Systemd.notify("READY=1\nSTATUS=config reloaded")
      } catch {
        logger.error(
          "config reload failed; keeping the previous config: \(error.description)",
          metadata: ["message_id": "\(ReaperEvent.configReloadFailed.messageID)", "config": "\(configPath)"])
        Systemd.notify("READY=1\nSTATUS=config reload failed; running with the previous config")
      }
      if Task.isCancelled { return }
    }
  }
}
