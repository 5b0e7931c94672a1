import Foundation
import ReaperCore

/// A part held by the sandbox: only its size and time, never data.
public struct SandboxPart: Sendable, Hashable, Codable {
  public var number: Int
  public var size: Int64
  public var lastModified: Date

  public init(number: Int, size: Int64, lastModified: Date) {
    self.number = number
    self.size = size
    self.lastModified = lastModified
  }
}

public struct SandboxUpload: Sendable, Hashable, Codable {
  public var key: String
  public var uploadID: String
  public var initiated: Date
  public var parts: [SandboxPart]
  /// The `Initiator.ID` and `Owner.ID` the S3 and CDCS listings show. nil: the dialect's usual account
  /// (`sandbox` in S3, a CAM uin in CDCS); `SandboxUpload.unnamed` (empty): the record leaves the element out.
  public var initiator: String?
  public var owner: String?

  /// An identity the listing leaves out, for tests of records that do not say whose they are.
  public static let unnamed = ""

  public init(
    key: String, uploadID: String, initiated: Date, parts: [SandboxPart] = [], initiator: String? = nil,
    owner: String? = nil
  ) {
    self.key = key
    self.uploadID = uploadID
    self.initiated = initiated
    self.parts = parts
    self.initiator = initiator
    self.owner = owner
  }

  /// The id of the uploading file the PDS dialect shows for this upload, derived from the upload id.
  public var fileID: String { SandboxIDs.make("file:" + uploadID) }

  /// When the PDS dialect says the file last changed: its newest part, or its start.
  public var updated: Date { parts.map(\.lastModified).reduce(initiated, max) }

  /// Uploads are listed by key (byte order), then by time of initiation, as S3 and CDCS do.
  static func precedes(_ lhs: SandboxUpload, _ rhs: SandboxUpload) -> Bool {
    if !lhs.key.utf8.elementsEqual(rhs.key.utf8) { return lhs.key.utf8.lexicographicallyPrecedes(rhs.key.utf8) }
    if lhs.initiated != rhs.initiated { return lhs.initiated < rhs.initiated }
    return lhs.uploadID < rhs.uploadID
  }
}

/// How a coffer's responses deviate from the tidy case: each switch is one documented CDCS quirk.
public struct CDCSQuirks: Sendable, Hashable, Codable {
  public enum InitiatedFormat: String, Sendable, Hashable, Codable {
    case ctime, rfc3339, rfc1123
  }

  /// `Wed Jan 18 16:12:38 2017`, with no zone, as the seed shows.
  public var initiatedFormat: InitiatedFormat = .ctime
  /// The zone the server writes zone-less times in, seconds east of UTC.
  public var serverZoneSeconds = 0
  /// `"IsTruncated": "false"` (the sample) instead of a JSON boolean.
  public var truncatedAsString = true
  /// `"MaxUploads": "1000"` instead of a number.
  public var maxUploadsAsString = false
  /// The sample's `Content-Type: application/xml` on a JSON body.
  public var contentType = "application/xml"
  /// At most this many uploads a page, whatever max-uploads asks: short pages that are still truncated.
  public var pageLimit: Int?
  /// `UploadID` (the table) instead of `UploadId` (the sample).
  public var uploadIDField = "UploadId"
  /// A lone `Upload` object, not an array, when a page holds one upload.
  public var singleUploadAsObject = false
  /// ListParts in the older XML page.
  public var partsAsXML = false
  /// Error bodies as COS-style XML instead of JSON.
  public var errorsAsXML = false
  /// Keys URL-encoded as asked, but no `EncodingType` said (Ceph 16 does this in S3): a key has two readings.
  public var encodingUnsaid = false

  public init() {}
}

/// A finished file in a drive (PDS status `available`), as a completed upload leaves it. The CDCS and S3
/// dialects do not show files; the PDS dialect lists them beside the uploads, and must never see them deleted.
public struct SandboxFile: Sendable, Hashable, Codable {
  public var key: String
  public var fileID: String
  public var size: Int64
  public var created: Date
  public var updated: Date

  public init(key: String, fileID: String? = nil, size: Int64, created: Date, updated: Date? = nil) {
    self.key = key
    self.fileID = fileID ?? SandboxIDs.make("available:" + key)
    self.size = size
    self.created = created
    self.updated = updated ?? created
  }
}

/// How a drive's PDS answers deviate from the tidy case.
public struct PDSQuirks: Sendable, Hashable, Codable {
  /// At most this many entries a `file/list` page, whatever `limit` asks.
  public var pageLimit: Int?
  /// At most this many parts a `list_uploaded_parts` page.
  public var partsPageLimit: Int?
  /// `file/delete` answers 202 with an `async_task_id` instead of 204.
  public var asyncDelete = false
  /// The status `NotFound.UploadId` comes with: 404 as documented, 400 as also seen.
  public var missingUploadStatus = 404
  /// File records leave out `updated_at`.
  public var omitUpdatedAt = false
  /// `next_part_number_marker` as a JSON number (the API table's type), not the opaque string of the sample.
  public var numericPartMarkers = false

  public init() {}
}

/// Ids shaped like PDS's (40 hex digits), the same for the same name every run.
public enum SandboxIDs {
  public static func make(_ name: String) -> String {
    var output = ""
    for seed: UInt64 in [0xCBF2_9CE4_8422_2325, 0x8422_2325_CBF2_9CE4, 0x9E37_79B9_7F4A_7C15] {
      var hash = seed
      for byte in name.utf8 {
        hash ^= UInt64(byte)
        hash &*= 0x100_0000_01B3
      }
      output += String(format: "%016llx", hash)
    }
    return String(output.prefix(40))
  }
}

/// Faults the sandbox injects, switched on and off while it runs.
public struct SandboxFaults: Sendable, Hashable, Codable {
  /// The next N requests get 503 ServiceUnavailable.
  public var failNext = 0
  /// The next N requests get 429 SlowDown with `Retry-After: 1`.
  public var throttleNext = 0
  /// The next N responses are cut off mid-body and the connection closed.
  public var resetNext = 0
  /// The next N list responses carry a body cut in half, with a Content-Length that matches the cut.
  public var truncateNext = 0
  /// Share of requests answered 503, at random.
  public var errorRate = 0.0
  /// Added to every response.
  public var latencyMilliseconds = 0
  /// Truncated list pages hand back the marker they were asked for, so the walk never advances.
  public var stallMarkers = false
  /// The next N list requests for a later page get the first page again (a page served twice).
  public var repeatFirstPageNext = 0
  /// Buckets that answer 403 AccessDenied.
  public var denyBuckets: [String] = []
  /// The endpoint's bucket listing (S3 ListBuckets) answers 403 AccessDenied.
  public var denyBucketListing = false
  /// Answer nothing at all (requests hang until the client gives up).
  public var hang = false
  /// PDS: every access token is answered 401 AccessTokenExpired.
  public var expireTokens = false
  /// PDS: the uploading files at these paths complete just as `file/get` asks about them, as a client
  /// finishing its upload between the reaper's listing and its cancelling would make them.
  public var completeOnGet: [String] = []

  public init() {}
}

/// A coffer (CDCS), bucket (S3) or drive (PDS, whose folders are the `/`-separated steps of the keys).
public struct SandboxBucket: Sendable, Hashable {
  public var name: String
  public var quirks: CDCSQuirks
  /// Kept sorted by `SandboxUpload.precedes`.
  public var uploads: [SandboxUpload]
  /// Finished files, seen only by the PDS dialect.
  public var files: [SandboxFile]
  public var pds: PDSQuirks
  /// What the S3 dialect answers to `GET /{bucket}?lifecycle`.
  public var lifecycle: SandboxLifecycle = .none

  public init(
    name: String, quirks: CDCSQuirks = CDCSQuirks(), uploads: [SandboxUpload], files: [SandboxFile] = [],
    pds: PDSQuirks = PDSQuirks()
  ) {
    self.name = name
    self.quirks = quirks
    self.uploads = uploads.sorted(by: SandboxUpload.precedes)
    self.files = files
    self.pds = pds
  }
}

/// A bucket's lifecycle configuration, as the S3 dialect serves it.
public enum SandboxLifecycle: Sendable, Hashable {
  /// 404 NoSuchLifecycleConfiguration, as a bucket that never had one.
  case none
  /// This document, served as it is (tests make it lie).
  case configuration(String)
  /// 403 AccessDenied: the credentials lack s3:GetLifecycleConfiguration.
  case denied
  /// 405, an answer no retry changes: a server that does not serve lifecycles.
  case failing
  /// No lifecycle (404), answered after this many milliseconds.
  case slow(milliseconds: Int)
}

/// An abort the sandbox carried out, for tests to compare with what the reaper claims. A PDS delete also
/// names the file, and an `available` file deleted (a false abort) shows with an empty upload id.
public struct SandboxAbort: Sendable, Hashable, Codable {
  public var bucket: String
  public var key: String
  public var uploadID: String
  public var fileID: String? = nil
  /// Whether a PDS delete asked to skip the recycle bin.
  public var permanently: Bool? = nil
}

/// Counters of what clients asked, so tests can check how the reaper talks to a server.
public struct SandboxRequestLog: Sendable, Hashable, Codable {
  public var total = 0
  public var listUploads = 0
  public var listBuckets = 0
  public var listParts = 0
  public var aborts = 0
  public var rejectedSignatures = 0
  /// Query parameter names ever seen on list requests.
  public var listParameterNames: Set<String> = []
  /// The headers the last accepted S3 request signed.
  public var lastSignedHeaders: [String] = []
  /// PDS: `file/list` calls for folders (`listUploads` counts those for uploading files), `file/get` calls,
  /// refused tokens, and every folder path that was listed, `/` for the root.
  public var listFolders = 0
  public var gets = 0
  public var rejectedTokens = 0
  public var listedFolders: Set<String> = []
  /// The requests that act on one upload (every one but listings), oldest first, up to `requestCap`; see
  /// `record(_:)`.
  public var requests: [SandboxLoggedRequest] = []
  public var requestsDropped = 0
  /// Uploads whose identity the hostile mode misstated on the wire (another bucket, key or upload id, or an
  /// empty one): a careful client aborts none of them.
  public var identityLies: Set<String> = []
}

// Seed files and the control endpoint give only the switches they change; the rest keep their defaults.
extension CDCSQuirks {
  public init(from decoder: Decoder) throws {
    self.init()
    let container = try decoder.container(keyedBy: CodingKeys.self)
    initiatedFormat = try container.decodeIfPresent(InitiatedFormat.self, forKey: .initiatedFormat) ?? initiatedFormat
    serverZoneSeconds = try container.decodeIfPresent(Int.self, forKey: .serverZoneSeconds) ?? serverZoneSeconds
    truncatedAsString = try container.decodeIfPresent(Bool.self, forKey: .truncatedAsString) ?? truncatedAsString
    maxUploadsAsString = try container.decodeIfPresent(Bool.self, forKey: .maxUploadsAsString) ?? maxUploadsAsString
    contentType = try container.decodeIfPresent(String.self, forKey: .contentType) ?? contentType
    pageLimit = try container.decodeIfPresent(Int.self, forKey: .pageLimit) ?? pageLimit
    uploadIDField = try container.decodeIfPresent(String.self, forKey: .uploadIDField) ?? uploadIDField
    singleUploadAsObject =
      try container.decodeIfPresent(Bool.self, forKey: .singleUploadAsObject) ?? singleUploadAsObject
    partsAsXML = try container.decodeIfPresent(Bool.self, forKey: .partsAsXML) ?? partsAsXML
    errorsAsXML = try container.decodeIfPresent(Bool.self, forKey: .errorsAsXML) ?? errorsAsXML
  }
}

extension SandboxFaults {
  public init(from decoder: Decoder) throws {
    self.init()
    let container = try decoder.container(keyedBy: CodingKeys.self)
    failNext = try container.decodeIfPresent(Int.self, forKey: .failNext) ?? 0
    throttleNext = try container.decodeIfPresent(Int.self, forKey: .throttleNext) ?? 0
    resetNext = try container.decodeIfPresent(Int.self, forKey: .resetNext) ?? 0
    truncateNext = try container.decodeIfPresent(Int.self, forKey: .truncateNext) ?? 0
    errorRate = try container.decodeIfPresent(Double.self, forKey: .errorRate) ?? 0
    latencyMilliseconds = try container.decodeIfPresent(Int.self, forKey: .latencyMilliseconds) ?? 0
    stallMarkers = try container.decodeIfPresent(Bool.self, forKey: .stallMarkers) ?? false
    repeatFirstPageNext = try container.decodeIfPresent(Int.self, forKey: .repeatFirstPageNext) ?? 0
    denyBuckets = try container.decodeIfPresent([String].self, forKey: .denyBuckets) ?? []
    denyBucketListing = try container.decodeIfPresent(Bool.self, forKey: .denyBucketListing) ?? false
    hang = try container.decodeIfPresent(Bool.self, forKey: .hang) ?? false
    expireTokens = try container.decodeIfPresent(Bool.self, forKey: .expireTokens) ?? false
    completeOnGet = try container.decodeIfPresent([String].self, forKey: .completeOnGet) ?? []
  }
}

extension PDSQuirks {
  public init(from decoder: Decoder) throws {
    self.init()
    let container = try decoder.container(keyedBy: CodingKeys.self)
    pageLimit = try container.decodeIfPresent(Int.self, forKey: .pageLimit) ?? pageLimit
    partsPageLimit = try container.decodeIfPresent(Int.self, forKey: .partsPageLimit) ?? partsPageLimit
    asyncDelete = try container.decodeIfPresent(Bool.self, forKey: .asyncDelete) ?? asyncDelete
    missingUploadStatus =
      try container.decodeIfPresent(Int.self, forKey: .missingUploadStatus) ?? missingUploadStatus
    omitUpdatedAt = try container.decodeIfPresent(Bool.self, forKey: .omitUpdatedAt) ?? omitUpdatedAt
    numericPartMarkers = try container.decodeIfPresent(Bool.self, forKey: .numericPartMarkers) ?? numericPartMarkers
  }
}

/// Lookups by binary search over the sorted uploads, so a bucket of millions answers each request in
/// logarithmic time rather than a scan.
extension SandboxBucket {
  /// The first position where `isBefore` turns false; `isBefore` must hold for a prefix of the sorted uploads.
  func partitionPoint(_ isBefore: (SandboxUpload) -> Bool) -> Int {
    var low = 0
    var high = uploads.count
    while low < high {
      let middle = low + (high - low) / 2
      if isBefore(uploads[middle]) { low = middle + 1 } else { high = middle }
    }
    return low
  }

  func firstIndex(keyAtLeast key: String) -> Int {
    partitionPoint { $0.key.utf8.lexicographicallyPrecedes(key.utf8) }
  }

  func firstIndex(keyAbove key: String) -> Int {
    partitionPoint { !key.utf8.lexicographicallyPrecedes($0.key.utf8) }
  }

  func firstIndex(after upload: SandboxUpload) -> Int {
    partitionPoint { !SandboxUpload.precedes(upload, $0) }
  }

  /// Where the upload with this id and key is. `hint`, the upload as last served, finds it by binary search;
  /// when the upload has changed or gone since, a scan settles it.
  func index(of uploadID: String, key: String, hint: SandboxUpload?) -> Int? {
    if let hint, hint.uploadID == uploadID, hint.key == key {
      let at = partitionPoint { SandboxUpload.precedes($0, hint) }
      if at < uploads.count, uploads[at].uploadID == uploadID, uploads[at].key == key { return at }
    }
    return uploads.firstIndex { $0.uploadID == uploadID && $0.key == key }
  }

  /// Up to `limit` uploads from `start` whose keys begin with `prefix`, and whether more such uploads follow.
  func page(from start: Int, prefix: String, limit: Int) -> (uploads: ArraySlice<SandboxUpload>, truncated: Bool) {
    var end = start
    while end < uploads.count, end - start < limit, uploads[end].key.utf8.starts(with: prefix.utf8) { end += 1 }
    let truncated = end < uploads.count && uploads[end].key.utf8.starts(with: prefix.utf8)
    return (uploads[start..<end], truncated)
  }
}
