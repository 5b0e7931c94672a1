import Foundation
import ReaperSandbox
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// `upload-reaper run` with a real NOTIFY_SOCKET: the order and timing of READY, STATUS, WATCHDOG,
/// RELOADING and STOPPING, reload with a bad config, and a watchdog that goes quiet when the loop is stuck.
@Suite("The daemon and sd_notify", .serialized)
struct DaemonTests {
  struct Daemon {
    let process: Process
    let notify: NotifySocket
    let stderr: Pipe
    let config: String
  }

  static func launch(_ setup: EndToEndTests.Setup, watchdogMicroseconds: Int = 1_000_000) throws -> Daemon {
    let notify = try NotifySocket()
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CLITests.binary)
    process.arguments = ["run", "--config", setup.config]
    var environment = ProcessInfo.processInfo.environment
    environment["NOTIFY_SOCKET"] = notify.path
    environment["WATCHDOG_USEC"] = "\(watchdogMicroseconds)"
    environment.removeValue(forKey: "JOURNAL_STREAM")
    environment["SWIFT_BACKTRACE"] = "enable=no"
    process.environment = environment
    let stderr = Pipe()
    process.standardError = stderr
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    return Daemon(process: process, notify: notify, stderr: stderr, config: setup.config)
  }

  @Test func readyStatusWatchdogReloadAndStop() async throws {
    let setup = try await EndToEndTests.start()
    defer { Task { await setup.server.stop() } }
    let daemon = try Self.launch(setup)
    defer { daemon.notify.stop() }
    let ready = await daemon.notify.wait(for: { $0.hasPrefix("READY=1") }, within: 10)
    #expect(ready != nil)
    let status = await daemon.notify.wait(for: { $0.contains("STATUS=cycle 1:") }, within: 20)
    let statusText = try #require(status?.text)
    #expect(
      statusText.range(
        of: #"STATUS=cycle 1: 17 uploads, 6 aborted, 1 reported, window sandbox=[1-4]/4, next in \d+m"#,
        options: .regularExpression) != nil,
      "\(statusText)")
    #expect(Set(setup.server.store.aborted.map(\.uploadID)) == EndToEndTests.expectedAborts)
    let reports = try Self.reports(setup)
    #expect(reports.count == 1)
    let lines = try String(contentsOfFile: try #require(reports.first), encoding: .utf8).split(separator: "\n")
    // The daemon's report is scan's: 6 aborted and 1 reported listed, 10 plain keeps in 2 kept_summary lines.
    #expect(lines.count == 7 + 2 + 1)
    #expect(lines.filter { $0.hasPrefix("{\"kept_summary\":") }.count == 2)
    let lastLine = try #require(lines.last)
    let parsed = try JSONSerialization.jsonObject(with: Data(lastLine.utf8)) as? [String: Any]
    let summary = try #require(parsed?["summary"] as? [String: Any])
    #expect(summary["targets"] as? Int == 1)
    #expect(summary["uploads_seen"] as? Int == 17)

    // A broken config on SIGHUP: RELOADING with MONOTONIC_USEC, then READY, and the old config keeps running.
    let good = try String(contentsOfFile: daemon.config, encoding: .utf8)
    try (good + "\n[[rule]]\nname = \"broken\"\nmax_age = 5\naction = \"abort\"\n").write(
      toFile: daemon.config, atomically: true, encoding: .utf8)
    let before = daemon.notify.messages.count
    kill(daemon.process.processIdentifier, SIGHUP)
    let reloadFailed = await daemon.notify.wait(for: { $0.contains("config reload failed") }, within: 10)
    #expect(reloadFailed != nil)
    let afterReload = daemon.notify.messages.dropFirst(before).map(\.text).filter { !$0.hasPrefix("WATCHDOG") }
    #expect(afterReload.first?.hasPrefix("RELOADING=1\nMONOTONIC_USEC=") == true, "\(afterReload)")
    #expect(afterReload.dropFirst().first?.hasPrefix("READY=1") == true, "\(afterReload)")
    #expect(daemon.process.isRunning)

    // Pings keep coming at about half the period while the loop is idle between cycles.
    try await Task.sleep(for: .seconds(2))
    let pings = daemon.notify.messages.filter { $0.text == "WATCHDOG=1" }
    #expect(pings.count >= 4)
    let gaps = zip(pings.dropFirst(), pings).map { $0.at - $1.at }
    #expect(gaps.allSatisfy { $0 < .milliseconds(900) }, "\(gaps)")

    kill(daemon.process.processIdentifier, SIGTERM)
    let stopping = await daemon.notify.wait(for: { $0.hasPrefix("STOPPING=1") }, within: 10)
    #expect(stopping != nil)
    daemon.process.waitUntilExit()
    #expect(daemon.process.terminationStatus == 0)
    let log = String(decoding: daemon.stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    #expect(log.contains("config reload failed"))
    #expect(log.contains("message_id=3c5e7a9b1d2f4e6a8c0b2d4f6a8c0ea7"))
    #expect(!log.contains(EndToEndTests.secret))
  }

  @Test func theWatchdogGoesQuietWhileTheScanLoopIsStuck() async throws {
    let setup = try await EndToEndTests.start()
    defer { Task { await setup.server.stop() } }
    setup.server.store.updateFaults { $0.hang = true }
    let daemon = try Self.launch(setup)
    defer {
      kill(daemon.process.processIdentifier, SIGKILL)
      daemon.notify.stop()
    }
    #expect(await daemon.notify.wait(for: { $0.hasPrefix("READY=1") }, within: 10) != nil)
    // The first cycle starts two seconds in and hangs on the first request; pings must stop within the period.
    try await Task.sleep(for: .seconds(6))
    let pings = daemon.notify.messages.filter { $0.text == "WATCHDOG=1" }
    let lastPing = try #require(pings.last)
    #expect(ContinuousClock.now - lastPing.at > .seconds(2), "pings continued while the loop was stuck")
    #expect(pings.count >= 2, "pings while idle before the cycle")
    #expect(daemon.process.isRunning)
  }

  /// Finished report files in the config's state_dir; temporary files count as a failure.
  static func reports(_ setup: EndToEndTests.Setup) throws -> [String] {
    let state = URL(fileURLWithPath: setup.config).deletingLastPathComponent().appendingPathComponent("state").path
    let names = (try? FileManager.default.contentsOfDirectory(atPath: state)) ?? []
    #expect(!names.contains { $0.hasSuffix(".tmp") }, "a temporary report was left behind: \(names)")
    return names.filter { $0.hasPrefix("cycle-") && $0.hasSuffix(".jsonl") }.sorted().map { "\(state)/\($0)" }
  }

  @Test func sigtermInTheMiddleOfACycleLosesNoReport() async throws {
    let setup = try await EndToEndTests.start()
    defer { Task { await setup.server.stop() } }
    setup.server.store.updateFaults { $0.latencyMilliseconds = 250 }
    let daemon = try Self.launch(setup, watchdogMicroseconds: 10_000_000)
    defer { daemon.notify.stop() }
    #expect(await daemon.notify.wait(for: { $0.hasPrefix("READY=1") }, within: 10) != nil)
    // The first cycle starts two seconds in; at 250 ms a request it is still running a second later.
    try await Task.sleep(for: .seconds(3))
    #expect(daemon.notify.messages.allSatisfy { !$0.text.contains("STATUS=cycle") }, "the cycle ended too soon")
    kill(daemon.process.processIdentifier, SIGTERM)
    daemon.process.waitUntilExit()
    #expect(daemon.process.terminationStatus == 0)
    let reports = try Self.reports(setup)
    #expect(reports.count == 1)
    let text = try String(contentsOfFile: try #require(reports.first), encoding: .utf8)
    let last = try #require(text.split(separator: "\n").last)
    let summary = try #require(
      (try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])?["summary"] as? [String: Any])
    let seen = try #require(summary["uploads_seen"] as? Int)
    // Every upload seen is in the report: listed one by one, or counted in a kept_summary line.
    let accounted = try text.split(separator: "\n").dropLast().map { line in
      let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
      return (object["kept_summary"] as? [String: Any]).map { $0["uploads"] as? Int ?? 0 } ?? 1
    }
    #expect(accounted.reduce(0, +) == seen)
    // Nothing outside the stale set, whatever was cut short.
    #expect(Set(setup.server.store.aborted.map(\.uploadID)).isSubset(of: EndToEndTests.expectedAborts))
  }
}
