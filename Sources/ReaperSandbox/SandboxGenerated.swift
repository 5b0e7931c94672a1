import Foundation

extension SandboxSeed {
  /// The coffer that `generated(count:stalePercent:now:)` fills.
  public static let generatedCoffer = "bench-1250000000"
  /// Uploads in a generated population are at most this old unless stale, and stale ones at least twice it.
  public static let generatedFreshLimit: TimeInterval = 30 * 86_400

  /// A large, deterministic population for benchmarks, made in memory rather than over HTTP: `count` uploads in
  /// one coffer, of which `stalePercent` are older than 60 days and hold 1 to 3 parts of 8 MiB; the rest are
  /// under 30 days old, a tenth of them with one part. Keys spread over 256 prefixes, like sharded object names.
  public static func generated(count: Int, stalePercent: Double, now: Date) -> SandboxSeed {
    var random = DemoRandom(seed: 0x00C0_FFEE)
    let staleEvery = stalePercent > 0 ? max(1, Int((100 / stalePercent).rounded())) : Int.max
    var uploads: [SandboxUpload] = []
    uploads.reserveCapacity(count)
    let partSize: Int64 = 8 << 20
    for index in 0..<count {
      let key = "data/\(hex2(index & 0xff))/object-\(index).bin"
      let uploadID = "g\(String(index, radix: 36))"
      if index % staleEvery == staleEvery - 1 {
        let initiated = now.addingTimeInterval(-Double.random(in: 60 * 86_400...90 * 86_400, using: &random))
        let parts = (1...Int.random(in: 1...3, using: &random)).map { number in
          SandboxPart(number: number, size: partSize, lastModified: initiated.addingTimeInterval(Double(number) * 60))
        }
        uploads.append(SandboxUpload(key: key, uploadID: uploadID, initiated: initiated, parts: parts))
      } else {
        let initiated = now.addingTimeInterval(-Double.random(in: 0...generatedFreshLimit, using: &random))
        let parts =
          index % 10 == 0 ? [SandboxPart(number: 1, size: partSize, lastModified: initiated.addingTimeInterval(1))] : []
        uploads.append(SandboxUpload(key: key, uploadID: uploadID, initiated: initiated, parts: parts))
      }
    }
    return SandboxSeed(
      buckets: [SandboxBucket(name: generatedCoffer, uploads: uploads)], credentials: [demoAccessKey: demoSecretKey],
      accessTokens: [demoAccessToken])
  }

  private static func hex2(_ value: Int) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[value >> 4], digits[value & 0xf]])
  }
}
