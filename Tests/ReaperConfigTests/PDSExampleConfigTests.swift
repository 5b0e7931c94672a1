import Foundation
import ReaperCore
import Testing

@testable import ReaperConfig

/// The example config's commented targets (pds, and s3 with bucket globs) and rules must be valid as they stand
/// once uncommented.
@Suite("The example config's pds block")
struct PDSExampleConfigTests {
  @Test func uncommentedItLoads() throws {
    let source = try String(contentsOfFile: ExampleConfigTests.path, encoding: .utf8)
    // Commented-out settings start "#" followed directly by the setting; prose starts "# ".
    let lines = source.components(separatedBy: "\n").map { line in
      line.hasPrefix("#") && !line.hasPrefix("# ") && line.count > 1 ? String(line.dropFirst()) : line
    }
    #expect(lines.filter { $0.hasPrefix("[[target]]") }.count == 4)
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pds-example-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let examples = URL(fileURLWithPath: ExampleConfigTests.path).deletingLastPathComponent()
    for name in ["coffers-bj.cred", "ceph-local.cred"] {
      try FileManager.default.copyItem(
        at: examples.appendingPathComponent(name), to: directory.appendingPathComponent(name))
    }
    try "access_token=example\n".write(
      to: directory.appendingPathComponent("pds-photos.cred"), atomically: true, encoding: .utf8)
    try "access_key_id=AK\nsecret_access_key=SK\n".write(
      to: directory.appendingPathComponent("aws-all.cred"), atomically: true, encoding: .utf8)
    for name in ["coffers-bj.cred", "ceph-local.cred", "pds-photos.cred", "aws-all.cred"] {
      try FileManager.default.setAttributes(
        [.posixPermissions: 0o600], ofItemAtPath: directory.appendingPathComponent(name).path)
    }
    let loaded = try ConfigLoader.parse(
      source: lines.joined(separator: "\n"), path: directory.appendingPathComponent("config.toml").path,
      environment: [:])
    #expect(loaded.warnings.isEmpty, "\(loaded.warnings)")
    let every = try #require(loaded.config.targets.first { $0.name == "aws-all" })
    #expect(every.discoversBuckets)
    #expect(every.excludeBuckets.map(\.pattern) == ["*-legal-hold", "audit-*"])
    let target = try #require(loaded.config.targets.first { $0.name == "pds-photos" })
    #expect(target.provider == .pds)
    #expect(target.buckets == ["11001"])
    let rule = try #require(loaded.config.rules.rules.first { $0.name == "pds-album-abort" })
    #expect(rule.target == "pds-photos")
    #expect(rule.prefix == "相册/")
    #expect(rule.maxIdle?.seconds == 86_400)
    #expect(loaded.config.rules.inPrecedenceOrder.first?.name == "backups-slow-uploads")
    // The commented initiator rule loads beside the pds target, because it names an s3 target.
    let byInitiator = try #require(loaded.config.rules.rules.first { $0.name == "app-a-abort" })
    #expect(byInitiator.initiator.map(\.pattern) == ["arn:aws:iam::*:user/app-a*"])
    #expect(byInitiator.owner.map(\.pattern) == ["*"])
  }
}
