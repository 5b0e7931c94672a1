import CSystemd

/// The process's view of systemd: whether it runs under a journal stream and how to notify the manager.
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
}
