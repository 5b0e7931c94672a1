import Foundation

/// Checks on the clocks that ages are measured with. A skewed host clock or a misread time zone makes every
/// age wrong at once, which is exactly how a reaper would abort live uploads.
public enum ClockCheck {
  /// Beyond this, a difference between clocks is a suspect configuration, not jitter.
  public static let tolerance: TimeInterval = 300

  /// The clock ages are measured on: the earlier of the server's `Date` and this host's clock. Either can be
  /// wrong (a proxy or gateway answers with its own clock; a host loses NTP), and whichever runs ahead would
  /// make every upload look older than it is; the earlier one can only make uploads look younger, and kept.
  public static func measuringNow(server: Date?, host: Date) -> Date {
    guard let server else { return host }
    return min(server, host)
  }

  /// The server's clock minus the host's, when they differ by more than the tolerance.
  public static func suspectSkew(server: Date, host: Date) -> TimeInterval? {
    let skew = server.timeIntervalSince(host)
    return abs(skew) > tolerance ? skew : nil
  }

  /// How far in the server's future an upload claims to have started, when that is more than the tolerance:
  /// a sign the zone-less timestamps are read in the wrong time zone.
  public static func futureInitiated(_ upload: Upload, now: Date) -> TimeInterval? {
    let ahead = upload.initiated.timeIntervalSince(now)
    return ahead > tolerance ? ahead : nil
  }
}
