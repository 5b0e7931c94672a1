import Foundation
import ReaperCore
import TOMLKit

/// Reads and validates the TOML config. Every problem found is reported, each as `FILE:LINE: key: message`.
public enum ConfigLoader {
  public static let defaultPath = "/etc/upload-reaper/config.toml"

  public static func load(
    path: String, environment: [String: String] = ProcessInfo.processInfo.environment
  ) throws(ConfigError) -> LoadedConfig {
    if let refusal = SafeRead.refusal(path, limit: SafeRead.configLimit) {
      throw ConfigError([ConfigDiagnostic(file: path, line: nil, key: "config", message: refusal)])
    }
    guard let data = FileManager.default.contents(atPath: path) else {
      let reason = FileManager.default.fileExists(atPath: path) ? "cannot read the file" : "no such file"
      throw ConfigError([ConfigDiagnostic(file: path, line: nil, key: "config", message: reason)])
    }
    guard let source = String(data: data, encoding: .utf8) else {
      throw ConfigError([ConfigDiagnostic(file: path, line: nil, key: "config", message: "the file is not UTF-8 text")])
    }
    return try parse(source: source, path: path, environment: environment)
  }

  public static func parse(
    source: String, path: String, environment: [String: String]
  ) throws(ConfigError) -> LoadedConfig {
    // toml++ skips a leading byte-order mark; without it the preflight would not see a header on line 1 (a
    // malformed one there made toml++ assert, found by fuzzing).
    var source = source
    if source.unicodeScalars.first == "\u{FEFF}" { source = String(source.unicodeScalars.dropFirst()) }
    let preflight = TOMLLocator(source: source)
    if !preflight.malformedHeaders.isEmpty {
      throw ConfigError(
        preflight.malformedHeaders.map {
          ConfigDiagnostic(
            file: path, line: $0.line, key: "syntax",
            message: "invalid TOML: malformed table header \($0.text.prefix(60)); write [name] or [[name]]")
        })
    }
    let root: TOMLTable
    do {
      root = try TOMLTable(string: source)
    } catch let error as TOMLParseError {
      let line = error.source.begin.line
      throw ConfigError([
        ConfigDiagnostic(
          file: path, line: line, key: SyntaxKey.guess(source: source, line: line),
          message: "invalid TOML: \(SyntaxKey.trimPosition(error.description))")
      ])
    } catch {
      throw ConfigError([ConfigDiagnostic(file: path, line: nil, key: "config", message: "invalid TOML: \(error)")])
    }
    var validator = Validator(path: path, locator: preflight, environment: environment)
    let config = validator.validate(root)
    let errors = validator.diagnostics.filter { $0.severity == .error }
    guard errors.isEmpty, let config else { throw ConfigError(errors.isEmpty ? validator.diagnostics : errors) }
    return LoadedConfig(config: config, warnings: validator.diagnostics)
  }
}

enum SyntaxKey {
  /// The key written on a line, if the line looks like `key = value`; otherwise a neutral word.
  static func guess(source: String, line: Int) -> String {
    let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
    guard line >= 1, line <= lines.count, let equals = lines[line - 1].firstIndex(of: "=") else { return "syntax" }
    let key = lines[line - 1][..<equals].trimmingCharacters(in: .whitespaces)
    return key.isEmpty || key.contains(" ") ? "syntax" : key
  }

  /// TOMLKit appends `(at line N, column M)`; the diagnostic already carries the line.
  static func trimPosition(_ description: String) -> String {
    guard let range = description.range(of: " (at line ", options: .backwards) else { return description }
    return String(description[..<range.lowerBound])
  }
}

/// One table of the config as it is being checked: where it is, and what keys it may hold.
private struct Section {
  let table: TOMLTable
  /// The locator's path: `daemon`, `target[2]`.
  let path: String
  /// The name used in messages: `daemon`, `target`.
  let name: String
  let allowed: [String]
}

private struct Validator {
  let path: String
  let locator: TOMLLocator
  let environment: [String: String]
  var diagnostics: [ConfigDiagnostic] = []

  init(path: String, locator: TOMLLocator, environment: [String: String]) {
    self.path = path
    self.locator = locator
    self.environment = environment
  }

  static let rootKeys = ["daemon", "safety", "metrics", "target", "rule"]
  static let daemonKeys = [
    "interval", "jitter", "concurrency", "state_dir", "dry_run", "cycle_timeout", "max_pages_per_bucket", "shard",
    "keep_reports", "account_all",
  ]
  static let metricsKeys = ["listen", "textfile"]
  static let safetyKeys = ["min_age", "max_aborts_per_cycle", "max_abort_fraction", "recheck_before_abort"]
  static let targetKeys = [
    "name", "provider", "endpoint", "region", "buckets", "credentials_file", "timezone", "path_style",
  ]
  static let ruleKeys = ["name", "target", "bucket", "prefix", "max_age", "max_idle", "min_bytes", "exclude", "action"]

  // MARK: the whole file

  mutating func validate(_ root: TOMLTable) -> ReaperConfig? {
    let rootSection = Section(table: root, path: "", name: "", allowed: Self.rootKeys)
    checkUnknownKeys(rootSection)
    let daemon = validateDaemon(table(in: rootSection, "daemon"))
    let safety = validateSafety(table(in: rootSection, "safety"))
    let metrics = validateMetrics(table(in: rootSection, "metrics"))
    let targetTables = tables(in: rootSection, "target")
    if targetTables.isEmpty, root["target"] == nil {
      report(nil, "target", "no [[target]] is defined: nothing would be scanned")
    }
    var targets: [Target] = []
    var credentialSources: [String: CredentialSource] = [:]
    var targetLines: [String: Int] = [:]
    for (index, table) in targetTables.enumerated() {
      let section = Section(table: table, path: "target[\(index)]", name: "target", allowed: Self.targetKeys)
      guard let (target, source) = validateTarget(section) else { continue }
      if let earlier = targetLines[target.name] {
        report(
          at(section, "name"), "target.name", "duplicate target name \"\(target.name)\" (first on line \(earlier))")
        continue
      }
      targetLines[target.name] = at(section, "name") ?? 0
      targets.append(target)
      credentialSources[target.name] = source
    }
    // Names of targets that failed validation still exist: a rule naming one gets no second error.
    let declaredTargets = Set(targetTables.compactMap { $0["name"]?.string })
    var rules: [Rule] = []
    var ruleLines: [String: Int] = [:]
    var ruleTables: [String: String] = [:]
    for (index, table) in tables(in: rootSection, "rule").enumerated() {
      let section = Section(table: table, path: "rule[\(index)]", name: "rule", allowed: Self.ruleKeys)
      guard let rule = validateRule(section, targets: targets, declaredTargets: declaredTargets, safety: safety)
      else { continue }
      if let earlier = ruleLines[rule.name] {
        report(at(section, "name"), "rule.name", "duplicate rule name \"\(rule.name)\" (first on line \(earlier))")
        continue
      }
      ruleLines[rule.name] = at(section, "name") ?? 0
      ruleTables[rule.name] = section.path
      rules.append(rule)
    }
    let ruleSet = RuleSet(rules)
    warnAboutReach(ruleSet, targets: targets, ruleLines: ruleLines, targetLines: targetLines)
    if let safety {
      let footguns = Footguns(file: path, locator: locator, ruleTables: ruleTables)
      diagnostics += footguns.warnings(safety: safety, targets: targets, rules: ruleSet)
    }
    guard let daemon, let safety else { return nil }
    return ReaperConfig(
      path: path, daemon: daemon, safety: safety, metrics: metrics, targets: targets, rules: ruleSet,
      credentialSources: credentialSources)
  }

  mutating func warnAboutReach(
    _ rules: RuleSet, targets: [Target], ruleLines: [String: Int], targetLines: [String: Int]
  ) {
    if rules.rules.isEmpty, !targets.isEmpty {
      report(nil, "rule", "no [[rule]] is defined: every upload will be listed as unmatched", .warning)
    }
    for rule in rules.rules {
      if let shadow = rules.shadowingRule(of: rule) {
        report(
          ruleLines[rule.name], "rule.name",
          "rule \"\(rule.name)\" can never apply: rule \"\(shadow.name)\" on line \(ruleLines[shadow.name] ?? 0) has the same target, bucket and prefix",
          .warning)
      }
      for glob in rule.exclude
      where !(glob.literalPrefix.hasPrefix(rule.prefix) || rule.prefix.hasPrefix(glob.literalPrefix)) {
        report(
          ruleLines[rule.name], "rule.exclude",
          "\"\(glob.pattern)\" can never match: rule \"\(rule.name)\" only sees keys under \"\(rule.prefix)\"", .warning
        )
      }
    }
    for target in targets where !rules.rules.isEmpty {
      let covered = target.buckets.contains { !rules.scoped(target: target.name, bucket: $0).isEmpty }
      if !covered {
        report(
          targetLines[target.name], "target.name",
          "no rule applies to target \"\(target.name)\": its uploads will be listed as unmatched", .warning)
      }
    }
  }

  // MARK: sections

  mutating func validateDaemon(_ section: Section?) -> DaemonSettings? {
    let section = section ?? Section(table: TOMLTable(), path: "daemon", name: "daemon", allowed: Self.daemonKeys)
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
    let concurrency = integer(section, "concurrency", range: 1...256) ?? 8
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
    let maxPages = integer(section, "max_pages_per_bucket", range: 1...10_000_000) ?? 100_000
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
    guard let interval, let jitter, let cycleTimeout, let keepReports else { return nil }
    return DaemonSettings(
      interval: interval, jitter: jitter, concurrency: concurrency, stateDirectory: stateDirectory, dryRun: dryRun,
      cycleTimeout: cycleTimeout, maxPagesPerBucket: maxPages, shard: shard, keepReports: keepReports,
      accountAll: accountAll)
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

  mutating func validateMetrics(_ section: Section?) -> MetricsSettings {
    guard let section else { return MetricsSettings() }
    checkUnknownKeys(section)
    var settings = MetricsSettings()
    if let text = string(section, "listen") {
      if let address = ListenAddress(parsing: text) {
        settings.listen = address
      } else {
        report(
          at(section, "listen"), "metrics.listen",
          "\"\(text)\" is not host:port, such as \"127.0.0.1:9464\" or \"[::1]:9464\"")
      }
    }
    if let path = string(section, "textfile") {
      if !path.hasPrefix("/") {
        report(at(section, "textfile"), "metrics.textfile", "\"\(path)\" must be an absolute path")
      } else if path.hasSuffix("/") {
        report(at(section, "textfile"), "metrics.textfile", "\"\(path)\" names a directory, not a file")
      } else {
        settings.textfile = path
        if !path.hasSuffix(".prom") {
          report(
            at(section, "textfile"), "metrics.textfile",
            "node_exporter's textfile collector reads only files ending in .prom", .warning)
        }
      }
    }
    return settings
  }

  mutating func validateSafety(_ section: Section?) -> SafetySettings? {
    let section = section ?? Section(table: TOMLTable(), path: "safety", name: "safety", allowed: Self.safetyKeys)
    checkUnknownKeys(section)
    let defaults = SafetySettings()
    let minAge = duration(section, "min_age") ?? (section.table["min_age"] == nil ? defaults.minAge : nil)
    let maxAborts = integer(section, "max_aborts_per_cycle", range: 0...10_000_000) ?? defaults.maxAbortsPerCycle
    var fraction = defaults.maxAbortFraction
    if let value = section.table["max_abort_fraction"] {
      let number = value.double ?? value.int.map(Double.init)
      if let number, number > 0, number <= 1 {
        fraction = number
      } else if number != nil {
        report(
          at(section, "max_abort_fraction"), "safety.max_abort_fraction", "must be above 0 and at most 1 (0.5 is half)")
      } else {
        typeMismatch(section, "max_abort_fraction", expected: "a number", got: value.type)
      }
    }
    let recheck = boolean(section, "recheck_before_abort") ?? defaults.recheckBeforeAbort
    guard let minAge else { return nil }
    return SafetySettings(
      minAge: minAge, maxAbortsPerCycle: maxAborts, maxAbortFraction: fraction, recheckBeforeAbort: recheck)
  }

  mutating func validateTarget(_ section: Section) -> (Target, CredentialSource?)? {
    checkUnknownKeys(section)
    let name = requiredString(section, "name")
    if let name, name.range(of: #"^[A-Za-z0-9][A-Za-z0-9._-]*$"#, options: .regularExpression) == nil {
      report(
        at(section, "name"), "target.name",
        "\"\(name)\" may hold only letters, digits, '.', '_' and '-', and must not start with a symbol")
    }
    var provider: ProviderKind?
    if let text = requiredString(section, "provider") {
      provider = ProviderKind(rawValue: text)
      if provider == nil {
        report(at(section, "provider"), "target.provider", "unknown provider \"\(text)\"; expected cdcs, s3 or pds")
      }
    }
    let endpoint = requiredString(section, "endpoint")
    if let endpoint { checkEndpoint(endpoint, section) }
    let region = string(section, "region") ?? (provider == .s3 ? "us-east-1" : "")
    let buckets = stringArray(section, "buckets", required: true)
    let credentialsFile = string(section, "credentials_file")
    var zone = Zone.utc
    if provider == .pds, section.table["timezone"] != nil {
      report(
        at(section, "timezone"), "target.timezone",
        "pds targets take no timezone: PDS times always carry their zone, so the setting would be ignored")
    } else if let text = string(section, "timezone") {
      if let offset = Zone.offset(parsing: text) {
        zone = offset
      } else if let named = TimeZone(identifier: text), text.contains("/") || named.identifier == text {
        zone = .named(named)
      } else {
        report(
          at(section, "timezone"), "target.timezone",
          "unknown time zone \"\(text)\": use an IANA name such as \"Asia/Shanghai\" or an offset such as \"+08:00\"")
      }
    }
    var pathStyle = true
    if let value = boolean(section, "path_style") {
      if provider != nil, provider != .s3 {
        report(at(section, "path_style"), "target.path_style", "applies to s3 targets only")
      }
      pathStyle = value
    }
    guard let name, let provider, let endpoint, let buckets else { return nil }
    let source = credentialSource(credentialsFile, targetName: name, provider: provider, section: section)
    var target = Target(
      name: name, provider: provider, endpoint: endpoint, region: region, buckets: buckets,
      credentialsFile: credentialsFile, zone: zone, pathStyle: pathStyle)
    target.zoneConfigured = section.table["timezone"] != nil
    return (target, source)
  }

  mutating func checkEndpoint(_ endpoint: String, _ section: Section) {
    let line = at(section, "endpoint")
    guard let url = URLComponents(string: endpoint), let scheme = url.scheme?.lowercased(),
      scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty
    else {
      report(line, "target.endpoint", "\"\(endpoint)\" is not an http:// or https:// URL with a host")
      return
    }
    if url.query != nil || url.fragment != nil || !(url.path.isEmpty || url.path == "/") {
      report(line, "target.endpoint", "\"\(endpoint)\" must be a bare scheme://host[:port], with no path or query")
    }
    if url.user != nil || url.password != nil {
      report(line, "target.endpoint", "the endpoint must not hold credentials; use credentials_file")
    }
  }

  mutating func credentialSource(
    _ file: String?, targetName: String, provider: ProviderKind, section: Section
  ) -> CredentialSource? {
    let source: CredentialSource
    if let file {
      let configDirectory = (path as NSString).deletingLastPathComponent
      let (found, tried) = CredentialsLoader.resolve(
        name: file, configDirectory: configDirectory.isEmpty ? "." : configDirectory, environment: environment)
      guard let found else {
        report(
          at(section, "credentials_file"), "target.credentials_file",
          "credentials file \"\(file)\" not found (looked in \(tried.joined(separator: ", ")))")
        return nil
      }
      source = .file(found)
    } else {
      source = .environment(prefix: CredentialSource.environmentPrefix(forTarget: targetName))
    }
    let (_, problems) = CredentialsLoader.load(source, provider: provider, environment: environment)
    for problem in problems {
      if case .environment = source {
        report(line(section.path), "target.credentials_file", problem.message, problem.severity)
      } else {
        diagnostics.append(problem)
      }
    }
    return source
  }

  mutating func validateRule(
    _ section: Section, targets: [Target], declaredTargets: Set<String>, safety: SafetySettings?
  ) -> Rule? {
    checkUnknownKeys(section)
    let name = requiredString(section, "name")
    if let name, name.isEmpty { report(at(section, "name"), "rule.name", "must not be empty") }
    let targetName = string(section, "target")
    var scopeTargets = targets
    if let targetName {
      if let target = targets.first(where: { $0.name == targetName }) {
        scopeTargets = [target]
      } else if !declaredTargets.contains(targetName) {
        let known = targets.map { "\"\($0.name)\"" }.joined(separator: ", ")
        report(
          at(section, "target"), "rule.target",
          "unknown target \"\(targetName)\"; defined: \(known.isEmpty ? "none" : known)")
        scopeTargets = []
      }
    }
    let bucket = string(section, "bucket")
    if let bucket, !scopeTargets.isEmpty, !scopeTargets.contains(where: { $0.buckets.contains(bucket) }) {
      let owner = targetName.map { "target \"\($0)\"" } ?? "any target"
      report(at(section, "bucket"), "rule.bucket", "bucket \"\(bucket)\" is not in the buckets of \(owner)")
    }
    let prefix = string(section, "prefix") ?? ""
    let maxAge = duration(section, "max_age")
    let maxIdle = duration(section, "max_idle")
    if section.table["max_age"] == nil, section.table["max_idle"] == nil {
      report(line(section.path), "rule.max_age", "a rule needs max_age, max_idle or both")
    }
    if let maxAge, let minAge = safety?.minAge, maxAge < minAge {
      report(at(section, "max_age"), "rule.max_age", "\(maxAge) is below safety.min_age \(minAge)")
    }
    var minBytes: Int64?
    if let value = section.table["min_bytes"] {
      if let number = value.int {
        minBytes = Int64(number)
      } else if let text = value.string {
        minBytes = ByteCount.parse(text)
        if minBytes == nil {
          report(
            at(section, "min_bytes"), "rule.min_bytes",
            "\"\(text)\" is not a size; write bytes (1048576) or a size such as \"64MiB\"")
        }
      } else {
        typeMismatch(section, "min_bytes", expected: "an integer or a size string", got: value.type)
      }
      if let bytes = minBytes, bytes < 0 {
        report(at(section, "min_bytes"), "rule.min_bytes", "must not be negative")
        minBytes = nil
      }
    }
    let exclude = stringArray(section, "exclude", required: false) ?? []
    for pattern in exclude where pattern.isEmpty {
      report(at(section, "exclude"), "rule.exclude", "an empty glob matches nothing; remove it")
    }
    var action: RuleAction?
    if let text = requiredString(section, "action") {
      action = RuleAction(rawValue: text)
      if action == nil {
        report(at(section, "action"), "rule.action", "unknown action \"\(text)\"; expected log, report or abort")
      }
    }
    guard let name, let action else { return nil }
    return Rule(
      name: name, target: targetName, bucket: bucket, prefix: prefix, maxAge: maxAge, maxIdle: maxIdle,
      minBytes: minBytes, exclude: exclude.filter { !$0.isEmpty }.map(Glob.init), action: action)
  }

  // MARK: typed reads

  func line(_ locatorPath: String) -> Int? { locator.line(of: locatorPath) }

  /// The line of a key, or of its table when the key is absent.
  func at(_ section: Section, _ key: String) -> Int? {
    line(section.path.isEmpty ? key : "\(section.path).\(key)") ?? line(section.path)
  }

  func keyName(_ section: Section, _ key: String) -> String { section.name.isEmpty ? key : "\(section.name).\(key)" }

  mutating func report(_ line: Int?, _ key: String, _ message: String, _ severity: ConfigDiagnostic.Severity = .error) {
    diagnostics.append(ConfigDiagnostic(file: path, line: line, key: key, message: message, severity: severity))
  }

  mutating func checkUnknownKeys(_ section: Section) {
    for key in section.table.keys.sorted() where !section.allowed.contains(key) {
      var message = "unknown key"
      if let suggestion = Suggest.closest(to: key, among: section.allowed) {
        message += "; did you mean \"\(suggestion)\"?"
      }
      report(at(section, key), keyName(section, key), message)
    }
  }

  mutating func typeMismatch(_ section: Section, _ key: String, expected: String, got type: TOMLType) {
    report(at(section, key), keyName(section, key), "expected \(expected), found \(Self.describe(type))")
  }

  static func describe(_ type: TOMLType) -> String {
    switch type {
    case .table: "a table"
    case .array: "an array"
    case .string: "a string"
    case .int: "an integer"
    case .double: "a float"
    case .bool: "a boolean"
    case .date: "a date"
    case .time: "a time"
    case .dateTime: "a date-time"
    }
  }

  mutating func table(in section: Section, _ key: String) -> Section? {
    guard let value = section.table[key] else { return nil }
    guard let table = value.table else {
      typeMismatch(section, key, expected: "a table ([\(key)])", got: value.type)
      return nil
    }
    let allowed =
      switch key {
      case "daemon": Self.daemonKeys
      case "metrics": Self.metricsKeys
      default: Self.safetyKeys
      }
    return Section(table: table, path: key, name: key, allowed: allowed)
  }

  mutating func tables(in section: Section, _ key: String) -> [TOMLTable] {
    guard let value = section.table[key] else { return [] }
    guard let array = value.array else {
      typeMismatch(section, key, expected: "an array of tables ([[\(key)]])", got: value.type)
      return []
    }
    var result: [TOMLTable] = []
    for element in array {
      if let table = element.table {
        result.append(table)
      } else {
        typeMismatch(section, key, expected: "an array of tables ([[\(key)]])", got: element.type)
      }
    }
    return result
  }

  mutating func string(_ section: Section, _ key: String) -> String? {
    guard let value = section.table[key] else { return nil }
    guard let text = value.string, value.type == .string else {
      typeMismatch(section, key, expected: "a string", got: value.type)
      return nil
    }
    return text
  }

  mutating func requiredString(_ section: Section, _ key: String) -> String? {
    guard section.table[key] != nil else {
      report(line(section.path), keyName(section, key), "missing; every [[\(section.name)]] needs \(key)")
      return nil
    }
    return string(section, key)
  }

  mutating func boolean(_ section: Section, _ key: String) -> Bool? {
    guard let value = section.table[key] else { return nil }
    guard value.type == .bool, let flag = value.bool else {
      typeMismatch(section, key, expected: "true or false", got: value.type)
      return nil
    }
    return flag
  }

  mutating func integer(_ section: Section, _ key: String, range: ClosedRange<Int>) -> Int? {
    guard let value = section.table[key] else { return nil }
    guard value.type == .int, let number = value.int else {
      typeMismatch(section, key, expected: "an integer", got: value.type)
      return nil
    }
    guard range.contains(number) else {
      report(
        at(section, key), keyName(section, key), "\(number) is out of range \(range.lowerBound)...\(range.upperBound)")
      return nil
    }
    return number
  }

  mutating func duration(_ section: Section, _ key: String) -> TimeSpan? {
    guard let value = section.table[key] else { return nil }
    if let number = value.int, value.type == .int {
      report(
        at(section, key), keyName(section, key),
        "bare number \(number): a duration needs a unit, as in \"\(number)s\" (units: s, m, h, d, w)")
      return nil
    }
    guard let text = string(section, key) else { return nil }
    do {
      return try TimeSpan.parse(text)
    } catch {
      report(at(section, key), keyName(section, key), error.message)
      return nil
    }
  }

  mutating func stringArray(_ section: Section, _ key: String, required: Bool) -> [String]? {
    guard let value = section.table[key] else {
      if required {
        report(line(section.path), keyName(section, key), "missing; every [[\(section.name)]] needs \(key)")
      }
      return nil
    }
    guard let array = value.array else {
      typeMismatch(section, key, expected: "an array of strings", got: value.type)
      return nil
    }
    var result: [String] = []
    for element in array {
      guard element.type == .string, let text = element.string else {
        typeMismatch(section, key, expected: "an array of strings", got: element.type)
        return nil
      }
      result.append(text)
    }
    if required {
      if result.isEmpty { report(at(section, key), keyName(section, key), "must list at least one") }
      if result.contains("") { report(at(section, key), keyName(section, key), "names must not be empty") }
      let duplicates = Set(result.filter { name in result.filter { $0 == name }.count > 1 })
      if !duplicates.isEmpty {
        report(
          at(section, key), keyName(section, key),
          "listed more than once: \(duplicates.sorted().joined(separator: ", "))")
      }
    }
    return result
  }
}

enum Suggest {
  /// The allowed key a typo most likely meant, when it is close enough to be worth saying.
  static func closest(to key: String, among candidates: [String]) -> String? {
    let scored = candidates.map { ($0, distance(Array(key), Array($0))) }.min { $0.1 < $1.1 }
    guard let (best, score) = scored, score <= max(2, key.count / 3) else { return nil }
    return best
  }

  static func distance(_ lhs: [Character], _ rhs: [Character]) -> Int {
    var previous = Array(0...rhs.count)
    for (i, left) in lhs.enumerated() {
      var current = [i + 1] + Array(repeating: 0, count: rhs.count)
      for (j, right) in rhs.enumerated() {
        current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (left == right ? 0 : 1))
      }
      previous = current
    }
    return previous[rhs.count]
  }
}
