import Foundation
import ReaperFuzzChecks
import Testing

/// Every seed and every input a fuzzer ever crashed on, run through the same checks: what was fixed stays fixed.
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fuzz")

  static func inputs(_ target: FuzzChecks.Target) -> [URL] {
    ["corpus", "regressions"].flatMap { folder in
      let directory = root.appendingPathComponent(folder).appendingPathComponent(target.rawValue)
      return ((try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? [])
        .filter { !$0.lastPathComponent.hasPrefix(".") }
    }
  }

  @Test(arguments: FuzzChecks.Target.allCases)
  func everyKeptInputIsHandled(target: FuzzChecks.Target) throws {
    let files = Self.inputs(target)
    #expect(!files.isEmpty, "no seed inputs for \(target.rawValue)")
    for file in files {
      FuzzChecks.run(target, Array(try Data(contentsOf: file)))
    }
  }
}
