/// A length of time as the config writes it: a number with a unit (`"90s"`, `"45m"`, `"36h"`, `"7d"`, `"2w"`),
/// or several, largest unit first (`"1d12h"`). A bare number is refused because `3600` could mean anything.
public struct TimeSpan: Sendable, Hashable, Comparable, CustomStringConvertible {
  public enum Unit: Character, Sendable, CaseIterable {
    case weeks = "w"
    case days = "d"
    case hours = "h"
    case minutes = "m"
    case seconds = "s"

    public var seconds: Int64 {
      switch self {
      case .weeks: 604_800
      case .days: 86_400
      case .hours: 3_600
      case .minutes: 60
      case .seconds: 1
      }
    }
  }

  /// Ten years: longer than any sane threshold, short enough that arithmetic never overflows.
  public static let maximumSeconds: Int64 = 10 * 366 * 86_400

  public let seconds: Int64
  /// The largest unit the text was written with, so reasons speak in the operator's own unit.
  public let leadingUnit: Unit

  public init(seconds: Int64, leadingUnit: Unit? = nil) {
    self.seconds = seconds
    self.leadingUnit = leadingUnit ?? Self.naturalUnit(for: seconds)
  }

  public static func == (lhs: TimeSpan, rhs: TimeSpan) -> Bool { lhs.seconds == rhs.seconds }
  public func hash(into hasher: inout Hasher) { hasher.combine(seconds) }
  public static func < (lhs: TimeSpan, rhs: TimeSpan) -> Bool { lhs.seconds < rhs.seconds }

  public var description: String { Self.render(seconds: seconds, from: leadingUnit, components: 5, separator: "") }

  /// Parses the config form. The error text is meant to follow `FILE:LINE: key: ` in a message.
  public static func parse(_ text: String) throws(TimeSpanError) -> TimeSpan {
    let bytes = Array(text.utf8)
    if bytes.isEmpty { throw .init("empty duration: write a number with a unit, such as \"36h\"") }
    if bytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
      throw .init("\"\(text)\" has no unit: write it as \"\(text)s\" (units: s, m, h, d, w)")
    }
    var total: Int64 = 0
    var leading: Unit?
    var previous: Unit?
    var index = 0
    while index < bytes.count {
      var number: Int64 = 0
      let start = index
      while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
        number = number &* 10 &+ Int64(bytes[index] - 0x30)
        if number > maximumSeconds { throw .init("\"\(text)\" is longer than ten years") }
        index += 1
      }
      guard index < bytes.count else { throw .init("\"\(text)\" ends without a unit (units: s, m, h, d, w)") }
      let byte = bytes[index]
      if byte == UInt8(ascii: ".") || byte == UInt8(ascii: ",") {
        throw .init("\"\(text)\": fractions are not allowed; use a smaller unit, such as \"90m\" for 1.5h")
      }
      guard let unit = Unit(rawValue: Character(Unicode.Scalar(byte))) else {
        let shown = String(decoding: [byte], as: UTF8.self)
        throw .init("\"\(text)\": unexpected \"\(shown)\"; write a number with a unit: s, m, h, d or w")
      }
      if index == start { throw .init("\"\(text)\": expected a number before \"\(unit.rawValue)\"") }
      if let previous, previous.seconds <= unit.seconds {
        throw .init("\"\(text)\": units must go from largest to smallest, each once (as in \"1d12h\")")
      }
      total += number * unit.seconds
      if total > maximumSeconds { throw .init("\"\(text)\" is longer than ten years") }
      leading = leading ?? unit
      previous = unit
      index += 1
    }
    return TimeSpan(seconds: total, leadingUnit: leading)
  }

  /// Readable length for people, the two largest non-zero parts from days down: `3d 4h`, `45m`, `0s`.
  public static func humanize(seconds: Int64) -> String {
    if seconds < 0 { return "-" + humanize(seconds: -seconds) }
    return render(seconds: seconds, from: .days, components: 2, separator: " ")
  }

  /// Renders `seconds` with the threshold's unit as its largest part, so `age 34h > max_age 24h` compares like
  /// with like; past 99 of that unit (`405h`) it falls back to days, which people read faster.
  public static func humanize(seconds: Int64, like span: TimeSpan) -> String {
    if seconds < 0 { return "-" + humanize(seconds: -seconds, like: span) }
    guard seconds / span.leadingUnit.seconds < 100 else { return humanize(seconds: seconds) }
    return render(seconds: seconds, from: span.leadingUnit, components: 2, separator: " ")
  }

  static func render(seconds: Int64, from top: Unit, components: Int, separator: String) -> String {
    var remaining = seconds
    var parts: [String] = []
    for unit in Unit.allCases where unit.seconds <= top.seconds && parts.count < components {
      let count = remaining / unit.seconds
      remaining -= count * unit.seconds
      if count > 0 { parts.append("\(count)\(unit.rawValue)") }
    }
    return parts.isEmpty ? "0s" : parts.joined(separator: separator)
  }

  static func naturalUnit(for seconds: Int64) -> Unit {
    Unit.allCases.first { seconds >= $0.seconds && seconds % $0.seconds == 0 } ?? .seconds
  }
}

public struct TimeSpanError: Error, Sendable, Equatable, CustomStringConvertible {
  public let message: String
  init(_ message: String) { self.message = message }
  public var description: String { message }
}
