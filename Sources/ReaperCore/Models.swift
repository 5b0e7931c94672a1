import Foundation

public enum ProviderKind: String, Sendable, Hashable, CaseIterable {
  case cdcs, s3, pds

  /// Whether the API documents a listing of the endpoint's buckets (S3 ListBuckets, PDS ListDrive), so `buckets`
  /// may hold globs. CDCS documents none.
  public var listsBuckets: Bool { self != .cdcs }

  /// Whether the parts listing documents who started the upload and who owns it (S3 ListParts' `Initiator` and
  /// `Owner`), so a rule by initiator or owner can have the listing's word confirmed before an abort.
  public var partsListingNamesIdentities: Bool { self == .s3 }
}

/// What a rule does with an upload it finds stale.
public enum RuleAction: String, Sendable, Hashable, CaseIterable {
  case log, report, abort
}

/// One in-progress multipart upload as a provider listed it.
public struct Upload: Sendable, Hashable {
  public var target: String
  /// The coffer (cdcs), bucket (s3) or drive id (pds).
  public var bucket: String
  public var key: String
  public var uploadID: String
  public var initiated: Date
  /// The provider's own id for the upload's object, where the key and upload id do not address it (PDS: the
  /// file id). nil for cdcs and s3.
  public var handle: String?
  /// The last change to the upload as a whole, for providers whose parts carry no time (PDS). Idle time is
  /// measured from it when no part has a time of its own.
  public var lastActivity: Activity?
  /// Why idle time cannot be measured for this upload from what was listed (a provider whose parts carry no time
  /// sent no readable activity time): a rule with `max_idle` then keeps it.
  public var idleUnknown: String?
  /// The key as the server sent it, when that differs from `key` and the server did not say whether it encoded
  /// keys (Ceph 16 encodes without saying): rules must select the upload the same way under both readings.
  public var otherKeyReading: String?
  /// The listing's `Initiator.ID` and `Owner.ID` (S3, CDCS), as the server sent them: claims, not facts. nil when
  /// the record carried none, or only blanks; a rule that asks for one then does not select the upload.
  public var initiatorID: String?
  public var ownerID: String?

  public init(
    target: String, bucket: String, key: String, uploadID: String, initiated: Date, handle: String? = nil,
    lastActivity: Activity? = nil, idleUnknown: String? = nil
  ) {
    self.target = target
    self.bucket = bucket
    self.key = key
    self.uploadID = uploadID
    self.initiated = initiated
    self.handle = handle
    self.lastActivity = lastActivity
    self.idleUnknown = idleUnknown
  }
}

/// When an upload last changed, and which field said so, because decisions name the field they measured from.
public struct Activity: Sendable, Hashable {
  public var date: Date
  /// The provider's field name, such as `updated_at`, or `created_at` when the server sent no `updated_at`.
  public var source: String

  public init(date: Date, source: String) {
    self.date = date
    self.source = source
  }
}

/// One uploaded part. `lastModified` is nil where the provider keeps no time per part (PDS), or where the
/// server sent one that could not be trusted; then `unreadableTime` says what was sent.
public struct Part: Sendable, Hashable {
  public var number: Int
  public var size: Int64
  public var lastModified: Date?
  /// The server's `LastModified` as sent (`"missing"` when absent), for a provider that keeps a time per part but
  /// sent none that reads as a plausible time. Idle time is then unknown: a part written a minute ago must not
  /// look idle since the upload began.
  public var unreadableTime: String?

  public init(number: Int, size: Int64, lastModified: Date?, unreadableTime: String? = nil) {
    self.number = number
    self.size = size
    self.lastModified = lastModified
    self.unreadableTime = unreadableTime
  }
}

/// What the parts of one upload add up to; folded page by page so no part list is ever kept whole.
public struct PartsSummary: Sendable, Hashable {
  public var count: Int
  public var bytes: Int64
  public var newestModified: Date?
  public var highestPartNumber: Int
  /// Parts whose time the server sent unreadable, missing or implausible; the first one's is described.
  public var unreadableTimes = 0
  public var firstUnreadableTime: String?
  /// The oldest part time: one before the upload began means the times cannot be trusted.
  public var oldestModified: Date?
  /// The first part whose size is beyond any service's part limit: bytes held are then unknown.
  public var implausibleSize: String?
  /// The `Initiator`/`Owner` IDs the parts listing named (S3 echoes them), for the re-check to compare.
  public var initiatorIDs: Set<String> = []
  public var ownerIDs: Set<String> = []
  /// Parts with no time at all, neither read nor unreadable: a provider that keeps none per part (PDS).
  public var untimedParts = 0

  /// No service takes a part larger than 5 GiB (S3, COS, OSS, Ceph and MinIO by default, PDS).
  public static let largestPlausiblePart: Int64 = 5 << 30

  public init(count: Int = 0, bytes: Int64 = 0, newestModified: Date? = nil, highestPartNumber: Int = 0) {
    self.count = count
    self.bytes = bytes
    self.newestModified = newestModified
    self.highestPartNumber = highestPartNumber
  }

  /// What in these parts the server got wrong (an unreadable time, an impossible size, a time before the upload
  /// began), for the cycle's errors: the upload is decided without trusting it, and an operator should know.
  public func doubt(initiated: Date) -> String? {
    if let implausibleSize { return implausibleSize }
    return idleUnknownReason(initiated: initiated).map { String($0.dropFirst("idle time unknown: ".count)) }
  }

  /// Why idle time cannot be measured from these parts of an upload initiated at `initiated`, or nil when it can.
  public func idleUnknownReason(initiated: Date) -> String? {
    if let firstUnreadableTime {
      let others = unreadableTimes > 1 ? " (and \(unreadableTimes - 1) more)" : ""
      return "idle time unknown: \(firstUnreadableTime)\(others)"
    }
    if let oldestModified, oldestModified < initiated.addingTimeInterval(-ClockCheck.tolerance) {
      return
        "idle time unknown: a part is dated \(Timestamp.formatRFC3339(oldestModified)), before the upload began at \(Timestamp.formatRFC3339(initiated))"
    }
    return nil
  }

  public mutating func add(_ part: Part) {
    count += 1
    bytes = bytes.saturatingAdd(part.size)
    if implausibleSize == nil, part.size > Self.largestPlausiblePart || part.size < 0 {
      implausibleSize = "part \(part.number) claims \(part.size) bytes"
    }
    highestPartNumber = max(highestPartNumber, part.number)
    if let unreadable = part.unreadableTime {
      unreadableTimes += 1
      if firstUnreadableTime == nil {
        firstUnreadableTime = "part \(part.number) has an unreadable LastModified \"\(unreadable.prefix(64))\""
      }
    }
    if let modified = part.lastModified {
      if newestModified.map({ modified > $0 }) ?? true { newestModified = modified }
      if oldestModified.map({ modified < $0 }) ?? true { oldestModified = modified }
    } else if part.unreadableTime == nil {
      untimedParts += 1
    }
  }
}

extension Int64 {
  /// Byte counts summed over a server's claims: a hostile server can send sizes that add up past Int64, and a
  /// trap there would stop the daemon, so totals stick at the bounds instead.
  public func saturatingAdd(_ other: Int64) -> Int64 {
    let (sum, overflow) = addingReportingOverflow(other)
    return overflow ? (other < 0 ? Int64.min : Int64.max) : sum
  }
}

/// A storage endpoint and the buckets on it that the reaper watches.
public struct Target: Sendable, Hashable {
  public var name: String
  public var provider: ProviderKind
  public var endpoint: String
  public var region: String
  public var buckets: [String]
  /// Where the credentials come from, as written in the config; resolved outside the core.
  public var credentialsFile: String?
  public var zone: Zone
  /// Whether the config set `timezone`. Where a provider's stamps should carry their zone (s3), a zone-less one
  /// is read only in a zone the operator named; otherwise two readings are possible and it is unreadable.
  public var zoneConfigured = false
  public var pathStyle: Bool
  /// Bucket names never watched, even when a `buckets` glob matches them (`exclude_buckets`).
  public var excludeBuckets: [Glob] = []
  /// nil: the system's trust store and no client certificate.
  public var tls: TargetTLS?
  /// `http://host:port`: this target's proxy, instead of whatever the environment names.
  public var proxy: String?

  public init(
    name: String, provider: ProviderKind, endpoint: String, region: String, buckets: [String],
    credentialsFile: String?, zone: Zone = .utc, pathStyle: Bool = true
  ) {
    self.name = name
    self.provider = provider
    self.endpoint = endpoint
    self.region = region
    self.buckets = buckets
    self.credentialsFile = credentialsFile
    self.zone = zone
    self.pathStyle = pathStyle
  }
}

public struct Rule: Sendable, Hashable {
  public var name: String
  /// nil: every target.
  public var target: String?
  /// nil: every bucket of the target.
  public var bucket: String?
  public var prefix: String
  public var maxAge: TimeSpan?
  public var maxIdle: TimeSpan?
  /// nil or 0: no size condition.
  public var minBytes: Int64?
  public var exclude: [Glob]
  /// Globs on the upload's `Initiator.ID` and `Owner.ID`; empty: no condition. A rule with either selects only
  /// uploads whose listing carried that id and matched: an upload without it is never taken to be anyone's.
  public var initiator: [Glob]
  public var owner: [Glob]
  public var action: RuleAction

  public init(
    name: String, target: String? = nil, bucket: String? = nil, prefix: String = "", maxAge: TimeSpan? = nil,
    maxIdle: TimeSpan? = nil, minBytes: Int64? = nil, exclude: [Glob] = [], initiator: [Glob] = [],
    owner: [Glob] = [], action: RuleAction
  ) {
    self.name = name
    self.target = target
    self.bucket = bucket
    self.prefix = prefix
    self.maxAge = maxAge
    self.maxIdle = maxIdle
    self.minBytes = minBytes
    self.exclude = exclude
    self.initiator = initiator
    self.owner = owner
    self.action = action
  }

  /// Whether the rule selects only some uploads' initiators or owners, so an upload under its prefix may still
  /// fall through to the next rule.
  public var hasIdentityCondition: Bool { !initiator.isEmpty || !owner.isEmpty }

  /// Whether the upload's identity ids satisfy this rule's `initiator` and `owner`. An id the listing did not
  /// carry satisfies no glob, not even `*`: a rule for someone's uploads never reaches one of unknown origin.
  public func matchesIdentity(initiator initiatorID: String?, owner ownerID: String?) -> Bool {
    func satisfied(_ globs: [Glob], _ id: String?) -> Bool {
      guard !globs.isEmpty else { return true }
      guard let id else { return false }
      return globs.contains { $0.matches(id) }
    }
    return satisfied(initiator, initiatorID) && satisfied(owner, ownerID)
  }

  /// Whether the rule's `bucket` (a name or a glob; none: every bucket) takes in `name`. A name is compared byte
  /// for byte, as bucket names are stored.
  public func reaches(bucket name: String) -> Bool {
    guard let bucket else { return true }
    if BucketPattern.isGlob(bucket) { return Glob(bucket).matches(name) }
    return bucket.utf8.elementsEqual(name.utf8)
  }

  /// Precedence among rules of equal prefix: one naming its bucket outranks one with a bucket glob, which
  /// outranks one for every bucket.
  var bucketRank: Int {
    guard let bucket else { return 0 }
    return BucketPattern.isGlob(bucket) ? 1 : 2
  }

  /// Whether deciding under this rule needs the upload's parts listed.
  public var needsParts: Bool { maxIdle != nil || (minBytes ?? 0) > 0 }
}

public struct SafetySettings: Sendable, Hashable {
  /// Nothing younger than this is ever aborted, whatever a rule says.
  public var minAge: TimeSpan
  public var maxAbortsPerCycle: Int
  public var maxAbortFraction: Double
  public var recheckBeforeAbort: Bool

  public init(
    minAge: TimeSpan = TimeSpan(seconds: 3600, leadingUnit: .hours), maxAbortsPerCycle: Int = 1000,
    maxAbortFraction: Double = 0.5, recheckBeforeAbort: Bool = true
  ) {
    self.minAge = minAge
    self.maxAbortsPerCycle = maxAbortsPerCycle
    self.maxAbortFraction = maxAbortFraction
    self.recheckBeforeAbort = recheckBeforeAbort
  }
}

/// What the policy says about one upload, before any guard or provider has had its say.
public enum DecisionKind: String, Sendable, Hashable, CaseIterable {
  case keep, log, report, abort, unmatched
}

/// What actually happened to one upload in a cycle.
public enum Outcome: String, Sendable, Hashable, CaseIterable {
  case kept, logged, reported, aborted
  case wouldAbort = "would-abort"
  case skippedRecheck = "skipped-recheck"
  case gone, failed
}

public struct Decision: Sendable, Hashable {
  public var kind: DecisionKind
  public var ruleName: String?
  /// For people: `age 34h > max_age 24h`.
  public var reason: String
  public var ageSeconds: Int64
  /// nil when the parts were not listed.
  public var idleSeconds: Int64?
  /// A keep for want of knowing (an idle time or size that cannot be read, a start in the future), not because
  /// the rule says the upload is fine: the report lists such uploads one by one.
  public var doubtful: Bool

  public init(
    kind: DecisionKind, ruleName: String?, reason: String, ageSeconds: Int64, idleSeconds: Int64?,
    doubtful: Bool = false
  ) {
    self.kind = kind
    self.ruleName = ruleName
    self.reason = reason
    self.ageSeconds = ageSeconds
    self.idleSeconds = idleSeconds
    self.doubtful = doubtful
  }

  /// The outcome when nothing but the policy acts; an abort's real outcome comes from the guards and provider.
  public var outcomeWithoutAbort: Outcome {
    switch kind {
    case .keep, .unmatched: .kept
    case .log: .logged
    case .report: .reported
    case .abort: .wouldAbort
    }
  }
}
