import Foundation
import Logging
import ReaperConfig
import ReaperCore
import ReaperEngine
import ReaperProviders

/// One cycle against a provider in memory, the way the engine's tests run it: every target served by `provider`,
/// credentials from `environment` (what `.environment(prefix: "P_")` reads), the host clock stopped at `now`,
/// logs dropped and records collected.
public enum MemoryCycle {
  public static let environment = ["P_ACCESS_KEY_ID": "a", "P_SECRET_ACCESS_KEY": "b"]

  public static func run(
    _ config: ReaperConfig, provider: any UploadProvider, now: Date, options: CycleOptions = CycleOptions()
  ) async -> (CycleSummary, [UploadRecord]) {
    var options = options
    options.hostClock = { now }
    let sink = CollectingSink()
    let cycle = Cycle(
      config: config, options: options, environment: environment, makeProvider: { _, _ in provider }, sink: sink,
      logger: Logger(label: "memory-cycle") { _ in SwiftLogNoOpLogHandler() })
    let summary = await cycle.run()
    return (summary, await sink.records)
  }
}
