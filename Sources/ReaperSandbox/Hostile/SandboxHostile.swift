import Foundation
import ReaperCore

/// Misbehaviours the sandbox can show over the wire, on top of its true state: the store keeps the truth, and
/// only what it says lies. Each lie is one a careful client can detect (inconsistent, implausible or ambiguous
/// data), so a test can demand that the reaper keeps every upload it was lied to about, and still aborts the
/// clearly stale ones beside them. Lies no client could see through are left out on purpose: a server that
/// consistently omits the newest part from every ListParts, or shifts every time by the same plausible amount,
/// looks exactly like an honest server with other data.
public struct SandboxHostility: Sendable, Hashable, Codable {
  public enum Dialect: String, Sendable, Hashable, Codable, CaseIterable {
    case cdcs, s3, pds
  }

  public enum Lie: String, Sendable, Hashable, Codable, CaseIterable {
    /// Every part's LastModified is garbage (PDS: the file's `updated_at`).
    case partTimeMalformed = "part-time-malformed"
    /// Parts come without LastModified (PDS: the uploading file without `updated_at`).
    case partTimeMissing = "part-time-missing"
    /// Every part's LastModified is in year 1 (PDS: `updated_at`).
    case partTimeImplausible = "part-time-implausible"
    /// The upload record's Key is empty (PDS: the file's `name`).
    case emptyKey = "empty-key"
    /// The upload record's UploadId is empty (PDS: `file_id` or `upload_id`, by turns).
    case emptyUploadID = "empty-upload-id"
    /// A listing names another bucket or coffer (PDS: an entry with another `drive_id` or `parent_file_id`).
    case otherBucket = "other-bucket"
    /// A ListParts reply is about another key and upload id, with that upload's old, large parts (PDS: another
    /// `file_id` and `upload_id`).
    case otherUploadParts = "other-upload-parts"
    /// The `Date` header is days ahead of the true clock.
    case dateAhead = "date-ahead"
    /// The `Date` header is days behind the true clock.
    case dateBehind = "date-behind"
    /// Initiated (PDS: `created_at`) at the Unix epoch.
    case initiatedEpoch = "initiated-epoch"
    /// Initiated (PDS: `created_at`) at `0001-01-01T00:00:00Z`.
    case initiatedYearOne = "initiated-year-one"
    /// S3 and PDS: times without a zone, written in local time west of UTC (`localZoneSeconds`).
    case zonelessLocal = "zoneless-local"
    /// PDS: `file/delete` completes the upload in the true state (as its client finishing just then would) and
    /// answers 503 or 429 with Retry-After, so a blind retry deletes a finished file.
    case deleteRacesCompletion = "delete-races-completion"
    /// One request in `slowDownEvery` answered 503 SlowDown, deterministically, whatever it asked.
    case slowDown = "slow-down"
    /// A part's size is Int64.max, far over any provider's largest part, so sums overflow; a second part's is
    /// negative.
    case partSizeImplausible = "part-size-implausible"
    /// Part numbers beyond 10000, the documented limit.
    case partNumberOutOfRange = "part-number-out-of-range"
    /// Every part last modified a month before the upload was initiated (PDS: `updated_at` before
    /// `created_at`), which cannot be.
    case partBeforeInitiated = "part-before-initiated"
    /// The newest part is left out of every other ListParts reply, so it vanishes and reappears between the
    /// decision and the recheck.
    case partsFlicker = "parts-flicker"
    /// The upload is listed a second time under another key, with the same upload id (PDS: the same file id)
    /// and a start a year earlier.
    case duplicateUploadID = "duplicate-upload-id"
    /// The Key carries a trailing `..` segment (PDS: the name is `..`), so a client that normalizes paths
    /// addresses the folder or bucket above the upload.
    case dotSegmentKey = "dot-segment-key"
    /// The last page of a listing says it is truncated, and its next marker points back to its own first
    /// upload, so the walk is served the rest of the page again.
    case markerBackwards = "marker-backwards"
    /// S3: as Ceph before 17 does, the listing names the requester (`requester`) as every upload's Initiator and
    /// Owner, and ListParts names no Initiator and an empty Owner, so only a rule for the requester is fooled.
    case identityOfRequester = "identity-of-requester"

    /// The dialects where this lie makes sense.
    public var dialects: Set<Dialect> {
      switch self {
      case .zonelessLocal: [.s3, .pds]
      case .deleteRacesCompletion: [.pds]
      case .identityOfRequester: [.s3]
      default: Set(Dialect.allCases)
      }
    }
  }

  /// The lies switched on.
  public var lies: Set<Lie> = []
  /// The share of records (or responses) each lie applies to, chosen by a hash of `seed`, the lie and the
  /// record, so the same seed always picks the same records.
  public var rate = 0.5
  public var seed: UInt64 = 0
  /// When not empty, the lies about uploads fall on exactly these upload ids, whatever `rate` says; the lies
  /// about whole responses (the Date header) still follow `rate`.
  public var uploads: Set<String> = []
  /// `slow-down`: every this-many-th request fails.
  public var slowDownEvery = 7
  /// `date-ahead` and `date-behind`: how far the Date header is off.
  public var skewSeconds = 3 * 86_400
  /// `zoneless-local`: the zone the zone-less times are written in, seconds east of UTC.
  public var localZoneSeconds = -8 * 3600
  /// `identity-of-requester`: the id the listing gives as everyone's.
  public static let requester = "sandbox-requester"

  public init(lies: Set<Lie> = [], rate: Double = 0.5, seed: UInt64 = 0) {
    self.lies = lies
    self.rate = rate
    self.seed = seed
  }

  /// Names as the CLI takes them, comma-separated: `empty-key,date-ahead`. `all` switches every lie on.
  public static func parse(names: String) throws -> Set<Lie> {
    var lies: Set<Lie> = []
    for name in names.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
      if name == "all" {
        lies.formUnion(Lie.allCases)
      } else if let lie = Lie(rawValue: name) {
        lies.insert(lie)
      } else {
        throw UnknownLie(name: name)
      }
    }
    return lies
  }

  public struct UnknownLie: Error, CustomStringConvertible {
    public var name: String
    public var description: String {
      "unknown hostile behaviour \"\(name)\"; known: \(Lie.allCases.map(\.rawValue).joined(separator: ", ")), all"
    }
  }

  /// Whether `lie` is on for this record or response: a deterministic draw at `rate`.
  public func applies(_ lie: Lie, to subject: String) -> Bool {
    guard lies.contains(lie) else { return false }
    if !uploads.isEmpty, !subject.hasPrefix("response:") {
      let id = subject.drop { $0 != ":" }
      return uploads.contains(subject) || (!id.isEmpty && uploads.contains(String(id.dropFirst())))
    }
    if rate >= 1 { return true }
    if rate <= 0 { return false }
    var hash = seed ^ 0xCBF2_9CE4_8422_2325
    for byte in Array(lie.rawValue.utf8) + [0] + Array(subject.utf8) {
      hash ^= UInt64(byte)
      hash &*= 0x100_0000_01B3
    }
    // SplitMix64's finalizer, so neighbouring subjects draw independently.
    hash = (hash ^ (hash >> 30)) &* 0xBF58_476D_1CE4_E5B9
    hash = (hash ^ (hash >> 27)) &* 0x94D0_49BB_1331_11EB
    hash ^= hash >> 31
    return Double(hash >> 11) / Double(UInt64(1) << 53) < rate
  }
}

extension SandboxHostility {
  public init(from decoder: Decoder) throws {
    self.init()
    let container = try decoder.container(keyedBy: CodingKeys.self)
    lies = try container.decodeIfPresent(Set<Lie>.self, forKey: .lies) ?? []
    rate = try container.decodeIfPresent(Double.self, forKey: .rate) ?? rate
    seed = try container.decodeIfPresent(UInt64.self, forKey: .seed) ?? seed
    uploads = try container.decodeIfPresent(Set<String>.self, forKey: .uploads) ?? []
    slowDownEvery = max(2, try container.decodeIfPresent(Int.self, forKey: .slowDownEvery) ?? slowDownEvery)
    skewSeconds = try container.decodeIfPresent(Int.self, forKey: .skewSeconds) ?? skewSeconds
    localZoneSeconds = try container.decodeIfPresent(Int.self, forKey: .localZoneSeconds) ?? localZoneSeconds
  }
}

/// A request as the log keeps it: enough to tell what it addressed.
public struct SandboxLoggedRequest: Sendable, Hashable, Codable {
  public var method: String
  /// Still percent-encoded, as sent.
  public var path: String
  public var query: String
  /// PDS: the JSON body, which names the file; cut to 512 bytes.
  public var body: String

  public init(method: String, path: String, query: String, body: String) {
    self.method = method
    self.path = path
    self.query = query
    self.body = body
  }
}

/// A time as it goes over the wire: the true one, formatted the dialect's way, or a lie.
enum WireTime {
  case date(Date)
  case text(String)
  case missing

  static let yearOne = Date(timeIntervalSince1970: -62_135_596_800)
  static let epoch = Date(timeIntervalSince1970: 0)
}

/// An upload record as a listing shows it.
struct WireUpload {
  var key: String
  var uploadID: String
  var initiated: WireTime
  /// PDS: what the file's `updated_at`, `file_id`, `drive_id` and `parent_file_id` say; nil for the truth.
  var updated: WireTime
  var fileID: String?
  var driveID: String?
  var parentID: String?
  /// S3, CDCS: the `Initiator.ID` and `Owner.ID` to show; nil for the dialect's usual account, empty for none.
  var initiator: String? = nil
  var owner: String? = nil
}

struct WirePart {
  var number: Int
  var size: Int64
  var lastModified: WireTime
}

/// A parts reply as it goes over the wire: whom it claims to be about, and the parts.
struct WireParts {
  var bucket: String
  var key: String
  var uploadID: String
  var fileID: String
  var parts: [WirePart]
}

extension SandboxHostility {
  /// A time written in `localZoneSeconds` without a zone, as a misconfigured server would.
  func zoneless(_ date: Date) -> String {
    String(Timestamp.formatRFC3339(date.addingTimeInterval(TimeInterval(localZoneSeconds))).dropLast())
  }

  /// What a listing page says about `uploads`.
  func listed(_ uploads: some Sequence<SandboxUpload>, dialect: Dialect) -> [WireUpload] {
    var result: [WireUpload] = []
    for upload in uploads {
      let id = upload.uploadID
      var shown = WireUpload(
        key: upload.key, uploadID: id, initiated: .date(upload.initiated), updated: .date(upload.updated),
        initiator: upload.initiator, owner: upload.owner)
      if applies(.emptyKey, to: id) { shown.key = "" }
      if applies(.dotSegmentKey, to: id) { shown.key = dialect == .pds ? ".." : upload.key + "/.." }
      if applies(.emptyUploadID, to: id) {
        if dialect == .pds, applies(.emptyUploadID, to: "file:" + id) { shown.fileID = "" } else { shown.uploadID = "" }
      }
      if applies(.initiatedEpoch, to: id) { shown.initiated = .date(WireTime.epoch) }
      if applies(.initiatedYearOne, to: id) {
        // CDCS writes ctime, whose year 1 a decoder may refuse outright; its RFC 3339 form is read as a time.
        shown.initiated = dialect == .cdcs ? .text("0001-01-01T00:00:00Z") : .date(WireTime.yearOne)
      }
      if dialect != .cdcs, applies(.zonelessLocal, to: id) {
        shown.initiated = .text(zoneless(upload.initiated))
        shown.updated = .text(zoneless(upload.updated))
      }
      if dialect == .pds {
        if applies(.partTimeMalformed, to: id) { shown.updated = .text("not-a-time") }
        if applies(.partTimeMissing, to: id) { shown.updated = .missing }
        if applies(.partTimeImplausible, to: id) { shown.updated = .date(WireTime.yearOne) }
        if applies(.partBeforeInitiated, to: id) {
          shown.updated = .date(upload.initiated.addingTimeInterval(-30 * 86_400))
        }
        if applies(.otherBucket, to: id) {
          if applies(.otherBucket, to: "parent:" + id) {
            shown.parentID = "elsewhere-folder"
          } else {
            shown.driveID = "elsewhere-drive"
          }
        }
      }
      result.append(shown)
      if applies(.duplicateUploadID, to: id) {
        var twin = shown
        twin.key = dialect == .pds ? "twin-of-" + PDSDrive.split(upload.key).name : upload.key + ".twin"
        twin.initiated = .date(upload.initiated.addingTimeInterval(-365 * 86_400))
        result.append(twin)
      }
    }
    return result
  }

  /// `marker-backwards`: the upload a complete page's next marker points back to, when the lie falls on it.
  func markerBackwards(_ page: some Collection<SandboxUpload>, truncated: Bool) -> SandboxUpload? {
    guard !truncated, let first = page.first, applies(.markerBackwards, to: "marker:" + first.uploadID) else {
      return nil
    }
    return first
  }

  /// The bucket name a listing or parts reply echoes.
  func echoedBucket(_ name: String, subject: String) -> String {
    applies(.otherBucket, to: "page:" + subject) ? name + "-elsewhere" : name
  }

  /// What a parts reply says about `upload`. `call` counts the replies about it before this one.
  func parts(of upload: SandboxUpload, page: some Sequence<SandboxPart>, call: Int, bucket: String) -> WireParts {
    let id = upload.uploadID
    var parts = page.map { WirePart(number: $0.number, size: $0.size, lastModified: .date($0.lastModified)) }
    if applies(.partsFlicker, to: id), call % 2 == 0, !parts.isEmpty {
      let newest = parts.indices.max { lhs, rhs in
        upload.parts.first { $0.number == parts[lhs].number }!.lastModified
          < upload.parts.first { $0.number == parts[rhs].number }!.lastModified
      }!
      parts.remove(at: newest)
    }
    for index in parts.indices {
      if applies(.partTimeMalformed, to: id) { parts[index].lastModified = .text("not-a-time") }
      if applies(.partTimeMissing, to: id) { parts[index].lastModified = .missing }
      if applies(.partTimeImplausible, to: id) { parts[index].lastModified = .date(WireTime.yearOne) }
      if applies(.partBeforeInitiated, to: id) {
        parts[index].lastModified = .date(upload.initiated.addingTimeInterval(-30 * 86_400))
      }
      if case .date(let date) = parts[index].lastModified, applies(.zonelessLocal, to: id) {
        parts[index].lastModified = .text(zoneless(date))
      }
      if applies(.partNumberOutOfRange, to: id) { parts[index].number += 10_000 }
    }
    if applies(.partSizeImplausible, to: id), !parts.isEmpty {
      parts[0].size = Int64.max
      if parts.count > 1 { parts[1].size = -1 }
    }
    var reply = WireParts(
      bucket: echoedBucket(bucket, subject: id), key: upload.key, uploadID: id, fileID: upload.fileID, parts: parts)
    if applies(.otherUploadParts, to: id) {
      // Another upload's parts: a year idle and a GiB larger, which would make a fresh upload look stale.
      reply.key = upload.key + ".other"
      reply.uploadID = "other-" + id
      reply.fileID = SandboxIDs.make("other:" + upload.fileID)
      let old = upload.initiated.addingTimeInterval(-365 * 86_400)
      reply.parts =
        (upload.parts.isEmpty ? [SandboxPart(number: 1, size: 0, lastModified: old)] : upload.parts).map {
          WirePart(number: $0.number, size: $0.size + (1 << 30), lastModified: .date(old))
        }
    }
    return reply
  }

  /// The Date header of a response: the true clock, or days off.
  func date(_ now: Date, response: Int) -> Date {
    if applies(.dateAhead, to: "response:\(response)") { return now.addingTimeInterval(TimeInterval(skewSeconds)) }
    if applies(.dateBehind, to: "response:\(response)") { return now.addingTimeInterval(-TimeInterval(skewSeconds)) }
    return now
  }
}
