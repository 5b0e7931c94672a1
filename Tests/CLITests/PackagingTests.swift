import Foundation
import ReaperCore
import Testing

/// The unit file and the journal catalog, checked offline as CI can.
@Suite("Packaging")
struct PackagingTests {
  static let packaging = CLITests.repository.appendingPathComponent("packaging")

  static func shell(_ script: String) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", script]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
  }

  /// The packaged unit, with ExecStart pointing at this build, in a directory of its own.
  static func unitCopy() throws -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("unit-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let text = try String(contentsOf: packaging.appendingPathComponent("upload-reaper.service"), encoding: .utf8)
      .replacingOccurrences(of: "/usr/bin/upload-reaper", with: CLITests.binary)
    let path = directory.appendingPathComponent("upload-reaper.service").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  /// The version is written once, in ReaperVersion; the Debian changelog must have caught up with it.
  @Test func theChangelogStartsAtTheBinarysVersion() throws {
    let changelog = try String(
      contentsOf: Self.packaging.appendingPathComponent("debian/changelog"), encoding: .utf8)
    #expect(changelog.hasPrefix("upload-reaper (\(ReaperVersion.string)) "), "add a changelog entry for the version")
  }

  /// What the package installs as /etc/upload-reaper/config.toml: the example with every abort rule commented out.
  @Test func theShippedConfigCanNeverAbort() throws {
    let example = CLITests.exampleConfig
    let result = try Self.shell("awk -f '\(Self.packaging.path)/debian/disable-abort-rules.awk' '\(example)'")
    #expect(result.status == 0)
    let active = result.output.split(separator: "\n").filter {
      $0.range(of: #"^\s*action\s*=\s*"abort""#, options: .regularExpression) != nil
    }
    #expect(active.isEmpty, "\(active)")
    let commented = result.output.split(separator: "\n").filter { $0.hasPrefix("# action = \"abort\"") }
    #expect(commented.count >= 2)
    #expect(result.output.contains("\n[[rule]]\n"), "log and report rules stay active")
  }

  @Test func systemdAnalyzeVerifyPrintsNothing() throws {
    let unit = try Self.unitCopy()
    // verify exits 0 even on warnings, and writes under /run/systemd: a private tmpfs takes that write.
    let result = try Self.shell(
      "unshare -m sh -c 'mount -t tmpfs tmpfs /run/systemd && systemd-analyze verify --man=no \(unit)'")
    #expect(result.status == 0)
    #expect(result.output.isEmpty, "\(result.output)")
  }

  @Test func exposureIsTwoOrLower() throws {
    let unit = try Self.unitCopy()
    let result = try Self.shell(
      "unshare -m sh -c 'mount -t tmpfs tmpfs /run/systemd && systemd-analyze security --offline=yes --threshold=20 \(unit)'"
    )
    #expect(result.status == 0, "\(result.output)")
    let score =
      result.output.range(of: #"exposure level for upload-reaper.service: ([0-9.]+)"#, options: .regularExpression)
      .map { String(result.output[$0]).split(separator: " ").last.flatMap { Double($0) } } ?? nil
    #expect((score ?? 99) <= 2.0, "\(result.output.suffix(200))")
  }

  @Test func theUnitHasWhatTheIssueAsksFor() throws {
    let text = try String(contentsOf: Self.packaging.appendingPathComponent("upload-reaper.service"), encoding: .utf8)
    for line in [
      "Type=notify", "ExecReload=/bin/kill -HUP $MAINPID", "Restart=on-failure", "DynamicUser=yes",
      "StateDirectory=upload-reaper", "ConfigurationDirectory=upload-reaper", "NoNewPrivileges=yes",
      "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "PrivateDevices=yes", "ProtectKernelTunables=yes",
      "ProtectKernelModules=yes", "ProtectKernelLogs=yes", "ProtectControlGroups=yes",
      "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6", "SystemCallFilter=@system-service", "CapabilityBoundingSet=",
      "MemoryDenyWriteExecute=yes", "LockPersonality=yes",
    ] {
      #expect(text.split(separator: "\n").contains(Substring(line)), "missing \(line)")
    }
    #expect(text.contains("WatchdogSec="))
    #expect(text.contains("LoadCredential="))
  }

  @Test func everyMessageIDIsInTheCatalog() throws {
    let catalog = try String(
      contentsOf: Self.packaging.appendingPathComponent("upload-reaper.catalog"), encoding: .utf8)
    let headers = catalog.split(separator: "\n").filter { $0.hasPrefix("-- ") }.map { String($0.dropFirst(3)) }
    #expect(Set(headers) == Set(ReaperEvent.allCases.map(\.messageID)))
    #expect(headers.allSatisfy { $0.range(of: "^[0-9a-f]{32}$", options: .regularExpression) != nil })
    #expect(headers.count == ReaperEvent.allCases.count)
  }
}
