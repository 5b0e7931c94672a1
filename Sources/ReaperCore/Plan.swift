import Foundation

/// One upload a reviewed plan names for abort, as the dry run that made the plan saw it.
public struct PlanEntry: Sendable, Hashable {
  public var target: String
  public var bucket: String
  public var key: String
  public var uploadID: String
  public var initiated: Date
  public var rule: String
  /// nil when the dry run did not list its parts.
  public var bytes: Int64?
  public var reason: String

  public init(
    target: String, bucket: String, key: String, uploadID: String, initiated: Date, rule: String, bytes: Int64?,
    reason: String
  ) {
    self.target = target
    self.bucket = bucket
    self.key = key
    self.uploadID = uploadID
    self.initiated = initiated
    self.rule = rule
    self.bytes = bytes
    self.reason = reason
  }

  public var address: PlanAddress { PlanAddress(target: target, bucket: bucket, key: key, uploadID: uploadID) }
}

/// What names one upload in a plan. Keys compare by their Unicode scalars, as rules match them: two keys Swift
/// calls equal under canonical equivalence are two objects to a server.
public struct PlanAddress: Sendable, Hashable {
  public var target: String
  public var bucket: String
  public var key: String
  public var uploadID: String

  public init(target: String, bucket: String, key: String, uploadID: String) {
    self.target = target
    self.bucket = bucket
    self.key = key
    self.uploadID = uploadID
  }

  public static func == (lhs: PlanAddress, rhs: PlanAddress) -> Bool {
    lhs.target.unicodeScalars.elementsEqual(rhs.target.unicodeScalars)
      && lhs.bucket.unicodeScalars.elementsEqual(rhs.bucket.unicodeScalars)
      && lhs.key.unicodeScalars.elementsEqual(rhs.key.unicodeScalars)
      && lhs.uploadID.unicodeScalars.elementsEqual(rhs.uploadID.unicodeScalars)
  }

  public func hash(into hasher: inout Hasher) {
    for text in [target, bucket, key, uploadID] {
      for scalar in text.unicodeScalars { hasher.combine(scalar.value) }
      hasher.combine(UInt32.max)
    }
  }
}

/// A reviewed would-abort set: `scan --plan` writes it, `apply` aborts nothing but what it names.
public struct Plan: Sendable, Hashable {
  public static let format = "upload-reaper-plan"
  public static let version = 1

  /// The SHA-256 of the canonical config the dry run decided under, lowercase hex.
  public var configDigest: String
  public var created: Date
  public var entries: [PlanEntry]

  public init(configDigest: String, created: Date, entries: [PlanEntry]) {
    self.configDigest = configDigest
    self.created = created
    self.entries = entries
  }

  /// Why this plan may not be applied now under a config with `digest`; empty when it may. `--force` turns these
  /// into warnings; a malformed plan never gets this far.
  public func refusals(configDigest digest: String, now: Date, maxAge: TimeSpan) -> [String] {
    var problems: [String] = []
    if configDigest != digest {
      problems.append("the plan was made under another config (digest \(configDigest), the config now is \(digest))")
    }
    let age = now.timeIntervalSince(created)
    if age < -ClockCheck.tolerance {
      problems.append(
        "the plan claims to be made \(TimeSpan.humanize(seconds: Int64(-age))) in the future (\(PlanTime.format(created))): this host's clock or the plan is wrong"
      )
    } else if age > TimeInterval(maxAge.seconds) {
      problems.append(
        "the plan is \(TimeSpan.humanize(seconds: Int64(age))) old, older than --max-age \(maxAge); make a new one")
    }
    return problems
  }
}

/// The uploads of a plan, for the deciding step of `apply`: which listed upload may even be considered for abort.
public struct PlanSet: Sendable {
  let byAddress: [PlanAddress: PlanEntry]
  /// Targets and buckets the plan names: only these are listed.
  let buckets: Set<PlanAddress>

  public init(_ entries: [PlanEntry]) {
    var byAddress: [PlanAddress: PlanEntry] = [:]
    var buckets: Set<PlanAddress> = []
    for entry in entries {
      byAddress[entry.address] = entry
      buckets.insert(PlanAddress(target: entry.target, bucket: entry.bucket, key: "", uploadID: ""))
    }
    self.byAddress = byAddress
    self.buckets = buckets
  }

  public var entries: [PlanEntry] { Array(byAddress.values) }

  public func names(target: String) -> Bool {
    buckets.contains { $0.target.unicodeScalars.elementsEqual(target.unicodeScalars) }
  }

  public func names(target: String, bucket: String) -> Bool {
    buckets.contains(PlanAddress(target: target, bucket: bucket, key: "", uploadID: ""))
  }

  public func entries(target: String, bucket: String) -> [PlanEntry] {
    byAddress.values.filter {
      $0.target.unicodeScalars.elementsEqual(target.unicodeScalars)
        && $0.bucket.unicodeScalars.elementsEqual(bucket.unicodeScalars)
    }
  }

  public enum Check: Sendable, Equatable {
    /// Not named: never a candidate for abort.
    case outside
    /// Named, but the listing says it is another upload than the one planned: kept.
    case mismatch(String)
    /// Named and the same upload: decided again under the current rules.
    case planned(PlanEntry)
  }

  /// Whether a listed upload is one the plan names. An upload id can be reused, or a server can lie about it: the
  /// one planned is the one initiated at the planned time, to the millisecond.
  public func check(_ upload: Upload) -> Check {
    let address = PlanAddress(target: upload.target, bucket: upload.bucket, key: upload.key, uploadID: upload.uploadID)
    guard let entry = byAddress[address] else { return .outside }
    guard PlanTime.milliseconds(entry.initiated) == PlanTime.milliseconds(upload.initiated) else {
      return .mismatch(
        "not the planned upload: initiated \(PlanTime.format(upload.initiated)), the plan says \(PlanTime.format(entry.initiated))"
      )
    }
    return .planned(entry)
  }

  /// Why a planned upload is not to be aborted under the rule that selects it now, or nil when the rule is the
  /// planned one.
  public static func ruleChange(planned entry: PlanEntry, selected: String?) -> String? {
    guard let selected else { return "now selected by no rule, planned under \(entry.rule)" }
    return selected == entry.rule ? nil : "now selected by rule \(selected), planned under \(entry.rule)"
  }
}

/// Times in a plan: RFC 3339 in UTC with milliseconds where there are any, compared to the millisecond (the
/// finest any provider's listing gives).
public enum PlanTime {
  public static func milliseconds(_ date: Date) -> Int64 {
    Int64((date.timeIntervalSince1970 * 1000).rounded())
  }

  public static func format(_ date: Date) -> String {
    let total = milliseconds(date)
    var seconds = total / 1000
    var fraction = total % 1000
    if fraction < 0 {
      seconds -= 1
      fraction += 1000
    }
    let whole = Timestamp.formatRFC3339(Date(timeIntervalSince1970: TimeInterval(seconds)))
    guard fraction != 0 else { return whole }
    let digits = String(fraction)
    return String(whole.dropLast()) + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
  }
}
