import Foundation

/// Percent-encoding as the signature algorithms define it. Operates on UTF-8 bytes, never on Foundation's
/// URL rules, which differ in exactly the characters that matter here.
public enum URLEncoding {
  private static let hexDigits = Array("0123456789ABCDEF".utf8)

  @inline(__always) static func isUnreserved(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
      UInt8(ascii: "0")...UInt8(ascii: "9"),
      UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
      true
    default: false
    }
  }

  /// RFC 3986: everything but `A-Z a-z 0-9 - _ . ~` as `%XX` with upper-case hex; a space is `%20`.
  /// With `keepSlash`, `/` stays as it is (for paths).
  public static func encode(_ text: String, keepSlash: Bool = false) -> String {
    var output: [UInt8] = []
    output.reserveCapacity(text.utf8.count)
    for byte in text.utf8 {
      if isUnreserved(byte) || (keepSlash && byte == UInt8(ascii: "/")) {
        output.append(byte)
      } else {
        output.append(UInt8(ascii: "%"))
        output.append(hexDigits[Int(byte >> 4)])
        output.append(hexDigits[Int(byte & 0xF)])
      }
    }
    return String(decoding: output, as: UTF8.self)
  }

  /// Decodes `encoding-type=url` values: `%XX`, and `+` as a space, the way S3-style servers form-encode.
  /// Paths keep `+` as it is (`plusIsSpace: false`). Returns nil for a malformed escape, so a garbled key is
  /// never guessed at.
  public static func decode(_ text: String, plusIsSpace: Bool = true) -> String? {
    guard text.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) else { return text }
    var output: [UInt8] = []
    output.reserveCapacity(text.utf8.count)
    var iterator = text.utf8.makeIterator()
    while let byte = iterator.next() {
      switch byte {
      case UInt8(ascii: "+") where plusIsSpace:
        output.append(UInt8(ascii: " "))
      case UInt8(ascii: "%"):
        guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
          return nil
        }
        output.append(high << 4 | low)
      default:
        output.append(byte)
      }
    }
    return String(validating: output, as: UTF8.self)
  }

  private static func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
  }

  /// Form-style encoding as S3-like servers write `encoding-type=url` values: a space is `+`, a `+` is `%2B`.
  public static func formEncode(_ text: String) -> String {
    encode(text, keepSlash: true).replacingOccurrences(of: "%20", with: "+")
  }
}

public enum Hex {
  private static let digits = Array("0123456789abcdef".utf8)

  public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
    var output: [UInt8] = []
    for byte in bytes {
      output.append(digits[Int(byte >> 4)])
      output.append(digits[Int(byte & 0xF)])
    }
    return String(decoding: output, as: UTF8.self)
  }
}
