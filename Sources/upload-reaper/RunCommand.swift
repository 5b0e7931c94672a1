import ArgumentParser
import Foundation
import Logging
import ReaperConfig
import ReaperDaemon
import ReaperEngine
import ReaperProviders
import ReaperSystemd
import ServiceLifecycle

struct Run: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run the daemon: a cycle every interval, under systemd (Type=notify).",
    discussion: """
      SIGHUP reloads the config (a bad one keeps the old running); SIGTERM or SIGINT stops taking new work,
      lets aborts in flight finish (at most 30 s) and exits 0. Logs go to the journal when JOURNAL_STREAM is
      set, otherwise to stderr as logfmt.
      """)
  @OptionGroup var options: ConfigOption

  func run() async throws {
    let environment = ProcessInfo.processInfo.environment
    let loaded = try options.load()
    let level =
      environment["UPLOAD_REAPER_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? Logger.Level.info
    let toJournal = Systemd.stderrIsJournal(environment: environment)
    LoggingSystem.bootstrap { label -> any LogHandler in
      toJournal ? JournalLogHandler(level: level) : LogfmtLogHandler(label: label, level: level)
    }
    let logger = Logger(label: "upload-reaper")
    let transport = HTTPTransport(logger: logger)
    let daemon = ReaperDaemon(
      config: loaded.config, configPath: options.config, environment: environment, transport: transport,
      logger: logger)
    var configuration = ServiceGroupConfiguration(
      services: [.init(service: daemon)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    configuration.maximumGracefulShutdownDuration = .seconds(30)
    let group = ServiceGroup(configuration: configuration)
    do {
      try await group.run()
    } catch {
      logger.error("the service stopped with an error: \(error)")
      await transport.shutdown()
      throw ExitCode(ExitStatus.targetFailed)
    }
    await transport.shutdown()
    logger.notice("stopped")
  }
}
