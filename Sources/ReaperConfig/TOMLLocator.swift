/// Where each table and key of a TOML document is written. TOMLKit's tree keeps no source positions, so
/// this reads the text once, following only what decides where a key can start: table headers, key lines,
/// and values (strings, multi-line strings, arrays) that run over several lines.
/// Paths look like `daemon.interval`, `target[0]`, `target[0].buckets`.
struct TOMLLocator {
  private var lines: [String: Int] = [:]
  /// Table headers that break TOML's grammar, by line. toml++ (under TOMLKit) asserts, or in a release
  /// build has undefined behaviour, on some of them (`[[[x]]`), so they are refused before it sees them.
  private(set) var malformedHeaders: [(line: Int, text: String)] = []

  init(source: String) {
    var table = ""
    var arrayCounts: [String: Int] = [:]
    var value = ValueScanner()
    for (offset, rawLine) in source.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let number = offset + 1
      let line = Array(rawLine.utf8)
      if value.isInsideValue {
        value.scan(line[...])
        continue
      }
      var start = 0
      while start < line.count, line[start] == UInt8(ascii: " ") || line[start] == UInt8(ascii: "\t") { start += 1 }
      guard start < line.count, line[start] != UInt8(ascii: "#"), line[start] != UInt8(ascii: "\r") else { continue }
      let rest = line[start...]
      if rest.first == UInt8(ascii: "["), !Self.isWellFormedHeader(rest) {
        malformedHeaders.append((number, String(decoding: rest, as: UTF8.self)))
        continue
      }
      if rest.starts(with: "[[".utf8) {
        let name = Self.keyPath(Self.between(rest.dropFirst(2), close: UInt8(ascii: "]")))
        let index = arrayCounts[name, default: 0]
        arrayCounts[name] = index + 1
        table = "\(name)[\(index)]"
        record(table, number)
      } else if rest.first == UInt8(ascii: "[") {
        table = Self.keyPath(Self.between(rest.dropFirst(), close: UInt8(ascii: "]")))
        record(table, number)
      } else if let equals = Self.firstUnquoted(UInt8(ascii: "="), in: rest) {
        let key = Self.keyPath(rest[rest.startIndex..<equals])
        record(table.isEmpty ? key : "\(table).\(key)", number)
        value.scan(rest[(equals + 1)...])
      }
    }
  }

  func line(of path: String) -> Int? { lines[path] }

  /// `[key]` or `[[key]]`, where key is bare (`A-Za-z0-9_-`) or quoted parts joined by dots, with optional
  /// spaces, followed only by spaces or a comment.
  static func isWellFormedHeader(_ bytes: ArraySlice<UInt8>) -> Bool {
    var index = bytes.startIndex
    func skipSpaces() {
      while index < bytes.endIndex, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") {
        index += 1
      }
    }
    func isBare(_ byte: UInt8) -> Bool {
      switch byte {
      case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
        true
      default: false
      }
    }
    let double = bytes.starts(with: "[[".utf8)
    index += double ? 2 : 1
    while true {
      skipSpaces()
      guard index < bytes.endIndex else { return false }
      let byte = bytes[index]
      if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
        index += 1
        while index < bytes.endIndex, bytes[index] != byte {
          if byte == UInt8(ascii: "\""), bytes[index] == UInt8(ascii: "\\") { index += 1 }
          index += 1
        }
        guard index < bytes.endIndex else { return false }
        index += 1
      } else if isBare(byte) {
        while index < bytes.endIndex, isBare(bytes[index]) { index += 1 }
      } else {
        return false
      }
      skipSpaces()
      guard index < bytes.endIndex else { return false }
      if bytes[index] == UInt8(ascii: ".") {
        index += 1
        continue
      }
      break
    }
    let closing = double ? "]]" : "]"
    guard bytes[index...].starts(with: closing.utf8) else { return false }
    index += closing.utf8.count
    skipSpaces()
    return index == bytes.endIndex || bytes[index] == UInt8(ascii: "#") || bytes[index] == UInt8(ascii: "\r")
  }

  private mutating func record(_ path: String, _ line: Int) {
    if lines[path] == nil { lines[path] = line }
  }

  private static func between(_ bytes: ArraySlice<UInt8>, close: UInt8) -> ArraySlice<UInt8> {
    guard let end = firstUnquoted(close, in: bytes) else { return bytes }
    return bytes[bytes.startIndex..<end]
  }

  /// A dotted key with its quotes and spaces taken away: `"a b" . c` → `a b.c`.
  private static func keyPath(_ bytes: ArraySlice<UInt8>) -> String {
    var segments: [String] = []
    var current: [UInt8] = []
    var quote: UInt8?
    for byte in bytes {
      if let open = quote {
        if byte == open { quote = nil } else { current.append(byte) }
      } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
        quote = byte
      } else if byte == UInt8(ascii: ".") {
        segments.append(String(decoding: current, as: UTF8.self))
        current = []
      } else if byte != UInt8(ascii: " ") && byte != UInt8(ascii: "\t") {
        current.append(byte)
      }
    }
    segments.append(String(decoding: current, as: UTF8.self))
    return segments.joined(separator: ".")
  }

  private static func firstUnquoted(_ target: UInt8, in bytes: ArraySlice<UInt8>) -> Int? {
    var quote: UInt8?
    var index = bytes.startIndex
    while index < bytes.endIndex {
      let byte = bytes[index]
      if let open = quote {
        if byte == UInt8(ascii: "\\") && open == UInt8(ascii: "\"") {
          index += 1
        } else if byte == open {
          quote = nil
        }
      } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
        quote = byte
      } else if byte == target {
        return index
      }
      index += 1
    }
    return nil
  }
}

/// Follows a value across lines: open brackets and braces, and multi-line strings.
private struct ValueScanner {
  private var depth = 0
  private var multiLineDelimiter: UInt8?

  var isInsideValue: Bool { depth > 0 || multiLineDelimiter != nil }

  mutating func scan(_ bytes: ArraySlice<UInt8>) {
    var index = bytes.startIndex
    func isTriple(_ quote: UInt8, at position: Int) -> Bool {
      position + 2 < bytes.endIndex && bytes[position] == quote && bytes[position + 1] == quote
        && bytes[position + 2] == quote
    }
    while index < bytes.endIndex {
      let byte = bytes[index]
      if let delimiter = multiLineDelimiter {
        if byte == UInt8(ascii: "\\") && delimiter == UInt8(ascii: "\"") {
          index += 2
          continue
        }
        if isTriple(delimiter, at: index) {
          multiLineDelimiter = nil
          index += 3
          continue
        }
        index += 1
        continue
      }
      switch byte {
      case UInt8(ascii: "#"):
        return
      case UInt8(ascii: "\""), UInt8(ascii: "'"):
        if isTriple(byte, at: index) {
          multiLineDelimiter = byte
          index += 3
          continue
        }
        index += 1
        while index < bytes.endIndex, bytes[index] != byte {
          if bytes[index] == UInt8(ascii: "\\") && byte == UInt8(ascii: "\"") { index += 1 }
          index += 1
        }
      case UInt8(ascii: "["), UInt8(ascii: "{"):
        depth += 1
      case UInt8(ascii: "]"), UInt8(ascii: "}"):
        depth = max(0, depth - 1)
      default:
        break
      }
      index += 1
    }
  }
}
