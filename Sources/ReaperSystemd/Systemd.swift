import CSystemd
import Foundation

/// The process's view of systemd: whether it logs to the journal, and notifications to the manager.
public enum Systemd {
  /// True when stderr is connected to the journal, so log lines should go through sd_journal_sendv.
  /// The variable, not sd_journal_sendv's return value, decides: sendv returns 0 even with no journald.
  public static func stderrIsJournal(environment: [String: String]) -> Bool {
    guard let stream = environment["JOURNAL_STREAM"], !stream.isEmpty else { return false }
    return true
  }

  /// Sends one notification (for example "READY=1"). Returns false when no manager listens.
  @discardableResult
  public static func notify(_ state: String) -> Bool {
    sd_notify(0, state) > 0
  }

  /// The watchdog period systemd expects pings within, when it watches this process.
  public static func watchdogPeriod() -> Duration? {
    var microseconds: UInt64 = 0
    guard sd_watchdog_enabled(0, &microseconds) > 0, microseconds > 0 else { return nil }
    return .microseconds(Int64(microseconds))
  }

  /// CLOCK_MONOTONIC in microseconds, as RELOADING=1 wants it in MONOTONIC_USEC.
  public static func monotonicMicroseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000 + UInt64(time.tv_nsec) / 1000
  }
}
