import Foundation
import ReaperCore

/// What the sandbox serves: buckets of uploads and the credentials it accepts. Read from a JSON seed file,
/// or generated as the built-in demo set.
public struct SandboxSeed: Sendable {
  public var buckets: [SandboxBucket]
  /// access key id → secret key.
  public var credentials: [String: String]
  /// Bearer tokens for the PDS dialect.
  public var accessTokens: [String]

  public init(buckets: [SandboxBucket], credentials: [String: String], accessTokens: [String] = []) {
    self.buckets = buckets
    self.credentials = credentials
    self.accessTokens = accessTokens
  }

  /// The demo credentials. They guard nothing: the sandbox listens on 127.0.0.1 and holds no data.
  public static let demoAccessKey = "AKIDSANDBOXDEMO"
  public static let demoSecretKey = "sandbox-demo-secret"
  public static let demoAccessToken = "sandbox-demo-access-token"

  public var uploadCount: Int { buckets.reduce(0) { $0 + $1.uploads.count } }

  // MARK: seed files

  /// The seed file format (times may be absolute, or an `age` before the moment the sandbox starts):
  /// ```json
  /// {"credentials": [{"access_key_id": "AK", "secret_access_key": "SK"}], "access_tokens": ["pds-token"],
  ///  "buckets": [{"name": "demo-1250000000", "quirks": {"initiated_format": "ctime", "page_limit": 7},
  ///    "pds_quirks": {"page_limit": 2, "parts_page_limit": 3},
  ///    "uploads": [{"key": "tmp/a.bin", "upload_id": "optional", "age": "36h", "initiator": "optional",
  ///                 "parts": [{"size": 5242880, "age": "30h"}]}],
  ///    "files": [{"key": "photos/done.jpg", "size": 1024, "age": "90d"}]}]}
  /// ```
  public static func load(path: String, now: Date) throws -> SandboxSeed {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw SeedError("\(path): cannot read the seed file")
    }
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    let file: SeedFile
    do {
      file = try decoder.decode(SeedFile.self, from: data)
    } catch {
      throw SeedError("\(path): not a sandbox seed: \(error)")
    }
    var credentials: [String: String] = [:]
    for pair in file.credentials ?? [] { credentials[pair.accessKeyId] = pair.secretAccessKey }
    if credentials.isEmpty { credentials[demoAccessKey] = demoSecretKey }
    let tokens = file.accessTokens ?? [demoAccessToken]
    var buckets: [SandboxBucket] = []
    var counter = 0
    for bucket in file.buckets {
      var uploads: [SandboxUpload] = []
      for upload in bucket.uploads {
        counter += 1
        let initiated = try time(upload.initiated, age: upload.age, now: now, what: "\(bucket.name)/\(upload.key)")
        var parts: [SandboxPart] = []
        for (index, part) in (upload.parts ?? []).enumerated() {
          let modified = try time(part.lastModified, age: part.age, now: now, what: "part of \(upload.key)")
          parts.append(SandboxPart(number: part.number ?? index + 1, size: part.size, lastModified: modified))
        }
        uploads.append(
          SandboxUpload(
            key: upload.key, uploadID: upload.uploadId ?? uploadID(counter), initiated: initiated, parts: parts,
            initiator: upload.initiator, owner: upload.owner))
      }
      var files: [SandboxFile] = []
      for file in bucket.files ?? [] {
        let created = try time(file.created, age: file.age, now: now, what: "\(bucket.name)/\(file.key)")
        files.append(SandboxFile(key: file.key, size: file.size ?? 0, created: created))
      }
      buckets.append(
        SandboxBucket(
          name: bucket.name, quirks: bucket.quirks ?? CDCSQuirks(), uploads: uploads, files: files,
          pds: bucket.pdsQuirks ?? PDSQuirks()))
    }
    return SandboxSeed(buckets: buckets, credentials: credentials, accessTokens: tokens)
  }

  private static func time(_ text: String?, age: String?, now: Date, what: String) throws -> Date {
    if let text {
      guard let date = Timestamp.parseRFC3339(text) else { throw SeedError("\(what): \"\(text)\" is not RFC 3339") }
      return date
    }
    guard let age else { return now }
    do {
      return now.addingTimeInterval(-TimeInterval(try TimeSpan.parse(age).seconds))
    } catch {
      throw SeedError("\(what): age \(error.message)")
    }
  }

  struct SeedError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
  }

  struct SeedFile: Decodable {
    struct Credential: Decodable {
      var accessKeyId: String
      var secretAccessKey: String
    }
    struct Bucket: Decodable {
      var name: String
      var quirks: CDCSQuirks?
      var pdsQuirks: PDSQuirks?
      var uploads: [Upload]
      var files: [File]?
    }
    /// A finished PDS file.
    struct File: Decodable {
      var key: String
      var size: Int64?
      var created: String?
      var age: String?
    }
    struct Upload: Decodable {
      var key: String
      var uploadId: String?
      var initiated: String?
      var age: String?
      var parts: [Part]?
      /// `Initiator.ID` and `Owner.ID`; absent: the dialect's usual account, "": left out of the listing.
      var initiator: String?
      var owner: String?
    }
    struct Part: Decodable {
      var number: Int?
      var size: Int64
      var lastModified: String?
      var age: String?
    }
    var credentials: [Credential]?
    var accessTokens: [String]?
    var buckets: [Bucket]
  }

  /// Upload ids shaped like the seed's: long hex strings.
  static func uploadID(_ counter: Int) -> String {
    var generator = DemoRandom(seed: UInt64(counter))
    return (0..<5).map { _ in String(format: "%016llx", generator.next()) }.joined().prefix(72).description
  }

  // MARK: the demo set

  /// A few hundred uploads of mixed ages, prefixes and sizes in two coffers, the same every run
  /// (ages count back from `now`).
  public static func demo(now: Date) -> SandboxSeed {
    var random = DemoRandom(seed: 20_261_124)
    let hour: TimeInterval = 3600
    let day = 24 * hour
    struct Shape {
      var prefix: String
      var count: Int
      var ages: ClosedRange<TimeInterval>
      var idle: ClosedRange<TimeInterval>?
    }
    let shapes: [(bucket: String, shape: Shape)] = [
      (
        "demo-1250000000",
        Shape(prefix: "tmp/", count: 60, ages: (2 * hour)...(20 * day), idle: (1 * hour)...(10 * day))
      ),
      ("demo-1250000000", Shape(prefix: "tmp/keep/", count: 10, ages: (3 * day)...(30 * day), idle: nil)),
      (
        "demo-1250000000",
        Shape(prefix: "uploads/2026/", count: 80, ages: (10 * 60)...(12 * day), idle: (5 * 60)...(6 * day))
      ),
      ("demo-1250000000", Shape(prefix: "上传/视频 ", count: 20, ages: (1 * day)...(40 * day), idle: nil)),
      (
        "media-1250000000",
        Shape(prefix: "video/raw/", count: 70, ages: (30 * 60)...(15 * day), idle: (10 * 60)...(9 * day))
      ),
      (
        "media-1250000000",
        Shape(prefix: "backups/nightly/", count: 60, ages: (6 * hour)...(25 * day), idle: (1 * hour)...(20 * day))
      ),
    ]
    var byBucket: [String: [SandboxUpload]] = [:]
    var counter = 0
    for (bucket, shape) in shapes {
      for index in 0..<shape.count {
        counter += 1
        let age = random.uniform(shape.ages)
        let initiated = now.addingTimeInterval(-age)
        // Some keys get a second upload, as retried clients leave behind.
        let name = "\(shape.prefix)file-\(index / 2 + 1)\(index % 7 == 0 ? " v2+final" : "").bin"
        var parts: [SandboxPart] = []
        if let idle = shape.idle {
          let count = Int(random.next() % 6)
          let newest = min(age, random.uniform(idle))
          for number in 1...max(1, count) where count > 0 {
            let size = Int64(1 + random.next() % 64) << 20
            let modified = now.addingTimeInterval(-(newest + TimeInterval(count - number) * 60))
            parts.append(SandboxPart(number: number, size: size, lastModified: modified))
          }
        }
        byBucket[bucket, default: []].append(
          SandboxUpload(key: name, uploadID: uploadID(counter), initiated: initiated, parts: parts))
      }
    }
    var media = CDCSQuirks()
    media.initiatedFormat = .rfc3339
    media.truncatedAsString = false
    media.maxUploadsAsString = true
    media.uploadIDField = "UploadID"
    media.pageLimit = 25
    var demo = CDCSQuirks()
    demo.pageLimit = 40
    return SandboxSeed(
      buckets: [
        SandboxBucket(name: "demo-1250000000", quirks: demo, uploads: byBucket["demo-1250000000"] ?? []),
        SandboxBucket(name: "media-1250000000", quirks: media, uploads: byBucket["media-1250000000"] ?? []),
        demoDrive(now: now),
      ],
      credentials: [demoAccessKey: demoSecretKey], accessTokens: [demoAccessToken])
  }

  /// The demo's PDS drive id.
  public static let demoDriveID = "9001"

  /// A PDS drive of nested folders: uploads abandoned and alive, finished files beside them (some of them
  /// old, which nothing may touch), and folders that no demo rule reaches, which the walk never enters.
  static func demoDrive(now: Date) -> SandboxBucket {
    var random = DemoRandom(seed: 9001)
    let hour: TimeInterval = 3600
    let day = 24 * hour
    let shapes: [(folder: String, name: String, count: Int, ages: ClosedRange<TimeInterval>, idle: TimeInterval)] = [
      ("相册/2026/春节 视频/", "IMG_", 24, (1 * hour)...(6 * day), 3 * day),
      ("相册/2026/旅行 Travel/", "DSC ", 16, (1 * hour)...(6 * day), 3 * day),
      ("tmp/", "scratch-", 12, (2 * hour)...(3 * day), 2 * day),
      ("tmp/keep/", "pinned-", 3, (3 * day)...(9 * day), 9 * day),
      ("backups/db/2026-11/", "dump-", 10, (1 * day)...(30 * day), 30 * day),
      ("文档/报告 2026/", "季度报告 ", 6, (1 * day)...(20 * day), 20 * day),
      ("", "未命名 upload ", 2, (2 * day)...(4 * day), 4 * day),
    ]
    var uploads: [SandboxUpload] = []
    var files: [SandboxFile] = []
    var counter = 0
    for shape in shapes {
      for index in 0..<shape.count {
        counter += 1
        let age = random.uniform(shape.ages)
        let newest = min(age, random.uniform((0.5 * hour)...shape.idle))
        let count = Int(random.next() % 5)
        let parts = (0..<count).map { number in
          SandboxPart(
            number: number + 1, size: Int64(1 + random.next() % 16) << 20,
            lastModified: now.addingTimeInterval(-(newest + TimeInterval(count - 1 - number) * 60)))
        }
        uploads.append(
          SandboxUpload(
            key: "\(shape.folder)\(shape.name)\(1000 + index).bin", uploadID: "pds-" + uploadID(90_000 + counter),
            initiated: now.addingTimeInterval(-age), parts: parts))
        // Finished files live beside the uploads, some older than any rule's max_age.
        if index % 3 == 0 {
          files.append(
            SandboxFile(
              key: "\(shape.folder)\(shape.name)\(5000 + index) done.bin", size: Int64(1 + random.next() % 64) << 20,
              created: now.addingTimeInterval(-random.uniform((1 * day)...(400 * day)))))
        }
      }
    }
    var quirks = PDSQuirks()
    quirks.pageLimit = 10
    quirks.partsPageLimit = 3
    return SandboxBucket(name: demoDriveID, uploads: uploads, files: files, pds: quirks)
  }
}

/// A small seeded generator, so the demo is the same every run.
struct DemoRandom: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var value = state
    value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
    value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
    return value ^ (value >> 31)
  }

  mutating func uniform(_ range: ClosedRange<TimeInterval>) -> TimeInterval {
    range.lowerBound + (range.upperBound - range.lowerBound) * (Double(next() >> 11) / Double(1 << 53))
  }
}
