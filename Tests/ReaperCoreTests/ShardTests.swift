import Testing

@testable import ReaperCore

@Suite("Shards")
struct ShardTests {
  @Test func parsing() {
    #expect(Shard(parsing: "2/3") == Shard(index: 2, count: 3))
    #expect(Shard(parsing: "1/1") == .whole)
    for bad in ["0/3", "4/3", "3", "a/b", "1/0", "-1/2", "1/2/3", ""] { #expect(Shard(parsing: bad) == nil, "\(bad)") }
  }

  @Test func everyPairHasExactlyOneOwner() {
    let pairs = (0..<300).map { ("target-\($0 % 7)", "bucket-\($0)") }
    for count in [1, 2, 3, 5, 8] {
      var owned = [Int](repeating: 0, count: count)
      for (target, bucket) in pairs {
        let owners = (1...count).filter { Shard(index: $0, count: count).owns(target: target, bucket: bucket) }
        #expect(owners.count == 1)
        owned[owners[0] - 1] += 1
      }
      // A usable spread: no shard idle, none with more than twice its share.
      #expect(owned.allSatisfy { $0 > 0 && $0 < 2 * pairs.count / count + 2 }, "\(owned)")
    }
  }

  @Test func theHashIsStableAcrossHostsAndBuilds() {
    // Fixed values: a change here would move every bucket to another host.
    #expect(Shard.hash(target: "", bucket: "") == 0xAF63_BD4C_8601_B7DF)
    #expect(Shard.hash(target: "coffers-bj", bucket: "examplecoffer-1250000000") == 0x922E_6042_AA90_BBD0)
  }
}
