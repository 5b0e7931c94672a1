/// The rules of a config in precedence order. Which rule applies to an upload:
/// the longest matching `prefix`; on equal prefixes a rule naming the bucket, then one with a bucket glob, then
/// one naming the target; then the earlier rule in the file. A rule with `initiator` or `owner` globs is passed
/// over for an upload whose ids do not match them (or that has no such id), and the next rule is tried: such a
/// rule narrows what it reaches, never what the rules after it reach. The winner's `exclude` globs then apply,
/// and no other rule is tried.
public struct RuleSet: Sendable, Hashable {
  /// In file order, as written.
  public let rules: [Rule]
  /// Indices into `rules`, highest precedence first.
  private let precedence: [Int]

  public init(_ rules: [Rule]) {
    self.rules = rules
    self.precedence = rules.indices.sorted { lhs, rhs in
      let left = rules[lhs]
      let right = rules[rhs]
      let leftLength = left.prefix.utf8.count
      let rightLength = right.prefix.utf8.count
      if leftLength != rightLength { return leftLength > rightLength }
      if left.bucketRank != right.bucketRank { return left.bucketRank > right.bucketRank }
      if (left.target != nil) != (right.target != nil) { return left.target != nil }
      return lhs < rhs
    }
  }

  /// Every rule, highest precedence first.
  public var inPrecedenceOrder: [Rule] { precedence.map { rules[$0] } }

  public enum Selection: Sendable, Hashable {
    case unmatched
    case excluded(Rule, by: Glob)
    case selected(Rule)

    /// The rule that acts on the upload, nil when none does (unmatched or excluded).
    public var selectedRuleName: String? {
      if case .selected(let rule) = self { return rule.name }
      return nil
    }

    public var rule: Rule? {
      switch self {
      case .unmatched: nil
      case .excluded(let rule, _), .selected(let rule): rule
      }
    }
  }

  public func select(
    target: String, bucket: String, key: String, initiator: String? = nil, owner: String? = nil
  ) -> Selection {
    scoped(target: target, bucket: bucket).select(key: key, initiator: initiator, owner: owner)
  }

  /// The rules that can apply in one bucket, in precedence order: done once per bucket, not once per upload.
  public func scoped(target: String, bucket: String) -> ScopedRules {
    ScopedRules(
      rules: precedence.lazy.map { rules[$0] }.filter { rule in
        (rule.target.map { $0 == target } ?? true) && rule.reaches(bucket: bucket)
      })
  }

  /// An earlier rule with exactly the same scope, which means `rule` can never win. One with `initiator` or
  /// `owner` globs lets the uploads it passes over through, so it shadows nothing.
  public func shadowingRule(of rule: Rule) -> Rule? {
    guard let position = rules.firstIndex(where: { $0.name == rule.name }) else { return nil }
    return rules[..<position].first { other in
      other.prefix.utf8.elementsEqual(rule.prefix.utf8) && other.bucket == rule.bucket && other.target == rule.target
        && !other.hasIdentityCondition
    }
  }
}

/// The rules of one bucket, ready to select per key.
public struct ScopedRules: Sendable, Hashable {
  public let rules: [Rule]

  public var isEmpty: Bool { rules.isEmpty }

  /// Whether any rule here may need an upload's parts listed to decide.
  public var anyNeedsParts: Bool { rules.contains { $0.needsParts } }

  /// The rules of higher precedence than `rule` whose prefix takes in `key` but whose `initiator` or `owner` globs
  /// passed the upload over: that `rule` acts at all rests on the listing's word for who the upload is, as much as
  /// it would under a rule by initiator or owner of its own.
  public func passedOver(before rule: Rule, key: String) -> [Rule] {
    var passed: [Rule] = []
    for other in rules where key.utf8.starts(with: other.prefix.utf8) {
      if other.name == rule.name { break }
      if other.hasIdentityCondition { passed.append(other) }
    }
    return passed
  }

  /// - Parameters:
  ///   - initiator: the upload's `Initiator.ID`, nil when the listing carried none.
  ///   - owner: the upload's `Owner.ID`, nil when the listing carried none.
  public func select(key: String, initiator: String? = nil, owner: String? = nil) -> RuleSet.Selection {
    // Byte-wise prefix test: keys are byte strings, and String.hasPrefix would apply Unicode equivalence.
    guard
      let winner = rules.first(where: {
        key.utf8.starts(with: $0.prefix.utf8) && $0.matchesIdentity(initiator: initiator, owner: owner)
      })
    else { return .unmatched }
    if let glob = winner.exclude.first(where: { $0.matches(key) }) { return .excluded(winner, by: glob) }
    return .selected(winner)
  }
}
