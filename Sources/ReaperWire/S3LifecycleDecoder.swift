import Foundation
import ReaperCore

/// Reads a bucket's `GetBucketLifecycleConfiguration` answer for the rules that abort incomplete multipart uploads.
/// Streaming like `S3Decoder`, and as wary: the document comes from the server. What it finds is advice only; a
/// rule that cannot be fully read is said, never guessed away.
public enum S3LifecycleDecoder {
  /// AWS allows 1,000 rules of a few hundred bytes each; a larger body is not a lifecycle configuration.
  public static let maximumBytes = 2 << 20
  public static let maximumRules = 1_000

  public static func decode(_ bytes: [UInt8]) throws(WireFailure) -> LifecycleReading {
    guard bytes.count <= maximumBytes else {
      throw WireFailure("lifecycle configuration of \(bytes.count) bytes, more than \(maximumBytes)")
    }
    guard BodySniffer.kind(bytes) == .xml else {
      throw WireFailure("lifecycle configuration body is not XML (\(bytes.count) bytes)")
    }
    var root: String?
    var current = RawRule()
    var rules: [RawRule] = []
    var ruleCount = 0
    let failure = StreamingXML.parse(
      bytes,
      start: { path in
        if path.count == 1 { root = path[0] }
        guard path.count >= 2, path[1] == "Rule" else { return }
        switch path.count {
        case 2: current = RawRule()
        case 3 where path[2] == "Filter": current.hasFilter = true
        case 3 where path[2] == "AbortIncompleteMultipartUpload": current.abortElements += 1
        default: if path.count >= 4, path[2] == "Filter" { current.filterElement(Array(path[3...])) }
        }
      },
      end: { path, text in
        guard path.count >= 2, path[1] == "Rule" else { return }
        switch (path.count, path.last) {
        case (2, _):
          ruleCount += 1
          if rules.count < maximumRules { rules.append(current) }
        case (3, "ID"): current.ids.append(text)
        case (3, "Status"): current.statuses.append(text)
        case (3, "Prefix"): current.prefixes.append(text)
        case (4, "Prefix") where path[2] == "Filter": current.prefixes.append(text)
        case (5, "Prefix") where path[2] == "Filter" && path[3] == "And": current.prefixes.append(text)
        case (4, "DaysAfterInitiation") where path[2] == "AbortIncompleteMultipartUpload": current.days.append(text)
        default: break
        }
      })
    if let failure { throw WireFailure("lifecycle configuration XML is malformed (truncated?): \(failure)") }
    guard root == "LifecycleConfiguration" else {
      throw WireFailure("the answer is a <\(root ?? "?")>, not a <LifecycleConfiguration>")
    }
    var reading = LifecycleReading()
    if ruleCount > maximumRules {
      reading.problems.append(
        "the lifecycle configuration has \(ruleCount) rules; only the first \(maximumRules) were read")
    }
    for rule in rules {
      switch rule.sweep() {
      case .none: break
      case .sweep(let sweep): reading.sweeps.append(sweep)
      case .unreadable(let problem): reading.problems.append(problem)
      }
    }
    return reading
  }

  /// One `<Rule>` as written, before it is believed.
  struct RawRule {
    var ids: [String] = []
    var statuses: [String] = []
    var prefixes: [String] = []
    var days: [String] = []
    var abortElements = 0
    var hasFilter = false
    var tagged = false
    var sized = false
    var unknownFilterElements: Set<String> = []

    /// Notes an element inside `<Filter>`; `path` starts below it.
    mutating func filterElement(_ path: [String]) {
      let inner = path.first == "And" ? Array(path.dropFirst()) : path
      switch inner.first {
      case nil, "Prefix": break
      case "Tag": tagged = true
      case "ObjectSizeGreaterThan", "ObjectSizeLessThan": sized = true
      case .some(let name): unknownFilterElements.insert(name)
      }
    }

    enum Outcome {
      /// Not a sweep: no abort of incomplete uploads, or disabled.
      case none
      case sweep(ServerSweep)
      case unreadable(String)
    }

    func sweep() -> Outcome {
      guard abortElements > 0 || !days.isEmpty else { return .none }
      let id = ids.first ?? ""
      let label = id.isEmpty ? "a lifecycle rule with no ID" : "lifecycle rule \"\(id)\""
      let states = Set(statuses.map { $0.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() })
      if states == ["disabled"] { return .none }
      guard states == ["enabled"] else {
        return .unreadable(
          "\(label) aborts incomplete uploads but its Status is \(statuses.isEmpty ? "missing" : statuses.map { "\"\($0)\"" }.joined(separator: ", ")), neither Enabled nor Disabled; not compared"
        )
      }
      let numbers = days.map { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
      guard !numbers.isEmpty, abortElements <= 1,
        let first = numbers.first ?? nil, numbers.allSatisfy({ $0 == first }),
        (1...ServerSweep.maximumDays).contains(first)
      else {
        let said =
          days.isEmpty
          ? "no DaysAfterInitiation" : "DaysAfterInitiation \(days.map { "\"\($0)\"" }.joined(separator: ", "))"
        return .unreadable(
          "\(label) aborts incomplete uploads after \(said), not one whole number of days from 1 to \(ServerSweep.maximumDays); not compared"
        )
      }
      return .sweep(ServerSweep(ruleID: id, days: first, prefix: commonPrefix(prefixes), filterDoubt: filterDoubt()))
    }

    /// Why the filter may cover other keys than its prefix says, or nil when it is read in full.
    func filterDoubt() -> String? {
      var doubts: [String] = []
      if tagged {
        // AWS refuses AbortIncompleteMultipartUpload with a tag filter (uploads have no tags); another server may not.
        doubts.append("filters by object tag, which AWS does not allow with AbortIncompleteMultipartUpload")
      }
      if sized { doubts.append("filters by object size") }
      if !unknownFilterElements.isEmpty {
        doubts.append(
          "has elements this check does not read (\(unknownFilterElements.sorted().joined(separator: ", ")))")
      }
      if prefixes.count > 1, Set(prefixes).count > 1 {
        doubts.append("names more than one prefix; their common prefix was taken")
      } else if prefixes.count > 1 {
        doubts.append("names its prefix more than once")
      }
      return doubts.isEmpty ? nil : doubts.joined(separator: "; ")
    }

    /// The longest prefix every written prefix starts with, byte-wise: a doubted filter is read as covering more.
    func commonPrefix(_ prefixes: [String]) -> String {
      guard var common = prefixes.first.map({ Array($0.utf8) }) else { return "" }
      for prefix in prefixes.dropFirst() {
        let bytes = Array(prefix.utf8)
        let shared = zip(common, bytes).prefix { $0 == $1 }.count
        common = Array(common.prefix(shared))
      }
      // A cut inside a multi-byte character leaves invalid UTF-8: back off to a character boundary.
      while !common.isEmpty, String(validating: common, as: UTF8.self) == nil { common.removeLast() }
      return String(decoding: common, as: UTF8.self)
    }
  }
}
