import Foundation

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// A JSON value read loosely: numbers and booleans that arrive as strings are still understood, and
/// object keys are found without regard to case (`UploadId` and `UploadID`).
public enum LooseJSON: Decodable, Sendable, Equatable {
  case null
  case bool(Bool)
  case number(Double)
  case string(String)
  case array([LooseJSON])
  case object([String: LooseJSON])

  public init(from decoder: Decoder) throws {
    let container = try decoder.singleValueContainer()
    if container.decodeNil() {
      self = .null
    } else if let value = try? container.decode(Bool.self) {
      self = .bool(value)
    } else if let value = try? container.decode(Double.self) {
      self = .number(value)
    } else if let value = try? container.decode(String.self) {
      self = .string(value)
    } else if let value = try? container.decode([LooseJSON].self) {
      self = .array(value)
    } else {
      self = .object(try container.decode([String: LooseJSON].self))
    }
  }

  /// Nesting deeper than `maximumDepth` is refused.
  public static func parse(_ bytes: [UInt8]) throws -> LooseJSON {
    do {
      if let value = try LooseJSONParser.parse(bytes) { return value }
    } catch  where error.tooDeep {
      throw TooDeep(description: error.description)
    }
    return try parseWithFoundation(bytes)
  }

  /// The same through Foundation's `JSONDecoder`: far slower, kept as the reference the parser is tested against.
  public static func parseWithFoundation(_ bytes: [UInt8]) throws -> LooseJSON {
    // Decoding grows faster than linearly with nesting (400 levels take seconds), so a body nested deeper than
    // any provider's answers is refused before the decoder sees it.
    if let depth = nestingBeyond(maximumDepth, in: bytes) {
      throw TooDeep(description: "JSON nested more than \(depth) levels deep")
    }
    return try JSONDecoder().decode(LooseJSON.self, from: Data(bytes))
  }

  /// Provider answers nest five or six levels; this leaves room for any that nest more.
  public static let maximumDepth = 64

  struct TooDeep: Error, CustomStringConvertible {
    var description: String
  }

  /// `limit` when brackets outside strings nest deeper than it, nil otherwise. One pass, no allocation.
  static func nestingBeyond(_ limit: Int, in bytes: [UInt8]) -> Int? {
    var depth = 0
    var inString = false
    var escaped = false
    for byte in bytes {
      if inString {
        if escaped {
          escaped = false
        } else if byte == UInt8(ascii: "\\") {
          escaped = true
        } else if byte == UInt8(ascii: "\"") {
          inString = false
        }
        continue
      }
      switch byte {
      case UInt8(ascii: "\""): inString = true
      case UInt8(ascii: "["), UInt8(ascii: "{"):
        depth += 1
        if depth > limit { return limit }
      case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
      default: break
      }
    }
    return nil
  }

  public subscript(_ name: String) -> LooseJSON? {
    guard case .object(let fields) = self else { return nil }
    if let exact = fields[name] { return exact }
    let lowered = name.lowercased()
    return fields.first { $0.key.lowercased() == lowered }?.value
  }

  /// A string, or a number or boolean written out as one.
  public var text: String? {
    switch self {
    case .string(let value): value
    case .number(let value): value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    case .bool(let value): value ? "true" : "false"
    default: nil
    }
  }

  public var integer: Int64? {
    switch self {
    case .number(let value): value == value.rounded() && abs(value) < 9e15 ? Int64(value) : nil
    case .string(let value): Int64(value.trimmingCharacters(in: .whitespaces))
    default: nil
    }
  }

  /// `true`, `"true"`, `"TRUE"`, `"True"`: all true. nil when it is not a boolean in any spelling.
  public var boolean: Bool? {
    switch self {
    case .bool(let value): value
    case .string(let value):
      switch value.trimmingCharacters(in: .whitespaces).lowercased() {
      case "true": true
      case "false": false
      default: nil
      }
    default: nil
    }
  }

  /// An array, or a lone object where an array of one was meant (as XML-to-JSON converters write), or empty.
  public var elements: [LooseJSON] {
    switch self {
    case .array(let values): values
    case .object: [self]
    default: []
    }
  }
}

/// The first byte that is not white space: `{` for JSON, `<` for XML, whatever Content-Type claims.
public enum BodySniffer {
  public enum Kind: Sendable { case json, xml, empty, other }

  public static func kind(_ bytes: [UInt8]) -> Kind {
    // A UTF-8 byte-order mark is skipped like white space.
    guard
      let first = bytes.first(where: {
        !($0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || $0 == 0xEF || $0 == 0xBB || $0 == 0xBF)
      })
    else { return .empty }
    switch first {
    case UInt8(ascii: "{"), UInt8(ascii: "["): return .json
    case UInt8(ascii: "<"): return .xml
    default: return .other
    }
  }
}

/// Reads XML as a stream of events with FoundationXML's SAX parser: no tree of the document is built.
public enum StreamingXML {
  /// Calls `start` as each element opens and `end` with its text as it closes; `path` is the element names
  /// from the root down. Returns the parser's error, if the document is not well-formed.
  public static func parse(
    _ bytes: [UInt8], start: @escaping ([String]) -> Void = { _ in }, end: @escaping ([String], String) -> Void
  ) -> Error? {
    // FoundationXML traps on invalid UTF-8 inside a name; S3 and CDCS send UTF-8, so anything else is refused.
    guard String(validating: bytes, as: UTF8.self) != nil else {
      return XMLFailure(description: "the document is not valid UTF-8")
    }
    if let refusal = screen(bytes) { return XMLFailure(description: refusal) }
    let delegate = Delegate(start: start, end: end)
    let parser = XMLParser(data: Data(bytes))
    parser.shouldResolveExternalEntities = false
    parser.delegate = delegate
    let succeeded = parser.parse()
    // On Linux parse() reports success even for a document cut short; only parserError tells.
    if let error = parser.parserError ?? delegate.failure { return error }
    if !succeeded { return XMLFailure(description: "malformed XML") }
    if !delegate.rootClosed { return XMLFailure(description: "the document ends before its root element closes") }
    return nil
  }

  /// S3 and CDCS send plain documents: at most an `<?xml …?>` declaration first, then elements and text.
  /// Anything else is refused before FoundationXML sees it: it crashes on an empty processing instruction
  /// (`<?x?>`), and a DOCTYPE could declare entities that expand without bound.
  static func screen(_ bytes: [UInt8]) -> String? {
    let start =
      bytes.firstIndex {
        !($0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || $0 == 0xEF || $0 == 0xBB || $0 == 0xBF)
      } ?? 0
    var index = 0
    while index + 1 < bytes.count {
      if bytes[index] == UInt8(ascii: "<") {
        let next = bytes[index + 1]
        if next == UInt8(ascii: "?") {
          let declaration = Array("<?xml".utf8)
          let isDeclaration =
            index == start && bytes[index...].starts(with: declaration) && index + 5 < bytes.count
            && [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index + 5])
          if !isDeclaration { return "processing instructions are not accepted" }
        } else if next == UInt8(ascii: "!"), !bytes[index...].starts(with: "<![CDATA[".utf8),
          !bytes[index...].starts(with: "<!--".utf8)
        {
          return "DOCTYPE and other declarations are not accepted"
        }
      }
      index += 1
    }
    return nil
  }

  struct XMLFailure: Error, CustomStringConvertible {
    var description: String
  }

  private final class Delegate: NSObject, XMLParserDelegate {
    var path: [String] = []
    var text = ""
    var failure: Error?
    var rootClosed = false
    let onStart: ([String]) -> Void
    let onEnd: ([String], String) -> Void

    init(start: @escaping ([String]) -> Void, end: @escaping ([String], String) -> Void) {
      onStart = start
      onEnd = end
    }

    func parser(
      _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
      attributes: [String: String] = [:]
    ) {
      path.append(name)
      text = ""
      onStart(path)
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
      text += string
    }

    func parser(_ parser: XMLParser, foundCDATA block: Data) {
      text += String(decoding: block, as: UTF8.self)
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
      onEnd(path, text)
      if path.count == 1 { rootClosed = true }
      text = ""
      if !path.isEmpty { path.removeLast() }
    }

    func parser(_ parser: XMLParser, parseErrorOccurred error: Error) {
      failure = error
    }
  }
}

/// `{"Code","Message","RequestId"}` or `<Error><Code>…</Code>…</Error>`.
public struct ErrorBody: Sendable, Equatable {
  public var code: String?
  public var message: String?
  public var requestID: String?

  public init(code: String? = nil, message: String? = nil, requestID: String? = nil) {
    self.code = code
    self.message = message
    self.requestID = requestID
  }

  public static func parse(_ bytes: [UInt8]) -> ErrorBody? {
    switch BodySniffer.kind(bytes) {
    case .json:
      guard let json = try? LooseJSON.parse(bytes) else { return nil }
      let root = json["Error"] ?? json
      let body = ErrorBody(
        code: root["Code"]?.text, message: root["Message"]?.text,
        requestID: root["RequestId"]?.text ?? root["request_id"]?.text)
      return body.code == nil && body.message == nil ? nil : body
    case .xml:
      var body = ErrorBody()
      let failure = StreamingXML.parse(bytes) { path, text in
        switch path.last {
        case "Code": body.code = text
        case "Message": body.message = text
        case "RequestId": body.requestID = text
        default: break
        }
      }
      return failure == nil && (body.code != nil || body.message != nil) ? body : nil
    case .empty, .other:
      return nil
    }
  }
}
