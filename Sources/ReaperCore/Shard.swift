/// `[daemon] shard = "i/n"`: this host is shard i of n (1 ≤ i ≤ n) and scans only the (target, bucket) pairs
/// a stable hash gives it. Every host computes the same split, with no coordination; aborts are idempotent,
/// so an overlap while hosts change their shard settings is harmless.
public struct Shard: Sendable, Hashable, CustomStringConvertible {
  public let index: Int
  public let count: Int

  public static let whole = Shard(index: 1, count: 1)

  public init(index: Int, count: Int) {
    self.index = index
    self.count = count
  }

  /// `"2/4"`; nil when it is not `i/n` with 1 ≤ i ≤ n.
  public init?(parsing text: String) {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count >= 1, count <= 10_000,
      (1...count).contains(index)
    else { return nil }
    self.init(index: index, count: count)
  }

  public var description: String { "\(index)/\(count)" }

  public func owns(target: String, bucket: String) -> Bool {
    count == 1 || Int(Self.hash(target: target, bucket: bucket) % UInt64(count)) == index - 1
  }

  /// FNV-1a over the UTF-8 of target, a NUL, and bucket: the same on every host, build and Swift version
  /// (Swift's Hasher is seeded per process, so it cannot be used here).
  static func hash(target: String, bucket: String) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in target.utf8 + [0] + bucket.utf8 {
      hash ^= UInt64(byte)
      hash &*= 0x100_0000_01B3
    }
    return hash
  }
}
