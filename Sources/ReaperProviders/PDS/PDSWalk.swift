import Foundation
import ReaperCore

/// A depth-first walk over one drive, one request per page. Each folder is listed twice: its uploading files
/// (`status: "uploading"`), then, with the default status, its entries, of which only the folders are kept.
/// A page of subfolders is entered before the folder's next page is fetched, so the walk holds at most one
/// page of pending folders per level: memory grows with the depth of the tree, never with its size.
final class PDSWalk: PageWalk {
  typealias Page = UploadPage

  struct Folder: Sendable, Equatable {
    var fileID: String
    /// From the drive root, ending in `/`; empty for the root.
    var path: String
    var isRoot: Bool { path.isEmpty && fileID == "root" }
  }

  enum Stage {
    case uploads(marker: String?)
    case folders(marker: String?)
    case done
  }

  struct Frame {
    var folder: Folder
    var stage: Stage
    /// Subfolders from the last page of this folder's listing, not yet entered; last to be entered first.
    var pending: [Folder] = []
    /// Markers of the current listing of this folder, to tell a stalled or cycling server.
    var markers: Set<String> = []
  }

  let provider: PDSProvider
  let drive: String
  let scope: PDSScope
  var stack: [Frame]
  var requests = 0

  init(provider: PDSProvider, drive: String, scope: PDSScope) {
    self.provider = provider
    self.drive = drive
    self.scope = scope
    // The root is always listed, so a wrong drive id or a dead token shows even when no rule reaches in.
    stack = [Frame(folder: Folder(fileID: "root", path: ""), stage: .uploads(marker: nil))]
  }

  func next() async throws(ProviderError) -> UploadPage? {
    while let top = stack.indices.last {
      if let child = stack[top].pending.popLast() {
        try enter(child)
        continue
      }
      switch stack[top].stage {
      case .done: stack.removeLast()
      case .uploads(let marker): return try await listUploads(top, marker: marker)
      case .folders(let marker): return try await listFolders(top, marker: marker)
      }
    }
    return nil
  }

  private func firstStage(_ path: String) -> Stage {
    if scope.wantsFiles(in: path) { return .uploads(marker: nil) }
    if scope.wantsSubfolders(of: path) { return .folders(marker: nil) }
    return .done
  }

  private func enter(_ child: Folder) throws(ProviderError) {
    if stack.count >= provider.maximumDepth {
      throw error(
        .malformedResponse, "folders nested deeper than \(provider.maximumDepth) levels at \(child.path); stopping")
    }
    if stack.contains(where: { $0.folder.fileID == child.fileID }) {
      throw error(
        .malformedResponse, "folder \(child.fileID) (\(child.path)) lies inside itself: the tree loops; stopping")
    }
    stack.append(Frame(folder: child, stage: firstStage(child.path)))
  }

  /// Counts the request against the walk's bound, fetches, and checks the marker advances.
  private func fetch(
    _ top: Int, uploading: Bool, marker: String?
  ) async throws(ProviderError) -> (PDSDecoder.ListPage, Date?)? {
    guard requests < provider.maximumPages else {
      throw error(.malformedResponse, "page limit \(provider.maximumPages) reached while walking the drive; stopping")
    }
    requests += 1
    let folder = stack[top].folder
    let result: (PDSDecoder.ListPage, Date?)
    do {
      result = try await provider.listFolder(drive: drive, folder: folder, uploading: uploading, marker: marker)
    } catch  where error.kind == .gone {
      // Deleted while the walk was under way: nothing in it is left to find.
      stack[top].stage = .done
      stack[top].pending = []
      return nil
    }
    if let next = result.0.nextMarker {
      guard next != marker, stack[top].markers.insert(next).inserted else {
        throw error(
          .malformedResponse,
          "next_marker \"\(next)\" did not advance listing \(folder.path.isEmpty ? "/" : folder.path): the server repeated a page; stopping this walk"
        )
      }
    } else {
      stack[top].markers = []
    }
    return result
  }

  private func listUploads(_ top: Int, marker: String?) async throws(ProviderError) -> UploadPage {
    guard let (page, serverDate) = try await fetch(top, uploading: true, marker: marker) else {
      return UploadPage(uploads: [], serverDate: nil)
    }
    let folder = stack[top].folder
    if let next = page.nextMarker {
      stack[top].stage = .uploads(marker: next)
    } else {
      stack[top].stage = scope.wantsSubfolders(of: folder.path) ? .folders(marker: nil) : .done
    }
    var uploads: [Upload] = []
    var unreadable = page.unreadable.map { "\(place(folder)): \($0)" }
    for item in page.items {
      // Whatever the server sends under status=uploading, only an uploading file is ever an upload.
      guard item.type == "file" || item.type == nil, item.status == "uploading" else {
        if item.status == nil, item.type != "folder" {
          unreadable.append("\(place(folder)): entry \(item.name ?? "?") has no status; not acted on")
        }
        continue
      }
      switch upload(item, in: folder) {
      case .success(let upload):
        if scope.admits(key: upload.key) { uploads.append(upload) }
      case .failure(let problem):
        unreadable.append(problem.description)
      }
    }
    return UploadPage(uploads: uploads, serverDate: serverDate, unreadable: unreadable)
  }

  private func listFolders(_ top: Int, marker: String?) async throws(ProviderError) -> UploadPage {
    guard let (page, serverDate) = try await fetch(top, uploading: false, marker: marker) else {
      return UploadPage(uploads: [], serverDate: nil)
    }
    let folder = stack[top].folder
    stack[top].stage = page.nextMarker.map { .folders(marker: $0) } ?? .done
    var unreadable = page.unreadable.map { "\(place(folder)): \($0)" }
    var children: [Folder] = []
    for item in page.items where item.type == "folder" {
      if let elsewhere = misplaced(item, in: folder) {
        unreadable.append("\(place(folder)): folder \(item.name ?? "?") \(elsewhere); not walked")
        continue
      }
      guard let fileID = item.fileID, !fileID.isEmpty, let name = item.name, Self.usable(name) else {
        unreadable.append(
          "\(place(folder)): a folder without a usable file_id and name (\(item.name ?? "no name")); not walked")
        continue
      }
      let child = Folder(fileID: fileID, path: folder.path + name + "/")
      if scope.wantsFolder(child.path) { children.append(child) }
    }
    stack[top].pending = children.reversed()
    return UploadPage(uploads: [], serverDate: serverDate, unreadable: unreadable)
  }

  struct Problem: Error, CustomStringConvertible {
    var description: String
  }

  /// An uploading file as an upload, or why it cannot be one. Nothing unreadable is ever acted on.
  func upload(_ item: PDSDecoder.Item, in folder: Folder) -> Result<Upload, Problem> {
    let place = place(folder)
    guard let name = item.name, Self.usable(name) else {
      return .failure(Problem(description: "\(place): an uploading file without a usable name"))
    }
    let key = folder.path + name
    guard let fileID = item.fileID, !fileID.isEmpty else {
      return .failure(Problem(description: "key \"\(key)\": no file_id"))
    }
    guard let uploadID = item.uploadID, !uploadID.isEmpty else {
      return .failure(Problem(description: "key \"\(key)\" file \(fileID): no upload_id"))
    }
    if let elsewhere = misplaced(item, in: folder) {
      return .failure(Problem(description: "key \"\(key)\" file \(fileID): \(elsewhere); not acted on"))
    }
    guard case .date(let created) = item.createdAt, Plausible.time(created) else {
      return .failure(Problem(description: "key \"\(key)\" upload \(uploadID): unreadable or implausible created_at"))
    }
    var activity: Activity?
    var idleUnknown: String?
    switch item.updatedAt {
    case .date(let updated) where !Plausible.time(updated):
      return .failure(
        Problem(
          description: "key \"\(key)\" upload \(uploadID): implausible updated_at \(Timestamp.formatRFC3339(updated))"))
    case .date(let updated): activity = Activity(date: updated, source: "updated_at")
    case .absent: idleUnknown = "the server sent no updated_at"
    case .unreadable(let text):
      return .failure(Problem(description: "key \"\(key)\" upload \(uploadID): unreadable updated_at \"\(text)\""))
    }
    if let updated = activity?.date, updated < created.addingTimeInterval(-ClockCheck.tolerance) {
      activity = nil
      idleUnknown =
        "updated_at \(Timestamp.formatRFC3339(updated)) is before created_at \(Timestamp.formatRFC3339(created))"
    }
    return .success(
      Upload(
        target: provider.target.name, bucket: drive, key: key, uploadID: uploadID, initiated: created,
        handle: fileID, lastActivity: activity, idleUnknown: idleUnknown))
  }

  /// Where an entry says it lives, when that is not the folder that was listed: an answer about something else.
  /// The root is asked for as `root` and its children name it so (the API's documented alias). A field left out
  /// proves nothing either way, so an entry without both is not acted on: a server or cache that ignored
  /// `parent_file_id` would otherwise show every file of the drive in every folder.
  func misplaced(_ item: PDSDecoder.Item, in folder: Folder) -> String? {
    guard let driveID = item.driveID else { return "names no drive_id" }
    if driveID != drive { return "is in drive \(driveID), not \(drive)" }
    guard let parent = item.parentFileID else { return "names no parent_file_id" }
    if parent != folder.fileID { return "has parent \(parent), not the listed folder \(folder.fileID)" }
    return nil
  }

  /// A name that makes one path segment: not empty, no `/`, not `.` or `..`.
  static func usable(_ name: String) -> Bool {
    !name.isEmpty && name != "." && name != ".." && !name.utf8.contains(UInt8(ascii: "/"))
  }

  private func place(_ folder: Folder) -> String {
    "folder \(folder.path.isEmpty ? "/" : folder.path)"
  }

  private func error(_ kind: ProviderError.Kind, _ message: String) -> ProviderError {
    ProviderError(
      kind: kind, target: provider.target.name, bucket: drive, request: "POST /v2/file/list", message: message)
  }
}

/// Which parts of a drive the walk must see: keys starting with `required` (the caller's prefix) and, unless
/// `prefixes` is nil, with one of `prefixes` (the rules' prefixes). Compared byte for byte, as rules are.
struct PDSScope: Sendable, Equatable {
  let prefixes: [[UInt8]]?
  let required: [UInt8]

  init(prefixes: [String]?, required: String) {
    self.prefixes = prefixes.map { $0.map { Array($0.utf8) } }
    self.required = Array(required.utf8)
  }

  /// Whether a file directly in the folder at `path` could have a key within scope.
  func wantsFiles(in path: String) -> Bool {
    test(path) { folder, prefix in
      folder.starts(with: prefix) || (prefix.starts(with: folder) && !prefix[folder.count...].contains(Self.slash))
    }
  }

  /// Whether a folder below the one at `path` could hold keys within scope. A prefix that ends inside a
  /// name reaches subfolders too: `a/第` reaches `a/第 3 天/`.
  func wantsSubfolders(of path: String) -> Bool {
    test(path) { folder, prefix in folder.starts(with: prefix) || prefix.starts(with: folder) }
  }

  /// Whether the folder at `path` (ending in `/`) could hold, at any depth, keys within scope.
  func wantsFolder(_ path: String) -> Bool {
    test(path) { folder, prefix in folder.starts(with: prefix) || prefix.starts(with: folder) }
  }

  func admits(key: String) -> Bool { key.utf8.starts(with: required) }

  private static let slash = UInt8(ascii: "/")

  private func test(_ path: String, _ reaches: ([UInt8], [UInt8]) -> Bool) -> Bool {
    let folder = Array(path.utf8)
    guard reaches(folder, required) else { return false }
    guard let prefixes else { return true }
    return prefixes.contains { reaches(folder, $0) }
  }
}
