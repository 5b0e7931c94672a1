import Foundation
import ReaperCore

extension ConfigValidator {
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
    let excludeBuckets = stringArray(section, "exclude_buckets", required: false) ?? []
    if let buckets, let provider { checkBucketEntries(buckets, exclude: excludeBuckets, provider: provider, section) }
    let reach = validateReach(section, endpoint: endpoint)
    guard let name, let provider, let endpoint, let buckets else { return nil }
    let source = credentialSource(credentialsFile, targetName: name, provider: provider, section: section)
    var target = Target(
      name: name, provider: provider, endpoint: endpoint, region: region, buckets: buckets,
      credentialsFile: credentialsFile, zone: zone, pathStyle: pathStyle)
    target.zoneConfigured = section.table["timezone"] != nil
    target.excludeBuckets = excludeBuckets.map(Glob.init)
    target.tls = reach.tls
    target.proxy = reach.proxy
    return (target, source)
  }

  /// Globs need the endpoint's own bucket listing, which only some APIs document; an empty entry or one that
  /// could never name a bucket is a typo, and an exclusion that takes back a literal entry is worth a word.
  mutating func checkBucketEntries(
    _ buckets: [String], exclude: [String], provider: ProviderKind, _ section: Section
  ) {
    for entry in buckets {
      if entry.isEmpty {
        continue
      } else if BucketPattern.isGlob(entry), !provider.listsBuckets {
        report(
          at(section, "buckets"), "target.buckets",
          "\"\(entry)\" is a glob, but \(provider.rawValue) documents no listing of buckets to match it against; name each bucket"
        )
      } else if !BucketPattern.isGlob(entry), let problem = BucketPattern.problem(inListedName: entry) {
        report(at(section, "buckets"), "target.buckets", "\"\(entry)\" cannot be a bucket: it has \(problem)")
      }
    }
    for pattern in exclude where pattern.isEmpty {
      report(at(section, "exclude_buckets"), "target.exclude_buckets", "an entry is empty")
    }
    let globs = exclude.filter { !$0.isEmpty }.map(Glob.init)
    for entry in buckets where !BucketPattern.isGlob(entry) {
      if let glob = globs.first(where: { $0.matches(entry) }) {
        report(
          at(section, "exclude_buckets"), "target.exclude_buckets",
          "\"\(glob.pattern)\" excludes \"\(entry)\", which buckets names: it will not be watched", .warning)
      }
    }
    if !exclude.isEmpty, !buckets.contains(where: BucketPattern.isGlob) {
      report(
        at(section, "exclude_buckets"), "target.exclude_buckets",
        "no entry of buckets is a glob, so exclude_buckets only takes back buckets named there", .warning)
    }
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
}
