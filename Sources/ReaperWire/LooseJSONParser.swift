/// Reads a JSON body straight into `LooseJSON`, in one pass over the bytes.
///
/// Foundation's `JSONDecoder` has no way to ask what a value is, so decoding an unknown shape means trying each
/// type in turn, and every miss builds an error with its coding path: profiled on a million-upload listing, that
/// was 60% of the reaper's CPU. This parser reads RFC 8259 plus what `JSONDecoder` also allows (a UTF-8
/// byte-order mark, trailing commas; a repeated key keeps its first value), and the differential tests and
/// fuzzers hold it to `JSONDecoder`'s value wherever both accept an input. Numbers follow the RFC strictly,
/// where `JSONDecoder` is lax in its own ways. Input that may be UTF-16 or UTF-32 goes to `JSONDecoder`.
struct LooseJSONParser {
  struct Malformed: Error, CustomStringConvertible {
    var description: String
    var tooDeep = false
    /// Raw control characters and invalid UTF-8 in strings, which JSONDecoder accepts in ways of its own:
    /// such rare bodies go to JSONDecoder, so the two never disagree.
    var needsFoundation = false
  }

  private let bytes: [UInt8]
  private var position = 0
  private var depth = 0

  init(_ bytes: [UInt8]) { self.bytes = bytes }

  /// nil when the input is not plainly UTF-8, for the caller to hand to `JSONDecoder`.
  static func parse(_ bytes: [UInt8]) throws(Malformed) -> LooseJSON? {
    if bytes.prefix(4).contains(0) || bytes.starts(with: [0xFE, 0xFF]) || bytes.starts(with: [0xFF, 0xFE]) {
      return nil
    }
    var parser = LooseJSONParser(bytes)
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { parser.position = 3 }
    do throws(Malformed) {
      parser.skipWhitespace()
      let value = try parser.value()
      parser.skipWhitespace()
      guard parser.position == bytes.count else { throw parser.malformed("text after the value") }
      return value
    } catch  where error.needsFoundation {
      return nil
    }
  }

  private func malformed(_ what: String) -> Malformed {
    Malformed(description: "\(what) at byte \(position)")
  }

  private func foreign(_ what: String) -> Malformed {
    Malformed(description: "\(what) at byte \(position)", needsFoundation: true)
  }

  private mutating func skipWhitespace() {
    while position < bytes.count {
      switch bytes[position] {
      case 0x20, 0x09, 0x0A, 0x0D: position += 1
      default: return
      }
    }
  }

  private mutating func value() throws(Malformed) -> LooseJSON {
    guard position < bytes.count else { throw malformed("unexpected end") }
    switch bytes[position] {
    case UInt8(ascii: "{"): return try object()
    case UInt8(ascii: "["): return try array()
    case UInt8(ascii: "\""): return .string(try string())
    case UInt8(ascii: "t"):
      try literal("true")
      return .bool(true)
    case UInt8(ascii: "f"):
      try literal("false")
      return .bool(false)
    case UInt8(ascii: "n"):
      try literal("null")
      return .null
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
    default: throw malformed("unexpected character")
    }
  }

  private mutating func enter() throws(Malformed) {
    depth += 1
    if depth > LooseJSON.maximumDepth {
      throw Malformed(description: "JSON nested more than \(LooseJSON.maximumDepth) levels deep", tooDeep: true)
    }
  }

  private mutating func object() throws(Malformed) -> LooseJSON {
    try enter()
    position += 1
    var fields: [String: LooseJSON] = [:]
    skipWhitespace()
    if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
      position += 1
      depth -= 1
      return .object(fields)
    }
    while true {
      skipWhitespace()
      guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw malformed("expected a key") }
      let key = try string()
      skipWhitespace()
      guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw malformed("expected ':'") }
      position += 1
      skipWhitespace()
      let value = try value()
      if fields[key] == nil { fields[key] = value }
      skipWhitespace()
      guard position < bytes.count else { throw malformed("unterminated object") }
      if bytes[position] == UInt8(ascii: ",") {
        position += 1
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
          position += 1
          depth -= 1
          return .object(fields)
        }
        continue
      }
      guard bytes[position] == UInt8(ascii: "}") else { throw malformed("expected ',' or '}'") }
      position += 1
      depth -= 1
      return .object(fields)
    }
  }

  private mutating func array() throws(Malformed) -> LooseJSON {
    try enter()
    position += 1
    var elements: [LooseJSON] = []
    skipWhitespace()
    if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
      position += 1
      depth -= 1
      return .array(elements)
    }
    while true {
      skipWhitespace()
      elements.append(try value())
      skipWhitespace()
      guard position < bytes.count else { throw malformed("unterminated array") }
      if bytes[position] == UInt8(ascii: ",") {
        position += 1
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
          position += 1
          depth -= 1
          return .array(elements)
        }
        continue
      }
      guard bytes[position] == UInt8(ascii: "]") else { throw malformed("expected ',' or ']'") }
      position += 1
      depth -= 1
      return .array(elements)
    }
  }

  private mutating func literal(_ word: StaticString) throws(Malformed) {
    let count = word.utf8CodeUnitCount
    guard position + count <= bytes.count else { throw malformed("unexpected end") }
    let matches = word.withUTF8Buffer { expected in
      (0..<count).allSatisfy { bytes[position + $0] == expected[$0] }
    }
    guard matches else { throw malformed("unexpected word") }
    position += count
  }

  private mutating func number() throws(Malformed) -> Double {
    let start = position
    if bytes[position] == UInt8(ascii: "-") { position += 1 }
    func digits(_ parser: inout LooseJSONParser) -> Int {
      let from = parser.position
      while parser.position < parser.bytes.count, (0x30...0x39).contains(parser.bytes[parser.position]) {
        parser.position += 1
      }
      return parser.position - from
    }
    let integerStart = position
    let integerDigits = digits(&self)
    guard integerDigits > 0 else { throw malformed("a number without digits") }
    guard integerDigits == 1 || bytes[integerStart] != UInt8(ascii: "0") else {
      throw malformed("a number with a leading zero")
    }
    if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
      position += 1
      guard digits(&self) > 0 else { throw malformed("a number without digits after '.'") }
    }
    if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
      position += 1
      if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
        position += 1
      }
      guard digits(&self) > 0 else { throw malformed("a number without exponent digits") }
    }
    let text = String(decoding: bytes[start..<position], as: UTF8.self)
    guard let value = Double(text), value.isFinite else { throw malformed("a number out of range") }
    return value
  }

  private mutating func string() throws(Malformed) -> String {
    position += 1
    let start = position
    // The common case, no escapes: one copy of the bytes.
    while position < bytes.count {
      let byte = bytes[position]
      if byte == UInt8(ascii: "\"") {
        let text = try validated(bytes[start..<position])
        position += 1
        return text
      }
      if byte == UInt8(ascii: "\\") { break }
      guard byte >= 0x20 else { throw foreign("a control character in a string") }
      position += 1
    }
    var scalars = Array(bytes[start..<position])
    while position < bytes.count {
      let byte = bytes[position]
      switch byte {
      case UInt8(ascii: "\""):
        position += 1
        return try validated(scalars[...])
      case UInt8(ascii: "\\"):
        position += 1
        guard position < bytes.count else { throw malformed("unterminated escape") }
        let escape = bytes[position]
        position += 1
        switch escape {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scalars.append(escape)
        case UInt8(ascii: "b"): scalars.append(0x08)
        case UInt8(ascii: "f"): scalars.append(0x0C)
        case UInt8(ascii: "n"): scalars.append(0x0A)
        case UInt8(ascii: "r"): scalars.append(0x0D)
        case UInt8(ascii: "t"): scalars.append(0x09)
        case UInt8(ascii: "u"):
          var code = try hex4()
          if (0xD800...0xDBFF).contains(code) {
            // A high surrogate must be followed by an escaped low one.
            guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
              bytes[position + 1] == UInt8(ascii: "u")
            else { throw malformed("an unpaired surrogate") }
            position += 2
            let low = try hex4()
            guard (0xDC00...0xDFFF).contains(low) else { throw malformed("an unpaired surrogate") }
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
          } else if (0xDC00...0xDFFF).contains(code) {
            throw malformed("an unpaired surrogate")
          }
          guard let scalar = Unicode.Scalar(code) else { throw malformed("an invalid \\u escape") }
          scalars.append(contentsOf: UTF8.encode(scalar)!)
        default: throw malformed("an unknown escape")
        }
      default:
        guard byte >= 0x20 else { throw foreign("a control character in a string") }
        scalars.append(byte)
        position += 1
      }
    }
    throw malformed("unterminated string")
  }

  private mutating func hex4() throws(Malformed) -> UInt32 {
    guard position + 4 <= bytes.count else { throw malformed("a short \\u escape") }
    var code: UInt32 = 0
    for _ in 0..<4 {
      let byte = bytes[position]
      let digit: UInt8
      switch byte {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
      default: throw malformed("a bad hex digit in a \\u escape")
      }
      code = code << 4 | UInt32(digit)
      position += 1
    }
    return code
  }

  private func validated(_ utf8: ArraySlice<UInt8>) throws(Malformed) -> String {
    guard let text = String(validating: utf8, as: UTF8.self) else { throw foreign("a string that is not UTF-8") }
    return text
  }
}
