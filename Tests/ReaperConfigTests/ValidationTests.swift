import Foundation
import ReaperCore
import Testing

@testable import ReaperConfig

/// One test per check: each asserts the exact line and key, and the heart of the message.
@Suite("Config validation")
struct ValidationTests {
  /// Loads `toml` and expects exactly one error, at `line`, on `key`, whose message contains `message`.
  func expectError(
    _ toml: String, line: Int?, key: String, message: String, environment: [String: String] = [:],
    sourceLocation: SourceLocation = #_sourceLocation
  ) throws {
    let fixture = try ConfigFixture(toml)
    let errors = fixture.errors(environment: environment)
    #expect(errors.count == 1, "\(errors)", sourceLocation: sourceLocation)
    let error = try #require(errors.first, sourceLocation: sourceLocation)
    #expect(error.file == fixture.path, sourceLocation: sourceLocation)
    #expect(error.line == line, "\(error)", sourceLocation: sourceLocation)
    #expect(error.key == key, "\(error)", sourceLocation: sourceLocation)
    #expect(error.message.contains(message), "\(error.message)", sourceLocation: sourceLocation)
    #expect(
      error.description.hasPrefix("\(fixture.path):\(line.map(String.init) ?? "")"), sourceLocation: sourceLocation)
  }

  @Test func minimalConfigLoadsWithDefaults() throws {
    let loaded = try ConfigFixture(ConfigFixture.valid()).load()
    let config = loaded.config
    #expect(config.daemon.interval.seconds == 900)
    #expect(config.daemon.jitter.seconds == 60)
    #expect(config.daemon.concurrency == 32)
    #expect(config.daemon.stateDirectory == "/var/lib/upload-reaper")
    #expect(config.daemon.dryRun == false)
    #expect(config.daemon.cycleTimeout.seconds == 3600)
    #expect(config.daemon.maxPagesPerBucket == 100_000)
    #expect(config.safety == SafetySettings())
    #expect(config.targets.map(\.name) == ["t1"])
    #expect(config.targets[0].region == "us-east-1")
    #expect(config.targets[0].pathStyle)
    #expect(config.targets[0].zone == .utc)
    #expect(loaded.warnings.map(\.key) == ["rule"])
  }

  @Test func stateDirectoryComesFromSystemd() throws {
    let loaded = try ConfigFixture(ConfigFixture.valid()).load(environment: ["STATE_DIRECTORY": "/var/lib/a:/var/lib/b"]
    )
    #expect(loaded.config.daemon.stateDirectory == "/var/lib/a")
  }

  @Test func syntaxError() throws {
    try expectError(
      "[daemon]\ninterval = \"15m\nconcurrency = 8\n", line: 2, key: "interval", message: "invalid TOML")
  }

  @Test func unknownRootKey() throws {
    try expectError(
      ConfigFixture.valid("[deamon]\ninterval = \"1h\"\n"), line: 7, key: "deamon", message: "did you mean \"daemon\"?")
  }

  @Test func misspeltDaemonKey() throws {
    try expectError(
      "[daemon]\ninterval = \"15m\"\njiter = \"1m\"\n" + ConfigFixture.valid(), line: 3, key: "daemon.jiter",
      message: "unknown key; did you mean \"jitter\"?")
  }

  @Test func unknownTargetKey() throws {
    try expectError(
      ConfigFixture.valid() + "\nbukets = [\"x\"]\n", line: 8, key: "target.bukets",
      message: "unknown key; did you mean \"buckets\"?")
  }

  @Test func unknownRuleKeyWithoutSuggestion() throws {
    try expectError(
      ConfigFixture.valid("[[rule]]\nname = \"r\"\nmax_age = \"2h\"\naction = \"log\"\ncolour = \"blue\"\n"), line: 11,
      key: "rule.colour", message: "unknown key")
  }

  @Test func stringWhereIntegerExpected() throws {
    try expectError(
      "[daemon]\nconcurrency = \"8\"\n" + ConfigFixture.valid(), line: 2, key: "daemon.concurrency",
      message: "expected an integer, found a string")
  }

  @Test func integerWhereStringExpected() throws {
    let toml = ConfigFixture.valid().replacingOccurrences(of: "name = \"t1\"", with: "name = 5")
    try expectError(toml, line: 2, key: "target.name", message: "expected a string, found an integer")
  }

  @Test func stringWhereBooleanExpected() throws {
    try expectError(
      "[daemon]\ndry_run = \"yes\"\n" + ConfigFixture.valid(), line: 2, key: "daemon.dry_run",
      message: "expected true or false, found a string")
  }

  @Test func badDuration() throws {
    try expectError(
      "[daemon]\ninterval = \"5y\"\n" + ConfigFixture.valid(), line: 2, key: "daemon.interval",
      message: "unexpected \"y\"")
  }

  @Test func bareNumberDuration() throws {
    try expectError(
      ConfigFixture.valid("[[rule]]\nname = \"r\"\nmax_age = 86400\naction = \"log\"\n"), line: 9, key: "rule.max_age",
      message: "bare number 86400: a duration needs a unit, as in \"86400s\"")
  }

  @Test func bareNumberDurationInAString() throws {
    try expectError(
      "[safety]\nmin_age = \"3600\"\n" + ConfigFixture.valid(), line: 2, key: "safety.min_age",
      message: "\"3600\" has no unit")
  }

  @Test func intervalTooShort() throws {
    try expectError(
      "[daemon]\ninterval = \"5s\"\njitter = \"1s\"\n" + ConfigFixture.valid(), line: 2, key: "daemon.interval",
      message: "too short")
  }

  @Test func jitterNotShorterThanInterval() throws {
    try expectError(
      "[daemon]\ninterval = \"1m\"\njitter = \"1m\"\n" + ConfigFixture.valid(), line: 3, key: "daemon.jitter",
      message: "must be shorter than interval 1m")
  }

  @Test func concurrencyOutOfRange() throws {
    try expectError(
      "[daemon]\nconcurrency = 0\n" + ConfigFixture.valid(), line: 2, key: "daemon.concurrency",
      message: "out of range 1...256")
  }

  @Test func cycleTimeoutTooShort() throws {
    try expectError(
      "[daemon]\ncycle_timeout = \"5s\"\n" + ConfigFixture.valid(), line: 2, key: "daemon.cycle_timeout",
      message: "too short")
  }

  @Test func pageCapOutOfRange() throws {
    try expectError(
      "[daemon]\nmax_pages_per_bucket = 0\n" + ConfigFixture.valid(), line: 2, key: "daemon.max_pages_per_bucket",
      message: "out of range 1...10000000")
  }

  @Test func badShard() throws {
    try expectError(
      "[daemon]\nshard = \"4/3\"\n" + ConfigFixture.valid(), line: 2, key: "daemon.shard", message: "is not i/n")
    let loaded = try ConfigFixture("[daemon]\nshard = \"2/3\"\n" + ConfigFixture.valid()).load()
    #expect(loaded.config.daemon.shard == Shard(index: 2, count: 3))
  }

  @Test func abortFractionOutOfRange() throws {
    try expectError(
      "[safety]\nmax_abort_fraction = 1.5\n" + ConfigFixture.valid(), line: 2, key: "safety.max_abort_fraction",
      message: "above 0 and at most 1")
  }

  @Test func abortFractionWrongType() throws {
    try expectError(
      "[safety]\nmax_abort_fraction = \"half\"\n" + ConfigFixture.valid(), line: 2, key: "safety.max_abort_fraction",
      message: "expected a number, found a string")
  }

  @Test func negativeAbortBudget() throws {
    try expectError(
      "[safety]\nmax_aborts_per_cycle = -1\n" + ConfigFixture.valid(), line: 2, key: "safety.max_aborts_per_cycle",
      message: "out of range")
  }

  @Test func noTargets() throws {
    try expectError("[daemon]\ninterval = \"15m\"\n", line: nil, key: "target", message: "no [[target]] is defined")
  }

  @Test func targetAsPlainTable() throws {
    try expectError(
      "[target]\nname = \"t\"\n", line: 1, key: "target",
      message: "expected an array of tables ([[target]]), found a table")
  }

  @Test func missingTargetKey() throws {
    let toml = ConfigFixture.valid().replacingOccurrences(of: "endpoint = \"http://127.0.0.1:7480\"\n", with: "")
    try expectError(toml, line: 1, key: "target.endpoint", message: "missing; every [[target]] needs endpoint")
  }

  @Test func unknownProvider() throws {
    let toml = ConfigFixture.valid().replacingOccurrences(of: "provider = \"s3\"", with: "provider = \"gcs\"")
    try expectError(
      toml, line: 3, key: "target.provider", message: "unknown provider \"gcs\"; expected cdcs, s3 or pds")
  }

  @Test func endpointNotAURL() throws {
    let toml = ConfigFixture.valid().replacingOccurrences(of: "http://127.0.0.1:7480", with: "127.0.0.1:7480")
    try expectError(toml, line: 4, key: "target.endpoint", message: "is not an http:// or https:// URL with a host")
  }

  @Test func endpointWithAPath() throws {
    let toml = ConfigFixture.valid().replacingOccurrences(
      of: "http://127.0.0.1:7480", with: "http://127.0.0.1:7480/bucket")
    try expectError(toml, line: 4, key: "target.endpoint", message: "with no path or query")
  }

  @Test func emptyBuckets() throws {
    let toml = ConfigFixture.valid().replacingOccurrences(of: "[\"b1\", \"b2\"]", with: "[]")
    try expectError(toml, line: 5, key: "target.buckets", message: "must list at least one")
  }

  @Test func duplicateBuckets() throws {
    let toml = ConfigFixture.valid().replacingOccurrences(of: "[\"b1\", \"b2\"]", with: "[\"b1\", \"b1\"]")
    try expectError(toml, line: 5, key: "target.buckets", message: "listed more than once: b1")
  }

  @Test func unknownTimeZone() throws {
    try expectError(
      ConfigFixture.valid() + "\ntimezone = \"Mars/Olympus\"\n", line: 8, key: "target.timezone",
      message: "unknown time zone \"Mars/Olympus\"")
  }

  @Test func timeZoneForms() throws {
    let offset = try ConfigFixture(ConfigFixture.valid() + "\ntimezone = \"+08:00\"\n").load()
    #expect(offset.config.targets[0].zone == .fixed(secondsEast: 28_800))
    let named = try ConfigFixture(ConfigFixture.valid() + "\ntimezone = \"Asia/Shanghai\"\n").load()
    #expect(named.config.targets[0].zone.description == "Asia/Shanghai")
  }

  @Test func pathStyleOnANonS3Target() throws {
    let toml =
      ConfigFixture.valid().replacingOccurrences(of: "provider = \"s3\"", with: "provider = \"cdcs\"")
      + "\npath_style = false\n"
    try expectError(toml, line: 8, key: "target.path_style", message: "applies to s3 targets only")
  }

  @Test func targetNameCharacters() throws {
    let toml = ConfigFixture.valid().replacingOccurrences(of: "name = \"t1\"", with: "name = \"my target\"")
    try expectError(toml, line: 2, key: "target.name", message: "may hold only letters, digits")
  }

  @Test func duplicateTargetName() throws {
    try expectError(
      ConfigFixture.valid(ConfigFixture.defaultTarget), line: 8, key: "target.name",
      message: "duplicate target name \"t1\" (first on line 2)")
  }

  @Test func duplicateRuleName() throws {
    let rule = "[[rule]]\nname = \"r\"\nmax_age = \"2h\"\naction = \"log\"\n"
    try expectError(
      ConfigFixture.valid(rule + rule), line: 12, key: "rule.name",
      message: "duplicate rule name \"r\" (first on line 8)")
  }

  @Test func ruleNamesAnUnknownTarget() throws {
    try expectError(
      ConfigFixture.valid("[[rule]]\nname = \"r\"\ntarget = \"t2\"\nmax_age = \"2h\"\naction = \"log\"\n"), line: 9,
      key: "rule.target", message: "unknown target \"t2\"; defined: \"t1\"")
  }

  @Test func ruleNamesABucketItsTargetLacks() throws {
    try expectError(
      ConfigFixture.valid(
        "[[rule]]\nname = \"r\"\ntarget = \"t1\"\nbucket = \"b3\"\nmax_age = \"2h\"\naction = \"log\"\n"),
      line: 10, key: "rule.bucket", message: "bucket \"b3\" is not in the buckets of target \"t1\"")
  }

  @Test func ruleWithoutAnyThreshold() throws {
    try expectError(
      ConfigFixture.valid("[[rule]]\nname = \"r\"\naction = \"log\"\n"), line: 7, key: "rule.max_age",
      message: "needs max_age, max_idle or both")
  }

  @Test func maxAgeBelowMinAge() throws {
    try expectError(
      ConfigFixture.valid("[[rule]]\nname = \"r\"\nmax_age = \"30m\"\naction = \"abort\"\n"), line: 9,
      key: "rule.max_age",
      message: "30m is below safety.min_age 1h")
  }

  @Test func maxAgeBelowARaisedMinAge() throws {
    try expectError(
      "[safety]\nmin_age = \"2d\"\n"
        + ConfigFixture.valid("[[rule]]\nname = \"r\"\nmax_age = \"36h\"\naction = \"report\"\n"),
      line: 11, key: "rule.max_age", message: "36h is below safety.min_age 2d")
  }

  @Test func unknownAction() throws {
    try expectError(
      ConfigFixture.valid("[[rule]]\nname = \"r\"\nmax_age = \"2h\"\naction = \"delete\"\n"), line: 10,
      key: "rule.action",
      message: "unknown action \"delete\"; expected log, report or abort")
  }

  @Test func badMinBytes() throws {
    try expectError(
      ConfigFixture.valid("[[rule]]\nname = \"r\"\nmax_age = \"2h\"\nmin_bytes = \"lots\"\naction = \"log\"\n"),
      line: 10,
      key: "rule.min_bytes", message: "\"lots\" is not a size")
    try expectError(
      ConfigFixture.valid("[[rule]]\nname = \"r\"\nmax_age = \"2h\"\nmin_bytes = -5\naction = \"log\"\n"), line: 10,
      key: "rule.min_bytes", message: "must not be negative")
  }

  @Test func emptyExcludeGlob() throws {
    try expectError(
      ConfigFixture.valid(
        "[[rule]]\nname = \"r\"\nmax_age = \"2h\"\nexclude = [\n  \"a/*\",\n  \"\",\n]\naction = \"log\"\n"),
      line: 10, key: "rule.exclude", message: "an empty glob matches nothing")
  }

  @Test func missingCredentialsFile() throws {
    let toml = ConfigFixture.valid().replacingOccurrences(of: "a.cred", with: "missing.cred")
    try expectError(
      toml, line: 6, key: "target.credentials_file", message: "credentials file \"missing.cred\" not found")
  }

  @Test func credentialsFromTheEnvironment() throws {
    let toml = ConfigFixture.valid().replacingOccurrences(of: "credentials_file = \"a.cred\"\n", with: "")
    try expectError(
      toml, line: 1, key: "target.credentials_file",
      message: "UPLOAD_REAPER_T1_ACCESS_KEY_ID, UPLOAD_REAPER_T1_SECRET_ACCESS_KEY are not set")
    let loaded = try ConfigFixture(toml).load(environment: [
      "UPLOAD_REAPER_T1_ACCESS_KEY_ID": "AK", "UPLOAD_REAPER_T1_SECRET_ACCESS_KEY": "SK",
    ])
    #expect(loaded.config.credentialSources["t1"] == .environment(prefix: "UPLOAD_REAPER_T1_"))
  }

  @Test func credentialsDirectoryComesFirst() throws {
    let fixture = try ConfigFixture(ConfigFixture.valid())
    let systemd = fixture.directory.appendingPathComponent("creds")
    try FileManager.default.createDirectory(at: systemd, withIntermediateDirectories: true)
    try "access_key_id=X\nsecret_access_key=Y\n".write(
      to: systemd.appendingPathComponent("a.cred"), atomically: true, encoding: .utf8)
    let loaded = try fixture.load(environment: ["CREDENTIALS_DIRECTORY": systemd.path])
    #expect(loaded.config.credentialSources["t1"] == .file(systemd.appendingPathComponent("a.cred").path))
  }

  @Test func everyErrorIsReportedAtOnce() throws {
    let toml =
      "[daemon]\ninterval = 60\nconcurency = 4\n"
      + ConfigFixture.valid("[[rule]]\nname = \"r\"\ntarget = \"nope\"\nmax_age = \"10m\"\naction = \"abort\"\n")
    let errors = try ConfigFixture(toml).errors()
    #expect(errors.map(\.key) == ["daemon.concurency", "daemon.interval", "rule.target", "rule.max_age"])
    #expect(errors.map(\.line) == [3, 2, 12, 13])
  }
}

@Suite("Config warnings")
struct WarningTests {
  @Test func shadowedRule() throws {
    let rules =
      "[[rule]]\nname = \"a\"\nprefix = \"x/\"\nmax_age = \"2h\"\naction = \"log\"\n"
      + "[[rule]]\nname = \"b\"\nprefix = \"x/\"\nmax_age = \"3h\"\naction = \"abort\"\n"
    let loaded = try ConfigFixture(ConfigFixture.valid(rules)).load()
    let warning = try #require(loaded.warnings.first)
    #expect(loaded.warnings.count == 1)
    #expect(warning.severity == .warning)
    #expect(warning.line == 13)
    #expect(warning.message.contains("rule \"b\" can never apply: rule \"a\" on line 8"))
  }

  @Test func excludeOutsideThePrefix() throws {
    let rule =
      "[[rule]]\nname = \"a\"\nprefix = \"tmp/\"\nmax_age = \"2h\"\nexclude = [\"logs/*\", \"tmp/keep/*\", \"*.lock\"]\naction = \"log\"\n"
    let loaded = try ConfigFixture(ConfigFixture.valid(rule)).load()
    #expect(loaded.warnings.map(\.message) == ["\"logs/*\" can never match: rule \"a\" only sees keys under \"tmp/\""])
  }

  @Test func targetWithoutRules() throws {
    let rule = "[[rule]]\nname = \"a\"\ntarget = \"t1\"\nmax_age = \"2h\"\naction = \"log\"\n"
    let second = ConfigFixture.defaultTarget.replacingOccurrences(of: "\"t1\"", with: "\"t2\"")
    let loaded = try ConfigFixture(ConfigFixture.valid("\n" + second + "\n" + rule)).load()
    #expect(loaded.warnings.map(\.line) == [9])
    #expect(loaded.warnings.first?.message.contains("no rule applies to target \"t2\"") == true)
  }

  @Test func openCredentialsFileMode() throws {
    let fixture = try ConfigFixture(ConfigFixture.valid("[[rule]]\nname = \"a\"\nmax_age = \"2h\"\naction = \"log\"\n"))
    let credentials = fixture.directory.appendingPathComponent("a.cred").path
    try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: credentials)
    let loaded = try fixture.load()
    #expect(loaded.warnings.map(\.file) == [credentials])
    #expect(loaded.warnings.first?.message.contains("mode 644") == true)
  }
}
