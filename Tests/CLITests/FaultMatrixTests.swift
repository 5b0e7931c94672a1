import Foundation
import ReaperSandbox
import Testing

/// The real binary under each fault the sandbox injects: never a crash, never an abort outside the stale set,
/// and the exit status the contract fixes (0 when the cycle completed, 1 when a target or bucket failed).
@Suite("Fault matrix, end to end")
struct FaultMatrixTests {
  struct Fault: Sendable, CustomTestStringConvertible {
    let name: String
    let apply: @Sendable (inout SandboxFaults) -> Void
    /// nil: either status is right (random faults).
    let status: Int32?
    /// Whether the cycle must still abort exactly the stale set.
    let complete: Bool
    var testDescription: String { name }
  }

  static let faults: [Fault] = [
    Fault(name: "503 burst", apply: { $0.failNext = 3 }, status: 0, complete: true),
    Fault(name: "429 with Retry-After", apply: { $0.throttleNext = 1 }, status: 0, complete: true),
    Fault(name: "connection reset mid-body", apply: { $0.resetNext = 2 }, status: 0, complete: true),
    Fault(name: "slow responses", apply: { $0.latencyMilliseconds = 30 }, status: 0, complete: true),
    Fault(name: "truncated JSON", apply: { $0.truncateNext = 1 }, status: 1, complete: false),
    Fault(name: "non-advancing marker", apply: { $0.stallMarkers = true }, status: 1, complete: false),
    Fault(name: "a page served twice", apply: { $0.repeatFirstPageNext = 1 }, status: 1, complete: false),
    Fault(name: "403 on one bucket", apply: { $0.denyBuckets = ["e2e-1250000000"] }, status: 1, complete: false),
    Fault(name: "random 5xx", apply: { $0.errorRate = 0.25 }, status: nil, complete: false),
  ]

  @Test(arguments: faults)
  func noCrashNoFalseAbortRightStatus(fault: Fault) async throws {
    let setup = try await EndToEndTests.start()
    defer { Task { await setup.server.stop() } }
    setup.server.store.updateFaults(fault.apply)
    let result = try await CLITests.run(["scan", "--config", setup.config, "--format", "json"])
    if let status = fault.status {
      #expect(result.status == status, "\(result.stderr)")
    } else {
      #expect(result.status == 0 || result.status == 1, "\(result.stderr)")
    }
    let aborted = Set(setup.server.store.aborted.map(\.uploadID))
    #expect(aborted.isSubset(of: EndToEndTests.expectedAborts), "aborted outside the stale set: \(aborted)")
    if fault.complete { #expect(aborted == EndToEndTests.expectedAborts) }
    // The run always ends with its summary, whatever went wrong.
    #expect(result.stdout.split(separator: "\n").last?.hasPrefix("{\"summary\":") == true)
    #expect(!result.stdout.contains(EndToEndTests.secret) && !result.stderr.contains(EndToEndTests.secret))
  }
}
