import ReaperCore

extension ConfigValidator {
  mutating func validateDaemon(_ section: Section?) -> DaemonSettings? {
    let section = section ?? Section(.daemon)
    checkUnknownKeys(section)
    let interval =
      duration(section, "interval")
      ?? (section.table["interval"] == nil ? TimeSpan(seconds: 900, leadingUnit: .minutes) : nil)
    let jitter =
      duration(section, "jitter")
      ?? (section.table["jitter"] == nil ? TimeSpan(seconds: 60, leadingUnit: .minutes) : nil)
    if let interval, interval.seconds < 10 {
      report(at(section, "interval"), "daemon.interval", "\(interval) is too short: use at least 10s")
    }
    if let interval, let jitter, jitter >= interval {
      report(at(section, "jitter"), "daemon.jitter", "\(jitter) must be shorter than interval \(interval)")
    }
    let concurrency = integer(section, "concurrency", range: 1...256) ?? 32
    let stateDirectory =
      string(section, "state_dir")
      ?? environment["STATE_DIRECTORY"].flatMap { $0.split(separator: ":").first.map(String.init) }
      ?? "/var/lib/upload-reaper"
    if stateDirectory.isEmpty { report(at(section, "state_dir"), "daemon.state_dir", "must not be empty") }
    let dryRun = boolean(section, "dry_run") ?? false
    let cycleTimeout =
      duration(section, "cycle_timeout")
      ?? (section.table["cycle_timeout"] == nil ? TimeSpan(seconds: 3600, leadingUnit: .hours) : nil)
    if let cycleTimeout, cycleTimeout.seconds < 10 {
      report(at(section, "cycle_timeout"), "daemon.cycle_timeout", "\(cycleTimeout) is too short: use at least 10s")
    }
    let maxPages = integer(section, "max_pages_per_bucket", range: 1...10_000_000) ?? PageLimit.defaultMaximumPages
    var shard = Shard.whole
    if let text = string(section, "shard") {
      if let parsed = Shard(parsing: text) {
        shard = parsed
      } else {
        report(at(section, "shard"), "daemon.shard", "\"\(text)\" is not i/n with 1 <= i <= n, such as \"2/3\"")
      }
    }
    let keepReports = retention(section, "keep_reports")
    let accountAll = boolean(section, "account_all") ?? false
    var reportDetail = ReportDetail.summary
    if let text = string(section, "report_detail") {
      if let parsed = ReportDetail(rawValue: text) {
        reportDetail = parsed
      } else {
        let allowed = ReportDetail.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: " or ")
        report(at(section, "report_detail"), "daemon.report_detail", "\"\(text)\" is not \(allowed)")
      }
    }
    guard let interval, let jitter, let cycleTimeout, let keepReports else { return nil }
    return DaemonSettings(
      interval: interval, jitter: jitter, concurrency: concurrency, stateDirectory: stateDirectory, dryRun: dryRun,
      cycleTimeout: cycleTimeout, maxPagesPerBucket: maxPages, shard: shard, keepReports: keepReports,
      accountAll: accountAll, reportDetail: reportDetail)
  }

  /// `keep_reports = 200` keeps that many; `keep_reports = "30d"` keeps those younger than that.
  mutating func retention(_ section: Section, _ key: String) -> ReportRetention? {
    guard let value = section.table[key] else { return .default }
    if value.type == .int {
      guard let count = integer(section, key, range: 1...1_000_000) else { return nil }
      return .count(count)
    }
    guard value.type == .string else {
      typeMismatch(section, key, expected: "a number of reports or a duration such as \"30d\"", got: value.type)
      return nil
    }
    guard let span = duration(section, key) else { return nil }
    guard span.seconds >= 3600 else {
      report(at(section, key), keyName(section, key), "\(span) is too short to be useful: use at least 1h")
      return nil
    }
    return .age(span)
  }
}
