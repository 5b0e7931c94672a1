import Foundation
import ReaperCore

/// One drive as PDS shows it: folders derived from the keys, each with an id, and its entries in name order.
struct PDSDrive {
  enum Entry {
    case upload(SandboxUpload)
    case file(SandboxFile)
    /// Its path from the root, ending in `/`.
    case folder(String)
  }

  let bucket: SandboxBucket
  var name: String { bucket.name }
  /// Folder path → id, and back.
  let folderIDs: [String: String]
  let folderPaths: [String: String]

  init(_ bucket: SandboxBucket) {
    self.bucket = bucket
    var ids: [String: String] = [:]
    for key in bucket.uploads.map(\.key) + bucket.files.map(\.key) {
      var path = ""
      for step in Self.steps(key).dropLast() {
        path += step + "/"
        if ids[path] == nil { ids[path] = SandboxIDs.make("folder:\(bucket.name)/\(path)") }
      }
    }
    folderIDs = ids
    folderPaths = Dictionary(ids.map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
  }

  static func steps(_ key: String) -> [String] {
    key.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
  }

  /// The folder path a key or folder path sits in, and its own name.
  static func split(_ path: String) -> (parent: String, name: String) {
    let steps = steps(path)
    let parent = steps.dropLast().map { $0 + "/" }.joined()
    return (parent, steps.last ?? "")
  }

  func path(ofFolder id: String) -> String? { id == "root" ? "" : folderPaths[id] }

  func folderID(_ path: String) -> String { path.isEmpty ? "root" : folderIDs[path] ?? "root" }

  func entry(fileID: String) -> Entry? {
    if let upload = bucket.uploads.first(where: { $0.fileID == fileID }) { return .upload(upload) }
    if let file = bucket.files.first(where: { $0.fileID == fileID }) { return .file(file) }
    return folderPaths[fileID].map(Entry.folder)
  }

  /// A folder's direct children, uploading files or the rest, ordered by name bytes and then id.
  func children(of folder: String, uploading: Bool) -> [(name: String, id: String, entry: Entry)] {
    var result: [(name: String, id: String, entry: Entry)] = []
    if uploading {
      for upload in bucket.uploads where Self.split(upload.key).parent == folder {
        result.append((Self.split(upload.key).name, upload.fileID, .upload(upload)))
      }
    } else {
      for file in bucket.files where Self.split(file.key).parent == folder {
        result.append((Self.split(file.key).name, file.fileID, .file(file)))
      }
      for (path, id) in folderIDs where Self.split(path).parent == folder {
        result.append((Self.split(path).name, id, .folder(path)))
      }
    }
    return result.sorted { Self.precedes(($0.name, $0.id), ($1.name, $1.id)) }
  }

  static func precedes(_ lhs: (String, String), _ rhs: (String, String)) -> Bool {
    if !lhs.0.utf8.elementsEqual(rhs.0.utf8) { return lhs.0.utf8.lexicographicallyPrecedes(rhs.0.utf8) }
    return lhs.1.utf8.lexicographicallyPrecedes(rhs.1.utf8)
  }

  /// - Parameter shown: what a hostile server says about an uploading file instead of the truth.
  func itemJSON(_ entry: Entry, omitUpdatedAt: Bool, shown: WireUpload? = nil) -> String {
    let fileID: String
    let path: String
    var fields: [String] = []
    switch entry {
    case .upload(let upload):
      fileID = shown?.fileID ?? upload.fileID
      path = upload.key
      fields = [
        "\"type\":\"file\"", "\"status\":\"uploading\"",
        "\"upload_id\":\(JSONString.literal(shown?.uploadID ?? upload.uploadID))",
        "\"size\":\(upload.parts.reduce(0) { $0 + $1.size })", "\"content_type\":\"application/octet-stream\"",
      ]
      let created = SandboxStore.jsonField("created_at", shown?.initiated ?? .date(upload.initiated), Self.time)
      let updated = SandboxStore.jsonField("updated_at", shown?.updated ?? .date(upload.updated), Self.time)
      fields += [created, omitUpdatedAt ? "" : updated].filter { !$0.isEmpty }.map { String($0.dropLast()) }
    case .file(let file):
      fileID = file.fileID
      path = file.key
      fields = [
        "\"type\":\"file\"", "\"status\":\"available\"", "\"size\":\(file.size)",
        "\"content_type\":\"application/octet-stream\"", "\"created_at\":\"\(Self.time(file.created))\"",
      ]
      if !omitUpdatedAt { fields.append("\"updated_at\":\"\(Self.time(file.updated))\"") }
    case .folder(let folder):
      fileID = folderID(folder)
      path = folder
      fields = [
        "\"type\":\"folder\"", "\"status\":\"available\"", "\"created_at\":\"2020-01-01T00:00:00.000Z\"",
        "\"updated_at\":\"2020-01-01T00:00:00.000Z\"",
      ]
    }
    let parent = Self.split(path).parent
    var name = Self.split(path).name
    var parentID = folderID(parent)
    var driveID = bucket.name
    if let shown {
      if shown.key != path { name = shown.key }
      parentID = shown.parentID ?? parentID
      driveID = shown.driveID ?? driveID
    }
    let common = [
      "\"drive_id\":\(JSONString.literal(driveID))", "\"domain_id\":\"sandbox\"",
      "\"file_id\":\(JSONString.literal(fileID))", "\"parent_file_id\":\(JSONString.literal(parentID))",
      "\"name\":\(JSONString.literal(name))", "\"hidden\":false", "\"starred\":false", "\"trashed\":false",
    ]
    return "{" + (common + fields).joined(separator: ",") + "}"
  }

  /// `2019-08-20T06:51:27.292Z`, as PDS writes times.
  static func time(_ date: Date) -> String {
    let seconds = date.timeIntervalSince1970
    let milliseconds = min(999, max(0, Int(((seconds - seconds.rounded(.down)) * 1000).rounded(.down))))
    return Timestamp.formatRFC3339(date).replacingOccurrences(of: "Z", with: String(format: ".%03dZ", milliseconds))
  }

  static func encodeMarker(_ position: (String, String)) -> String {
    Data("\(position.0)\u{0}\(position.1)".utf8).base64EncodedString()
  }

  static func decodeMarker(_ marker: String) -> (String, String)? {
    guard let data = Data(base64Encoded: marker), let text = String(data: data, encoding: .utf8),
      let zero = text.firstIndex(of: "\u{0}")
    else { return nil }
    return (String(text[..<zero]), String(text[text.index(after: zero)...]))
  }

  static func encodePartMarker(_ number: Int) -> String {
    Data("part:\(number)".utf8).base64EncodedString()
  }

  static func decodePartMarker(_ marker: String) -> Int? {
    guard let data = Data(base64Encoded: marker), let text = String(data: data, encoding: .utf8),
      text.hasPrefix("part:")
    else { return nil }
    return Int(text.dropFirst(5))
  }
}
