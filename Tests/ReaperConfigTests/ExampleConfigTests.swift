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
    #expect(config.daemon.reportDetail == .summary)
  }

  /// The example is the config's annotated reference: every key any section accepts is there, set or commented out.
  @Test func documentsEveryKey() throws {
    let lines = try String(contentsOfFile: Self.path, encoding: .utf8).split(separator: "\n").map {
      $0.drop { $0 == "#" || $0 == " " }
    }
    for section in ConfigSection.allCases {
      for key in section.allowedKeys {
        #expect(lines.contains { $0.hasPrefix("\(key) = ") }, "\(section.rawValue).\(key) is not in the example")
      }
    }
  }
}
