import Foundation

/// A plan file's text. It is written for review, one upload a line, and read back as untrusted input: whoever
/// could edit it could add an upload, so everything in it is checked before any of it is believed.
public enum PlanJSON {
  public static func render(_ plan: Plan, configPath: String) -> String {
    var text = "{\n"
    text += "  \"format\": \(JSONString.literal(Plan.format)),\n"
    text += "  \"version\": \(Plan.version),\n"
    text += "  \"config\": \(JSONString.literal(configPath)),\n"
    text += "  \"config_digest\": \(JSONString.literal(plan.configDigest)),\n"
    text += "  \"created\": \(JSONString.literal(PlanTime.format(plan.created))),\n"
    text += "  \"uploads\": ["
    let lines = plan.entries.map { entry in
      "    {\"target\":\(JSONString.literal(entry.target)),\"bucket\":\(JSONString.literal(entry.bucket))"
        + ",\"key\":\(JSONString.literal(entry.key)),\"upload_id\":\(JSONString.literal(entry.uploadID))"
        + ",\"initiated\":\(JSONString.literal(PlanTime.format(entry.initiated)))"
        + ",\"rule\":\(JSONString.literal(entry.rule)),\"bytes\":\(entry.bytes.map(String.init) ?? "null")"
        + ",\"reason\":\(JSONString.literal(entry.reason))}"
    }
    text += lines.isEmpty ? "]\n" : "\n" + lines.joined(separator: ",\n") + "\n  ]\n"
    return text + "}\n"
  }

  /// The plan in `data`, or why it is not one.
  public static func parse(_ data: Data) throws(PlanError) -> Plan {
    let file: File
    do {
      file = try JSONDecoder().decode(File.self, from: data)
    } catch let error as DecodingError {
      throw PlanError(describe(error))
    } catch {
      throw PlanError("not JSON: \(error)")
    }
    guard file.format == Plan.format else {
      throw PlanError("\"format\" is \(JSONString.literal(file.format)), not \"\(Plan.format)\"")
    }
    guard file.version == Plan.version else {
      throw PlanError("\"version\" is \(file.version); this upload-reaper reads version \(Plan.version)")
    }
    guard file.configDigest.utf8.count == 64,
      file.configDigest.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
    else { throw PlanError("\"config_digest\" is not a SHA-256 in lowercase hex") }
    guard let created = Timestamp.parseRFC3339(file.created) else {
      throw PlanError("\"created\" \(JSONString.literal(file.created)) is not an RFC 3339 time with its offset")
    }
    var entries: [PlanEntry] = []
    entries.reserveCapacity(file.uploads.count)
    var seen: Set<PlanAddress> = []
    /// An upload id names one upload in a bucket: two keys for one id is a plan not to be trusted.
    var ids: Set<PlanAddress> = []
    for (index, upload) in file.uploads.enumerated() {
      let place = "uploads[\(index)]"
      for (field, value) in [
        ("target", upload.target), ("bucket", upload.bucket), ("key", upload.key), ("upload_id", upload.uploadID),
        ("rule", upload.rule),
      ] where value.isEmpty {
        throw PlanError("\(place): \"\(field)\" is empty")
      }
      guard let initiated = Timestamp.parseRFC3339(upload.initiated) else {
        throw PlanError(
          "\(place): \"initiated\" \(JSONString.literal(upload.initiated)) is not an RFC 3339 time with its offset")
      }
      if let bytes = upload.bytes?.value, bytes < 0 { throw PlanError("\(place): \"bytes\" is negative") }
      let entry = PlanEntry(
        target: upload.target, bucket: upload.bucket, key: upload.key, uploadID: upload.uploadID,
        initiated: initiated, rule: upload.rule, bytes: upload.bytes?.value, reason: upload.reason ?? "")
      guard seen.insert(entry.address).inserted else {
        throw PlanError("\(place): upload \(JSONString.literal(upload.uploadID)) is named twice")
      }
      guard
        ids.insert(PlanAddress(target: entry.target, bucket: entry.bucket, key: "", uploadID: entry.uploadID))
          .inserted
      else {
        throw PlanError("\(place): upload id \(JSONString.literal(upload.uploadID)) is named with two keys")
      }
      entries.append(entry)
    }
    return Plan(configDigest: file.configDigest, created: created, entries: entries)
  }

  static func describe(_ error: DecodingError) -> String {
    func path(_ context: DecodingError.Context) -> String {
      let components = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
      return components.isEmpty ? "the file" : String(components.drop { $0 == "." })
    }
    switch error {
    case .keyNotFound(let key, let context):
      let place = context.codingPath.isEmpty ? "" : path(context) + ": "
      return "\(place)\"\(key.stringValue)\" is missing"
    case .typeMismatch(_, let context), .valueNotFound(_, let context):
      return "\(path(context)): wrong type (\(context.debugDescription))"
    case .dataCorrupted(let context):
      return context.codingPath.isEmpty
        ? "not valid JSON (\(context.debugDescription))" : "\(path(context)): \(context.debugDescription)"
    @unknown default:
      return "\(error)"
    }
  }

  struct File: Decodable {
    var format: String
    var version: Int
    var configDigest: String
    var created: String
    var uploads: [Upload]

    enum CodingKeys: String, CodingKey {
      case format, version, created, uploads
      case configDigest = "config_digest"
    }
  }

  struct Upload: Decodable {
    var target: String
    var bucket: String
    var key: String
    var uploadID: String
    var initiated: String
    var rule: String
    var bytes: WholeBytes?
    var reason: String?

    enum CodingKeys: String, CodingKey {
      case target, bucket, key, initiated, rule, bytes, reason
      case uploadID = "upload_id"
    }
  }
}

/// A byte count that must be a whole number: the decoder's own complaint about `1.5` names no field.
struct WholeBytes: Decodable {
  var value: Int64

  init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    do {
      value = try container.decode(Int64.self)
    } catch {
      throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a whole number of bytes")
    }
  }
}

/// Why a plan file is refused as malformed. `--force` does not override it.
public struct PlanError: Error, Sendable, Equatable, CustomStringConvertible {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}
