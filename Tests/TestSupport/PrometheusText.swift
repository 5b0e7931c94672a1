import Foundation

/// A strict reader of the Prometheus text exposition format (version 0.0.4), written from the format's spec so
/// tests check what a real scraper would accept: every line is a comment, blank, or a well-formed sample, and
/// every sample's family has a TYPE line before it.
public struct PrometheusText {
  public struct Sample: Equatable {
    public var name: String
    public var labels: [String: String]
    public var value: Double
  }

  public struct FormatError: Error, CustomStringConvertible {
    public var line: Int
    public var text: String
    public var problem: String
    public var description: String { "line \(line): \(problem): \(text)" }
  }

  public var samples: [Sample] = []
  public var types: [String: String] = [:]

  public init(parsing text: String) throws {
    for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let number = index + 1
      func fail(_ problem: String) -> FormatError { FormatError(line: number, text: String(line), problem: problem) }
      if line.isEmpty { continue }
      if line.hasPrefix("#") {
        let words = line.split(separator: " ", maxSplits: 3)
        if words.count >= 4, words[1] == "TYPE" {
          guard ["counter", "gauge", "histogram", "summary", "untyped"].contains(String(words[3])) else {
            throw fail("unknown type")
          }
          guard types[String(words[2])] == nil else { throw fail("second TYPE line for a family") }
          types[String(words[2])] = String(words[3])
        }
        continue
      }
      var rest = Substring(line)
      let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }
      guard let first = name.first, !first.isNumber else { throw fail("bad metric name") }
      rest = rest.dropFirst(name.count)
      var labels: [String: String] = [:]
      if rest.first == "{" {
        rest = rest.dropFirst()
        while rest.first != "}" {
          let label = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
          guard !label.isEmpty else { throw fail("bad label name") }
          rest = rest.dropFirst(label.count)
          guard rest.hasPrefix("=\"") else { throw fail("label without =\"") }
          rest = rest.dropFirst(2)
          var value = ""
          while let character = rest.first, character != "\"" {
            rest = rest.dropFirst()
            if character == "\\" {
              guard let escaped = rest.first else { throw fail("dangling escape") }
              rest = rest.dropFirst()
              switch escaped {
              case "n": value.append("\n")
              case "\\": value.append("\\")
              case "\"": value.append("\"")
              default: throw fail("bad escape")
              }
            } else {
              value.append(character)
            }
          }
          guard rest.first == "\"" else { throw fail("unterminated label value") }
          rest = rest.dropFirst()
          guard labels[String(label)] == nil else { throw fail("label given twice") }
          labels[String(label)] = value
          if rest.first == "," { rest = rest.dropFirst() }
        }
        rest = rest.dropFirst()
      }
      guard rest.first == " " else { throw fail("no space before the value") }
      let fields = rest.dropFirst().split(separator: " ")
      guard (1...2).contains(fields.count) else { throw fail("bad value or timestamp") }
      let valueText = String(fields[0])
      let value: Double
      switch valueText {
      case "+Inf": value = .infinity
      case "-Inf": value = -.infinity
      case "NaN": value = .nan
      default:
        guard let parsed = Double(valueText) else { throw fail("value is not a number") }
        value = parsed
      }
      let family = Self.family(of: String(name), types: types)
      guard types[family] != nil else { throw fail("sample before its family's TYPE line") }
      samples.append(Sample(name: String(name), labels: labels, value: value))
    }
  }

  /// `x_bucket`, `x_sum` and `x_count` belong to histogram `x`.
  static func family(of name: String, types: [String: String]) -> String {
    for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
      let base = String(name.dropLast(suffix.count))
      if types[base] == "histogram" || types[base] == "summary" { return base }
    }
    return name
  }

  /// The value of the one sample with this name and exactly these labels.
  public func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
    let matching = samples.filter { $0.name == name && $0.labels == labels }
    return matching.count == 1 ? matching[0].value : nil
  }

  public func samples(named name: String) -> [Sample] { samples.filter { $0.name == name } }
}
