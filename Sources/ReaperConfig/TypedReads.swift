import ReaperCore
import TOMLKit

/// Reads of one key as one type. A key of the wrong type or out of range reads as nil and is reported at its
/// line as `section.key`, so one bad value never hides the others; a missing key is reported only by the
/// required reads.
extension ConfigValidator {
  func line(_ locatorPath: String) -> Int? { locator.line(of: locatorPath) }

  /// The line of a key, or of its table when the key is absent.
  func at(_ section: Section, _ key: String) -> Int? {
    line(section.path.isEmpty ? key : "\(section.path).\(key)") ?? line(section.path)
  }

  func keyName(_ section: Section, _ key: String) -> String { section.name.isEmpty ? key : "\(section.name).\(key)" }

  mutating func report(_ line: Int?, _ key: String, _ message: String, _ severity: ConfigDiagnostic.Severity = .error) {
    diagnostics.append(ConfigDiagnostic(file: path, line: line, key: key, message: message, severity: severity))
  }

  mutating func typeMismatch(_ section: Section, _ key: String, expected: String, got type: TOMLType) {
    report(at(section, key), keyName(section, key), "expected \(expected), found \(Self.describe(type))")
  }

  static func describe(_ type: TOMLType) -> String {
    switch type {
    case .table: "a table"
    case .array: "an array"
    case .string: "a string"
    case .int: "an integer"
    case .double: "a float"
    case .bool: "a boolean"
    case .date: "a date"
    case .time: "a time"
    case .dateTime: "a date-time"
    }
  }

  mutating func table(in section: Section, _ kind: ConfigSection) -> Section? {
    let key = kind.rawValue
    guard let value = section.table[key] else { return nil }
    guard let table = value.table else {
      typeMismatch(section, key, expected: "a table ([\(key)])", got: value.type)
      return nil
    }
    return Section(kind, table: table)
  }

  mutating func tables(in section: Section, _ kind: ConfigSection) -> [TOMLTable] {
    let key = kind.rawValue
    guard let value = section.table[key] else { return [] }
    guard let array = value.array else {
      typeMismatch(section, key, expected: "an array of tables ([[\(key)]])", got: value.type)
      return []
    }
    var result: [TOMLTable] = []
    for element in array {
      if let table = element.table {
        result.append(table)
      } else {
        typeMismatch(section, key, expected: "an array of tables ([[\(key)]])", got: element.type)
      }
    }
    return result
  }

  mutating func string(_ section: Section, _ key: String) -> String? {
    guard let value = section.table[key] else { return nil }
    guard let text = value.string, value.type == .string else {
      typeMismatch(section, key, expected: "a string", got: value.type)
      return nil
    }
    return text
  }

  mutating func requiredString(_ section: Section, _ key: String) -> String? {
    guard section.table[key] != nil else {
      report(line(section.path), keyName(section, key), "missing; every [[\(section.name)]] needs \(key)")
      return nil
    }
    return string(section, key)
  }

  mutating func boolean(_ section: Section, _ key: String) -> Bool? {
    guard let value = section.table[key] else { return nil }
    guard value.type == .bool, let flag = value.bool else {
      typeMismatch(section, key, expected: "true or false", got: value.type)
      return nil
    }
    return flag
  }

  mutating func integer(_ section: Section, _ key: String, range: ClosedRange<Int>) -> Int? {
    guard let value = section.table[key] else { return nil }
    guard value.type == .int, let number = value.int else {
      typeMismatch(section, key, expected: "an integer", got: value.type)
      return nil
    }
    guard range.contains(number) else {
      report(
        at(section, key), keyName(section, key), "\(number) is out of range \(range.lowerBound)...\(range.upperBound)")
      return nil
    }
    return number
  }

  mutating func duration(_ section: Section, _ key: String) -> TimeSpan? {
    guard let value = section.table[key] else { return nil }
    if let number = value.int, value.type == .int {
      report(
        at(section, key), keyName(section, key),
        "bare number \(number): a duration needs a unit, as in \"\(number)s\" (units: s, m, h, d, w)")
      return nil
    }
    guard let text = string(section, key) else { return nil }
    do {
      return try TimeSpan.parse(text)
    } catch {
      report(at(section, key), keyName(section, key), error.message)
      return nil
    }
  }

  mutating func stringArray(_ section: Section, _ key: String, required: Bool) -> [String]? {
    guard let value = section.table[key] else {
      if required {
        report(line(section.path), keyName(section, key), "missing; every [[\(section.name)]] needs \(key)")
      }
      return nil
    }
    guard let array = value.array else {
      typeMismatch(section, key, expected: "an array of strings", got: value.type)
      return nil
    }
    var result: [String] = []
    for element in array {
      guard element.type == .string, let text = element.string else {
        typeMismatch(section, key, expected: "an array of strings", got: element.type)
        return nil
      }
      result.append(text)
    }
    if required {
      if result.isEmpty { report(at(section, key), keyName(section, key), "must list at least one") }
      if result.contains("") { report(at(section, key), keyName(section, key), "names must not be empty") }
      let duplicates = Set(result.filter { name in result.filter { $0 == name }.count > 1 })
      if !duplicates.isEmpty {
        report(
          at(section, key), keyName(section, key),
          "listed more than once: \(duplicates.sorted().joined(separator: ", "))")
      }
    }
    return result
  }
}
