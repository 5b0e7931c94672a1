import Foundation
import ReaperCore

/// Decodes Aliyun PDS response bodies (`/v2/file/list`, `/v2/file/get`, `/v2/file/list_uploaded_parts`).
/// It reads structure only: which items are uploads and whether they can be acted on is the provider's call.
/// Field names are matched without regard to case, numbers may arrive as strings, and anything the page
/// cannot be trusted without (`items`, a part's size) missing or of the wrong type is an error, never a guess.
public enum PDSDecoder {
  /// A timestamp field as sent: absent, readable, or present but unreadable. The difference matters: only an
  /// absent `updated_at` may fall back to `created_at`; a garbled one makes the record unusable.
  public enum Stamp: Sendable, Equatable {
    case absent
    case date(Date)
    case unreadable(String)

    public var date: Date? {
      if case .date(let date) = self { return date }
      return nil
    }
  }

  /// One entry of a listing, or the file `/v2/file/get` returns.
  public struct Item: Sendable, Equatable {
    public var fileID: String?
    public var name: String?
    /// `file` or `folder`.
    public var type: String?
    /// `uploading` or `available`.
    public var status: String?
    public var uploadID: String?
    public var driveID: String?
    public var parentFileID: String?
    /// The declared size of the file, not what its parts hold.
    public var size: Int64?
    public var createdAt: Stamp
    public var updatedAt: Stamp

    public init(
      fileID: String? = nil, name: String? = nil, type: String? = nil, status: String? = nil,
      uploadID: String? = nil, driveID: String? = nil, parentFileID: String? = nil, size: Int64? = nil,
      createdAt: Stamp = .absent, updatedAt: Stamp = .absent
    ) {
      self.fileID = fileID
      self.name = name
      self.type = type
      self.status = status
      self.uploadID = uploadID
      self.driveID = driveID
      self.parentFileID = parentFileID
      self.size = size
      self.createdAt = createdAt
      self.updatedAt = updatedAt
    }
  }

  public struct ListPage: Sendable {
    public var items: [Item]
    /// Entries that are not objects at all, described for the operator.
    public var unreadable: [String]
    /// nil at the end (absent or empty `next_marker`).
    public var nextMarker: String?
  }

  /// `next_part_number_marker` as it came: the API table calls it an integer, the sample and live answers send
  /// an opaque string. Whatever came is sent back the same way.
  public enum PartMarker: Sendable, Equatable {
    case string(String)
    case number(Int64)
  }

  public struct PartsPage: Sendable {
    public var driveID: String? = nil
    public var fileID: String?
    public var uploadID: String?
    public var parts: [Part]
    /// nil at the end (absent, null or empty).
    public var nextMarker: PartMarker?
    public var parallelUpload: Bool?
  }

  public typealias Failure = WireFailure

  public static func decodeList(_ bytes: [UInt8]) throws(Failure) -> ListPage {
    let root = try object(bytes, what: "file/list")
    // An empty folder may come back without `items` (Go's omitempty), but then `next_marker` is there to show
    // it is a listing; a body with neither is not one, and must not pass for an empty folder.
    let items: [LooseJSON]
    switch root["items"] {
    case .array(let values)?: items = values
    case .null?, nil:
      guard root["next_marker"] != nil else { throw Failure("file/list body has no items array") }
      items = []
    default: throw Failure("file/list items is not an array")
    }
    var page = ListPage(items: [], unreadable: [], nextMarker: nil)
    page.items.reserveCapacity(items.count)
    for (index, value) in items.enumerated() {
      guard case .object = value else {
        page.unreadable.append("file/list items[\(index)] is not an object")
        continue
      }
      page.items.append(item(value))
    }
    page.nextMarker = try marker(root["next_marker"], name: "next_marker")
    return page
  }

  public static func decodeFile(_ bytes: [UInt8]) throws(Failure) -> Item {
    let root = try object(bytes, what: "file/get")
    return item(root)
  }

  public static func decodeParts(_ bytes: [UInt8]) throws(Failure) -> PartsPage {
    let root = try object(bytes, what: "list_uploaded_parts")
    let records: [LooseJSON]
    switch root["uploaded_parts"] {
    case .array(let values)?: records = values
    case .null?, nil:
      guard root["upload_id"] != nil || root["file_id"] != nil || root["next_part_number_marker"] != nil else {
        throw Failure("list_uploaded_parts body has no uploaded_parts array")
      }
      records = []
    default: throw Failure("list_uploaded_parts uploaded_parts is not an array")
    }
    var parts: [Part] = []
    parts.reserveCapacity(records.count)
    for (index, record) in records.enumerated() {
      // A part that cannot be counted makes the bytes held unknowable: the whole page is refused.
      guard case .object = record, let number = record["part_number"]?.integer, let size = record["part_size"]?.integer,
        number >= 0, number <= Int64(Int32.max), size >= 0
      else {
        throw Failure("uploaded_parts[\(index)] has no usable part_number and part_size")
      }
      parts.append(Part(number: Int(number), size: size, lastModified: nil))
    }
    let next: PartMarker?
    switch root["next_part_number_marker"] {
    case nil, .null?: next = nil
    case .string(let text)?: next = text.isEmpty ? nil : .string(text)
    case .number?:
      guard let value = root["next_part_number_marker"]?.integer else {
        throw Failure("next_part_number_marker is a number out of range")
      }
      next = .number(value)
    default: throw Failure("next_part_number_marker is neither a string nor a number")
    }
    return PartsPage(
      driveID: text(root["drive_id"]), fileID: text(root["file_id"]), uploadID: text(root["upload_id"]), parts: parts,
      nextMarker: next,
      parallelUpload: root["parallel_upload"]?.boolean)
  }

  // MARK: pieces

  private static func object(_ bytes: [UInt8], what: String) throws(Failure) -> LooseJSON {
    guard BodySniffer.kind(bytes) == .json else { throw Failure("\(what) body is not JSON (\(bytes.count) bytes)") }
    let json: LooseJSON
    do {
      json = try LooseJSON.parse(bytes)
    } catch let error as LooseJSON.TooDeep {
      throw Failure("\(what) body refused: \(error)")
    } catch {
      throw Failure("\(what) body is not valid JSON (\(bytes.count) bytes; truncated?)")
    }
    guard case .object = json else { throw Failure("\(what) body is not a JSON object") }
    return json
  }

  private static func item(_ value: LooseJSON) -> Item {
    Item(
      fileID: text(value["file_id"]), name: string(value["name"]), type: text(value["type"]),
      status: text(value["status"]), uploadID: text(value["upload_id"]), driveID: text(value["drive_id"]),
      parentFileID: text(value["parent_file_id"]), size: value["size"]?.integer,
      createdAt: stamp(value["created_at"]), updatedAt: stamp(value["updated_at"]))
  }

  /// An identifier: a string, or a number written as one. Empty counts as missing.
  private static func text(_ value: LooseJSON?) -> String? {
    guard let text = value?.text, !text.isEmpty else { return nil }
    return text
  }

  /// A name is a string or nothing: a number where a name belongs is not read as one.
  private static func string(_ value: LooseJSON?) -> String? {
    guard case .string(let text)? = value else { return nil }
    return text
  }

  private static func stamp(_ value: LooseJSON?) -> Stamp {
    switch value {
    case nil, .null?: return .absent
    case .string(let text)? where text.isEmpty: return .absent
    case .string(let text)?:
      return Timestamp.parseRFC3339(text).map(Stamp.date) ?? .unreadable(String(text.prefix(64)))
    default: return .unreadable("not a string")
    }
  }

  private static func marker(_ value: LooseJSON?, name: String) throws(Failure) -> String? {
    switch value {
    case nil, .null?: return nil
    case .string(let text)?: return text.isEmpty ? nil : text
    case .number?:
      guard let text = value?.text else { throw Failure("\(name) is not a usable marker") }
      return text
    default: throw Failure("\(name) is neither a string nor a number")
    }
  }
}
