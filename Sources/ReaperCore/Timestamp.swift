import Foundation

/// The zone for timestamps that carry none (CDCS's ctime `Wed Jan 18 16:12:38 2017`).
/// Named zones arrive as already-loaded `TimeZone` values, so the core never reads tzdata itself.
public enum Zone: Sendable, Hashable, CustomStringConvertible {
  case fixed(secondsEast: Int)
  case named(TimeZone)

  public static let utc = Zone.fixed(secondsEast: 0)

  /// `"+08:00"`, `"-05:30"`, `"Z"`, `"UTC"` → a fixed offset; anything else is not an offset.
  public static func offset(parsing text: String) -> Zone? {
    if text == "Z" || text == "UTC" || text == "GMT" { return .utc }
    let bytes = Array(text.utf8)
    guard bytes.count == 6, bytes[0] == UInt8(ascii: "+") || bytes[0] == UInt8(ascii: "-"),
      bytes[3] == UInt8(ascii: ":"),
      let hours = Digits.number(bytes, 1, 2), let minutes = Digits.number(bytes, 4, 2), hours <= 18, minutes < 60
    else { return nil }
    let magnitude = hours * 3600 + minutes * 60
    return .fixed(secondsEast: bytes[0] == UInt8(ascii: "-") ? -magnitude : magnitude)
  }

  public var description: String {
    switch self {
    case .fixed(let seconds):
      if seconds == 0 { return "UTC" }
      let magnitude = abs(seconds)
      let text = String(format: "%02d:%02d", magnitude / 3600, magnitude % 3600 / 60)
      return (seconds < 0 ? "-" : "+") + text
    case .named(let zone): return zone.identifier
    }
  }

  /// Seconds east of UTC in effect at a UTC instant.
  func offset(atUTC seconds: Int64) -> Int {
    switch self {
    case .fixed(let offset): offset
    case .named(let zone): zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
  }

  /// The UTC instant of a wall-clock time in this zone. Inside a DST gap or overlap it picks one of the
  /// candidates; either is within an hour, far below any threshold the reaper uses.
  func utcSeconds(forLocal local: Int64) -> Int64 {
    let guess = local - Int64(offset(atUTC: local))
    return local - Int64(offset(atUTC: guess))
  }
}

/// Parsers for the timestamp forms providers send. Each returns nil rather than guessing.
public enum Timestamp {
  /// RFC 3339, with or without fractional seconds: `2017-01-18T16:12:38Z`, `2017-01-18T16:12:38.123+08:00`.
  /// A form with no offset is read in `zoneless` when given, and refused otherwise.
  public static func parseRFC3339(_ text: String, zoneless: Zone? = nil) -> Date? {
    var text = text
    return text.withUTF8 { parseRFC3339(bytes: $0, zoneless: zoneless) }
  }

  static func parseRFC3339(bytes: UnsafeBufferPointer<UInt8>, zoneless: Zone?) -> Date? {
    guard bytes.count >= 19, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
      bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":")
    else { return nil }
    let separator = bytes[10]
    guard separator == UInt8(ascii: "T") || separator == UInt8(ascii: "t") || separator == UInt8(ascii: " ") else {
      return nil
    }
    guard let year = Digits.number(bytes, 0, 4), let month = Digits.number(bytes, 5, 2),
      let day = Digits.number(bytes, 8, 2), let hour = Digits.number(bytes, 11, 2),
      let minute = Digits.number(bytes, 14, 2), let second = Digits.number(bytes, 17, 2),
      let local = Civil.seconds(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    else { return nil }
    var index = 19
    var fraction = 0.0
    if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
      index += 1
      var scale = 0.1
      let start = index
      while index < bytes.count, let digit = Digits.value(bytes[index]) {
        fraction += Double(digit) * scale
        scale /= 10
        index += 1
      }
      if index == start { return nil }
    }
    let utc: Int64
    if index == bytes.count {
      guard let zoneless else { return nil }
      utc = zoneless.utcSeconds(forLocal: local)
    } else if bytes[index] == UInt8(ascii: "Z") || bytes[index] == UInt8(ascii: "z") {
      guard index + 1 == bytes.count else { return nil }
      utc = local
    } else {
      let sign = bytes[index]
      guard sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-"), bytes.count == index + 6,
        bytes[index + 3] == UInt8(ascii: ":"), let hours = Digits.number(bytes, index + 1, 2),
        let minutes = Digits.number(bytes, index + 4, 2), hours <= 23, minutes <= 59
      else { return nil }
      let offset = Int64(hours * 3600 + minutes * 60)
      utc = sign == UInt8(ascii: "+") ? local - offset : local + offset
    }
    return Date(timeIntervalSince1970: TimeInterval(utc) + fraction)
  }

  /// RFC 1123 / HTTP date: `Wed, 18 Jan 2017 16:12:38 GMT`. The weekday is not cross-checked.
  public static func parseRFC1123(_ text: String) -> Date? {
    let fields = text.split(separator: " ", omittingEmptySubsequences: true)
    guard fields.count == 6, fields[0].hasSuffix(","), Civil.weekdays.contains(String(fields[0].dropLast())),
      let day = Int(fields[1]), let month = Civil.month(named: fields[2]), let year = Int(fields[3]),
      fields[3].count == 4, let (hour, minute, second) = Civil.clock(fields[4])
    else { return nil }
    let zone = fields[5]
    guard zone == "GMT" || zone == "UTC" || zone == "+0000" || zone == "Z",
      let seconds = Civil.seconds(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    else { return nil }
    return Date(timeIntervalSince1970: TimeInterval(seconds))
  }

  /// The zone-less ctime form `Wed Jan 18 16:12:38 2017` (day may be space-padded), read in `zone`.
  public static func parseCtime(_ text: String, zone: Zone) -> Date? {
    let fields = text.split(separator: " ", omittingEmptySubsequences: true)
    guard fields.count == 5, Civil.weekdays.contains(String(fields[0])), let month = Civil.month(named: fields[1]),
      let day = Int(fields[2]), let (hour, minute, second) = Civil.clock(fields[3]), fields[4].count == 4,
      let year = Int(fields[4]),
      let local = Civil.seconds(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    else { return nil }
    return Date(timeIntervalSince1970: TimeInterval(zone.utcSeconds(forLocal: local)))
  }

  /// Any of the three forms. Zone-less forms are read in `zone`.
  public static func parse(_ text: String, zone: Zone) -> Date? {
    parse(text, zoneless: zone)
  }

  /// Any of the three forms; zone-less forms (RFC 3339 without an offset, ctime) are read in `zoneless`, and
  /// refused when it is nil: a stamp whose zone is unknown has as many readings as there are zones.
  public static func parse(_ text: String, zoneless: Zone?) -> Date? {
    guard let first = text.utf8.first else { return nil }
    if Digits.value(first) != nil { return parseRFC3339(text, zoneless: zoneless) }
    // A byte search: String.contains(String) goes through Foundation's locale-aware search, a tenth of a scan's CPU.
    if text.utf8.contains(UInt8(ascii: ",")) { return parseRFC1123(text) }
    return zoneless.flatMap { parseCtime(text, zone: $0) }
  }

  /// `Wed, 18 Jan 2017 16:12:38 GMT`, as HTTP `Date` headers carry it.
  public static func formatRFC1123(_ date: Date) -> String {
    let total = Int64(date.timeIntervalSince1970.rounded(.down))
    let (year, month, day, secondsOfDay) = Civil.date(fromSeconds: total)
    // 1970-01-01 was a Thursday.
    var days = total / 86_400
    if total % 86_400 < 0 { days -= 1 }
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][Int(((days % 7) + 7) % 7)]
    func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
    return
      "\(weekday), \(two(day)) \(Civil.months[month - 1]) \(year) \(two(secondsOfDay / 3600)):\(two(secondsOfDay % 3600 / 60)):\(two(secondsOfDay % 60)) GMT"
  }

  /// `Wed Jan 18 16:12:38 2017`: the zone-less ctime form, as a server in `zone` would write it.
  public static func formatCtime(_ date: Date, zone: Zone) -> String {
    let utc = Int64(date.timeIntervalSince1970.rounded(.down))
    let local = utc + Int64(zone.offset(atUTC: utc))
    let rfc = formatRFC1123(Date(timeIntervalSince1970: TimeInterval(local)))
    // "Wed, 18 Jan 2017 16:12:38 GMT" → "Wed Jan 18 16:12:38 2017"
    let fields = rfc.split(separator: " ")
    return "\(fields[0].dropLast()) \(fields[2]) \(fields[1]) \(fields[4]) \(fields[3])"
  }

  /// `2017-01-18T16:12:38Z`: RFC 3339 in UTC to the second, as reports print it.
  public static func formatRFC3339(_ date: Date) -> String {
    let total = Int64(date.timeIntervalSince1970.rounded(.down))
    let (year, month, day, secondsOfDay) = Civil.date(fromSeconds: total)
    func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
    let yearText = String(repeating: "0", count: max(0, 4 - String(year).count)) + String(year)
    return
      "\(yearText)-\(two(month))-\(two(day))T\(two(secondsOfDay / 3600)):\(two(secondsOfDay % 3600 / 60)):\(two(secondsOfDay % 60))Z"
  }
}

enum Digits {
  @inline(__always) static func value(_ byte: UInt8) -> Int? {
    byte >= 0x30 && byte <= 0x39 ? Int(byte - 0x30) : nil
  }

  static func number<C: RandomAccessCollection>(_ bytes: C, _ start: Int, _ count: Int) -> Int?
  where C.Element == UInt8, C.Index == Int {
    guard start + count <= bytes.count else { return nil }
    var result = 0
    for index in start..<(start + count) {
      guard let digit = value(bytes[index]) else { return nil }
      result = result * 10 + digit
    }
    return result
  }
}

/// Proleptic Gregorian calendar arithmetic (Howard Hinnant's days-from-civil), with no Calendar or locale.
enum Civil {
  static let weekdays: Set<String> = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
  static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

  static func month(named name: Substring) -> Int? {
    months.firstIndex { $0 == name }.map { $0 + 1 }
  }

  static func clock(_ text: Substring) -> (Int, Int, Int)? {
    let bytes = Array(text.utf8)
    guard bytes.count == 8, bytes[2] == UInt8(ascii: ":"), bytes[5] == UInt8(ascii: ":"),
      let hour = Digits.number(bytes, 0, 2), let minute = Digits.number(bytes, 3, 2),
      let second = Digits.number(bytes, 6, 2)
    else { return nil }
    return (hour, minute, second)
  }

  static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

  static func daysIn(month: Int, year: Int) -> Int {
    switch month {
    case 2: isLeap(year) ? 29 : 28
    case 4, 6, 9, 11: 30
    default: 31
    }
  }

  /// Seconds since the epoch for a wall-clock time, or nil when a field is out of range. A leap second (:60)
  /// is accepted and lands on the next minute.
  static func seconds(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Int64? {
    guard (1...9999).contains(year), (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
      (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second)
    else { return nil }
    let shiftedYear = month <= 2 ? year - 1 : year
    let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
    let yearOfEra = shiftedYear - era * 400
    let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    let days = Int64(era) * 146_097 + Int64(dayOfEra) - 719_468
    return days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
  }

  static func date(fromSeconds total: Int64) -> (year: Int, month: Int, day: Int, secondsOfDay: Int) {
    var days = total / 86_400
    var secondsOfDay = total % 86_400
    if secondsOfDay < 0 {
      secondsOfDay += 86_400
      days -= 1
    }
    let shifted = days + 719_468
    let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
    let dayOfEra = shifted - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let monthIndex = (5 * dayOfYear + 2) / 153
    let day = Int(dayOfYear - (153 * monthIndex + 2) / 5 + 1)
    let month = Int(monthIndex < 10 ? monthIndex + 3 : monthIndex - 9)
    let year = Int(yearOfEra + era * 400) + (month <= 2 ? 1 : 0)
    return (year, month, day, Int(secondsOfDay))
  }
}
