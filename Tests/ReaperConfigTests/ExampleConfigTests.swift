import Foundation
import ReaperCore
import Testing

@testable import ReaperConfig

@Suite("The shipped example config")
struct ExampleConfigTests {
  static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("config/upload-reaper.toml").path

  @Test func loadsAsDocumented() throws {
    let loaded = try ConfigLoader.load(path: Self.path, environment: [:])
    let config = loaded.config
    #expect(loaded.warnings.allSatisfy { $0.severity == .warning && $0.file.hasSuffix(".cred") })
    #expect(config.targets.map(\.name) == ["coffers-bj", "ceph-local"])
    #expect(config.targets.map(\.provider) == [.cdcs, .s3])
    #expect(
      config.rules.inPrecedenceOrder.map(\.name) == ["backups-slow-uploads", "tmp-abort", "report-everything-old"])
    let tmp = try #require(config.rules.rules.first { $0.name == "tmp-abort" })
    #expect(tmp.maxAge?.seconds == 86_400)
    #expect(tmp.maxIdle?.seconds == 21_600)
    #expect(tmp.exclude.map(\.pattern) == ["tmp/keep/*"])
    #expect(config.rules.rules.first { $0.name == "backups-slow-uploads" }?.minBytes == 1_048_576)
  }
}
