import Foundation
import ReaperFuzzChecks
import Testing

/// The PDS decoders between libFuzzer runs: the seeds, mutated the ways a broken or hostile server would
/// (cut short, bytes flipped, numbers out of range, types swapped, nesting without end), must never trap.
@Suite("PDS decoder mutations")
struct PDSMutationTests {
  /// A small seeded generator, so a failure names the same input every run.
  struct Mixer {
    var state: UInt64
    mutating func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var value = state
      value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
      value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
      return value ^ (value >> 31)
    }
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(max(1, bound))) }
  }

  static let splices: [[UInt8]] =
    [
      "1e309", "-1e309", "9223372036854775808", "-9223372036854775809", "18446744073709551616", "-0", "0.5", "NaN",
      "null", "true", "\"\"", "[]", "{}", "\"\\ud800\"", "\"2019-02-30T25:61:61.9999999999Z\"",
      "\"9999-12-31T23:59:59Z\"",
      "\"0000-01-01T00:00:00Z\"", "[[[[[[[[[[[[[[[[", "\u{FEFF}", "\"/\"", "\"..\"",
    ].map { Array($0.utf8) } + [[0xFF, 0xFE], [0xC0, 0x80], [0x00]]

  static func mutate(_ seed: [UInt8], _ mixer: inout Mixer) -> [UInt8] {
    var bytes = seed
    for _ in 0...mixer.below(3) {
      switch mixer.below(5) {
      case 0 where !bytes.isEmpty:
        bytes = Array(bytes.prefix(mixer.below(bytes.count)))
      case 1 where !bytes.isEmpty:
        bytes[mixer.below(bytes.count)] = UInt8(truncatingIfNeeded: mixer.next())
      case 2:
        // Replace a value after some colon with something out of range or of another type.
        let colons = bytes.indices.filter { bytes[$0] == UInt8(ascii: ":") }
        guard let colon = colons.isEmpty ? nil : colons[mixer.below(colons.count)] else { continue }
        let end = bytes[(colon + 1)...].firstIndex { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "}") } ?? bytes.count
        bytes.replaceSubrange((colon + 1)..<end, with: splices[mixer.below(splices.count)])
      case 3:
        bytes.insert(contentsOf: splices[mixer.below(splices.count)], at: mixer.below(bytes.count + 1))
      default:
        // A deeply nested document where an array was.
        let depth = 1 + mixer.below(700)
        bytes =
          Array(#"{"items":"#.utf8) + Array(repeating: UInt8(ascii: "["), count: depth)
          + Array(repeating: UInt8(ascii: "]"), count: depth) + Array("}".utf8)
      }
    }
    return bytes
  }

  @Test func mutatedSeedsNeverTrap() throws {
    let directory = FuzzRegressionTests.root.appendingPathComponent("corpus/pds")
    let seeds = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
      .filter { !$0.lastPathComponent.hasPrefix(".") }.map { Array(try Data(contentsOf: $0)) }
    #expect(seeds.count >= 4)
    var mixer = Mixer(state: 20_261_124)
    var runs = 0
    for seed in seeds {
      for _ in 0..<400 {
        FuzzChecks.run(.pds, Self.mutate(seed, &mixer))
        runs += 1
      }
    }
    #expect(runs == seeds.count * 400)
  }
}
