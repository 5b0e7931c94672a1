import TOMLKit

/// Every table the config may hold, in the order their names are offered as typo suggestions. Each lists its
/// own keys: a key is accepted only in the section that reads it.
enum ConfigSection: String, CaseIterable {
  case daemon, safety, metrics, target, rule

  var allowedKeys: [String] {
    switch self {
    case .daemon:
      [
        "interval", "jitter", "concurrency", "state_dir", "dry_run", "cycle_timeout", "max_pages_per_bucket", "shard",
        "keep_reports", "account_all", "report_detail",
      ]
    case .safety: ["min_age", "max_aborts_per_cycle", "max_abort_fraction", "recheck_before_abort"]
    case .metrics: ["listen", "textfile"]
    case .target:
      [
        "name", "provider", "endpoint", "region", "buckets", "credentials_file", "timezone", "path_style",
        "exclude_buckets", "ca_file", "client_certificate", "client_key", "proxy",
      ]
    case .rule:
      [
        "name", "target", "bucket", "prefix", "max_age", "max_idle", "min_bytes", "exclude", "initiator",
        "owner", "action",
      ]
    }
  }
}

/// One table of the config as it is being checked: where it is, and what keys it may hold.
struct Section {
  let table: TOMLTable
  /// The locator's path: `daemon`, `target[2]`.
  let path: String
  /// The name used in messages: `daemon`, `target`.
  let name: String
  let allowed: [String]

  /// The top level of the file, whose keys are the section names.
  init(root: TOMLTable) {
    table = root
    path = ""
    name = ""
    allowed = ConfigSection.allCases.map(\.rawValue)
  }

  /// An absent `[daemon]` or `[safety]` is checked as an empty table, so its defaults go through the same code.
  init(_ kind: ConfigSection, table: TOMLTable = TOMLTable(), index: Int? = nil) {
    self.table = table
    path = index.map { "\(kind.rawValue)[\($0)]" } ?? kind.rawValue
    name = kind.rawValue
    allowed = kind.allowedKeys
  }

  var isRoot: Bool { name.isEmpty }
}
