import TOMLKit

extension ConfigValidator {
  /// An unknown key is an error, not a warning: a misspelt `min_age` that was silently dropped would leave the
  /// default in force while the operator believes the setting applies.
  mutating func checkUnknownKeys(_ section: Section) {
    for key in section.table.keys.sorted() where !section.allowed.contains(key) {
      // A table at the top level is a whole section misspelt or made up, not one stray setting.
      let value = section.table[key]
      let isSection = section.isRoot && (value?.table != nil || value?.array?.first?.table != nil)
      var message = isSection ? "unknown section" : "unknown key"
      if let suggestion = Suggest.closest(to: key, among: section.allowed) {
        message += "; did you mean \"\(suggestion)\"?"
      }
      // The locator records `[[name]]` as `name[0]`: without that lookup an unknown one would have no line.
      report(at(section, key) ?? line("\(key)[0]"), keyName(section, key), message)
    }
  }
}

enum Suggest {
  /// The allowed key a typo most likely meant, when it is close enough to be worth saying.
  static func closest(to key: String, among candidates: [String]) -> String? {
    let scored = candidates.map { ($0, distance(Array(key), Array($0))) }.min { $0.1 < $1.1 }
    guard let (best, score) = scored, score <= max(2, key.count / 3) else { return nil }
    return best
  }

  static func distance(_ lhs: [Character], _ rhs: [Character]) -> Int {
    var previous = Array(0...rhs.count)
    for (i, left) in lhs.enumerated() {
      var current = [i + 1] + Array(repeating: 0, count: rhs.count)
      for (j, right) in rhs.enumerated() {
        current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (left == right ? 0 : 1))
      }
      previous = current
    }
    return previous[rhs.count]
  }
}
