/// A key glob from a rule's `exclude`: `*` matches any run of characters, `/` included, and `?` exactly one.
/// Everything else matches itself. Matching is on Unicode scalars, so keys are compared exactly as stored,
/// without the canonical equivalence that Swift's `String ==` applies.
public struct Glob: Sendable, Hashable, CustomStringConvertible {
  public let pattern: String
  private let scalars: [Unicode.Scalar]

  public init(_ pattern: String) {
    self.pattern = pattern
    self.scalars = Array(pattern.unicodeScalars)
  }

  public var description: String { pattern }

  /// The literal text before the first wildcard: every key this glob matches starts with it.
  public var literalPrefix: String {
    String(String.UnicodeScalarView(scalars.prefix { $0 != "*" && $0 != "?" }))
  }

  public func matches(_ key: String) -> Bool {
    let text = Array(key.unicodeScalars)
    var patternIndex = 0
    var textIndex = 0
    // The last `*` seen, and the text position it is currently assumed to swallow up to.
    var starPattern = -1
    var starText = 0
    while textIndex < text.count {
      if patternIndex < scalars.count, scalars[patternIndex] == "*" {
        starPattern = patternIndex
        starText = textIndex
        patternIndex += 1
      } else if patternIndex < scalars.count, scalars[patternIndex] == "?" || scalars[patternIndex] == text[textIndex] {
        patternIndex += 1
        textIndex += 1
      } else if starPattern >= 0 {
        patternIndex = starPattern + 1
        starText += 1
        textIndex = starText
      } else {
        return false
      }
    }
    while patternIndex < scalars.count, scalars[patternIndex] == "*" { patternIndex += 1 }
    return patternIndex == scalars.count
  }
}
