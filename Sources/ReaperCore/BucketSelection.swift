/// Which buckets a target watches: its `buckets` entries, where an entry holding `*` or `?` is a glob resolved
/// against the endpoint's own listing each cycle, less anything `exclude_buckets` names.
public enum BucketPattern {
  public static func isGlob(_ entry: String) -> Bool { entry.contains("*") || entry.contains("?") }

  /// A name a server listed that can be used as one path segment of a request and named in a report. Anything
  /// else (a slash, `..`, a control character, a name longer than any provider allows) is not a bucket this
  /// reaper will send requests to: the listing came from the server and may lie.
  public static func problem(inListedName name: String) -> String? {
    if name.isEmpty { return "an empty name" }
    if name.utf8.count > 255 { return "a name of \(name.utf8.count) bytes" }
    if name == "." || name == ".." { return "the name \"\(name)\"" }
    if let bad = name.unicodeScalars.first(where: { !allowed($0) }) {
      return "a name holding U+\(String(bad.value, radix: 16, uppercase: true))"
    }
    return nil
  }

  /// Why a name cannot be addressed as a virtual host (`name.endpoint`) and still mean that bucket: a host name
  /// ignores case (a server reads "Prod.s3…" as bucket "prod"), and each of its dot-separated labels is 1 to 63
  /// letters, digits and inner hyphens. nil when it can.
  public static func problem(asVirtualHost name: String) -> String? {
    if name.unicodeScalars.contains(where: { ("A"..."Z").contains($0) }) {
      return "capital letters, which a virtual host name does not keep"
    }
    if name.contains("_") { return "an underscore, which a virtual host name cannot hold" }
    let labels = name.split(separator: ".", omittingEmptySubsequences: false)
    if labels.contains(where: { $0.isEmpty || $0.utf8.count > 63 || $0.first == "-" || $0.last == "-" }) {
      return "a dot-separated part that cannot be a label of a virtual host name"
    }
    return nil
  }

  /// Letters, digits, `.`, `_` and `-`: what S3 (including legacy and Ceph names), CDCS and PDS drive ids use.
  static func allowed(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar {
    case "a"..."z", "A"..."Z", "0"..."9", ".", "_", "-": true
    default: false
    }
  }
}

/// A target's bucket entries resolved against what its endpoint listed.
public struct BucketResolution: Sendable, Equatable {
  /// In the order of the config's entries; each glob's matches in the listing's order.
  public var buckets: [String] = []
  /// Those of `buckets` that came from a glob only, not from a literal entry. A bucket that no rule reaches is
  /// not walked when it was only discovered: `buckets = ["*"]` must not cost a walk of every bucket.
  public var discovered: Set<String> = []
  /// Literal entries that `exclude_buckets` also names: the exclusion wins, which keeps.
  public var excludedLiterals: [String] = []

  public init() {}

  /// - Parameters:
  ///   - entries: the target's `buckets`, as written.
  ///   - listed: the endpoint's bucket names, nil when no entry is a glob and nothing was listed.
  ///   - exclude: `exclude_buckets`.
  public static func resolve(entries: [String], listed: [String]?, exclude: [Glob]) -> BucketResolution {
    var resolution = BucketResolution()
    var seen: Set<String> = []
    func excluded(_ name: String) -> Bool { exclude.contains { $0.matches(name) } }
    for entry in entries where !BucketPattern.isGlob(entry) {
      if excluded(entry) {
        resolution.excludedLiterals.append(entry)
      } else if seen.insert(entry).inserted {
        resolution.buckets.append(entry)
      }
    }
    let globs = entries.filter(BucketPattern.isGlob).map(Glob.init)
    for name in listed ?? [] where globs.contains(where: { $0.matches(name) }) && !excluded(name) {
      if seen.insert(name).inserted {
        resolution.buckets.append(name)
        resolution.discovered.insert(name)
      }
    }
    return resolution
  }
}

/// What changed in a target's discovered buckets since the cycle before, said once per change.
public struct BucketChanges: Sendable, Equatable {
  public var appeared: [String]
  public var vanished: [String]

  public static func between(previous: [String], current: [String]) -> BucketChanges {
    let before = Set(previous)
    let after = Set(current)
    return BucketChanges(
      appeared: current.filter { !before.contains($0) }, vanished: previous.filter { !after.contains($0) })
  }

  public var isEmpty: Bool { appeared.isEmpty && vanished.isEmpty }
}

extension Target {
  /// Whether any `buckets` entry is a glob, so the cycle must list the endpoint's buckets first.
  public var discoversBuckets: Bool { buckets.contains(where: BucketPattern.isGlob) }

  /// Whether this target may watch `bucket` (a name or a rule's glob), as far as the config alone can tell.
  public func mayWatch(_ bucket: String) -> Bool {
    if exclude(bucket) { return false }
    if buckets.contains(bucket) { return true }
    let pattern = Glob(bucket)
    return buckets.contains { entry in
      BucketPattern.isGlob(entry) || (BucketPattern.isGlob(bucket) && pattern.matches(entry))
    }
  }

  func exclude(_ name: String) -> Bool {
    !BucketPattern.isGlob(name) && excludeBuckets.contains { $0.matches(name) }
  }
}
