import ArgumentParser
import Foundation
import ReaperSandbox
import UnixSignals

struct Sandbox: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Serve the built-in local server (CDCS, S3 and PDS dialects) on 127.0.0.1, for demos and tests.",
    discussion: """
      Without --seed it serves the built-in demo set: a few hundred uploads of mixed ages in two coffers and
      a PDS drive (\(SandboxSeed.demoDriveID)), accepting the access key \(SandboxSeed.demoAccessKey) and the
      access token \(SandboxSeed.demoAccessToken). GET /_sandbox/state shows what it holds and what was
      aborted or deleted; PUT /_sandbox/faults switches faults on and off, PUT /_sandbox/hostile the lies of
      --hostile. It runs until SIGINT or SIGTERM.
      """)
  @Option(help: "TCP port on 127.0.0.1 (0 picks a free one).") var port: Int = 9000
  @Option(help: ArgumentHelp("JSON file of buckets and uploads to serve.", valueName: "file")) var seed: String?
  @Option(
    help: ArgumentHelp(
      "Serve this many generated uploads in coffer \(SandboxSeed.generatedCoffer) instead (for benchmarks).",
      valueName: "count"))
  var generate: Int?
  @Option(help: "With --generate: the percentage of uploads that are stale (over 60 days old, with parts).")
  var stalePercent: Double = 1
  @Option(help: ArgumentHelp("Write the port, once listening, to this file.", valueName: "file")) var portFile: String?
  @Option(help: "Answer this share of requests with 503, at random (0 to 1).") var errorRate: Double = 0
  @Option(help: "Delay every response by this many milliseconds.") var latencyMs: Int = 0
  @Option(help: "Cut the body of the next N list responses in half.") var truncateNext: Int = 0
  @Flag(help: "Hand back the same marker on truncated pages, so a walk never advances.") var stallMarkers = false
  @Flag(help: "Never answer: every request hangs.") var hang = false
  @Option(help: ArgumentHelp("Answer 403 for this bucket (repeatable).", valueName: "bucket")) var denyBucket:
    [String] = []
  @Option(
    help: ArgumentHelp(
      "Lie over the wire, keeping the true state: comma-separated names, or all. Known: \(SandboxHostility.Lie.allCases.map(\.rawValue).joined(separator: ", ")).",
      valueName: "names"))
  var hostile: String?
  @Option(help: "With --hostile: the share of records or responses each lie applies to (0 to 1).")
  var hostileRate: Double = 0.5
  @Option(help: "With --hostile: the seed that picks which records lie.") var hostileSeed: UInt64 = 0
  @Option(
    help: ArgumentHelp(
      "With --hostile: lie about exactly this upload id, whatever the rate (repeatable).", valueName: "id"))
  var hostileUpload: [String] = []

  func validate() throws {
    guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
    guard (0...1).contains(errorRate) else { throw ValidationError("--error-rate must be 0...1") }
    if let generate {
      guard seed == nil else { throw ValidationError("--generate and --seed exclude each other") }
      guard (1...50_000_000).contains(generate) else { throw ValidationError("--generate must be 1...50000000") }
    }
    guard (0...100).contains(stalePercent) else { throw ValidationError("--stale-percent must be 0...100") }
    guard (0...1).contains(hostileRate) else { throw ValidationError("--hostile-rate must be 0...1") }
    if let hostile {
      do { _ = try SandboxHostility.parse(names: hostile) } catch { throw ValidationError("--hostile: \(error)") }
    }
  }

  func run() async throws {
    let now = Date()
    let contents: SandboxSeed
    do {
      if let generate {
        contents = SandboxSeed.generated(count: generate, stalePercent: stalePercent, now: now)
      } else {
        contents = try seed.map { try SandboxSeed.load(path: $0, now: now) } ?? SandboxSeed.demo(now: now)
      }
    } catch {
      Console.error("upload-reaper sandbox: \(error)")
      throw ExitCode(ExitStatus.badConfig)
    }
    let store = SandboxStore(
      buckets: contents.buckets, credentials: contents.credentials, accessTokens: contents.accessTokens)
    store.updateFaults { faults in
      faults.errorRate = errorRate
      faults.latencyMilliseconds = latencyMs
      faults.truncateNext = truncateNext
      faults.stallMarkers = stallMarkers
      faults.hang = hang
      faults.denyBuckets = denyBucket
    }
    if let hostile {
      var hostility = SandboxHostility(
        lies: try SandboxHostility.parse(names: hostile), rate: hostileRate, seed: hostileSeed)
      hostility.uploads = Set(hostileUpload)
      store.hostility = hostility
    }
    let server = try await SandboxServer.start(store: store, port: port)
    if let portFile { try "\(server.port)\n".write(toFile: portFile, atomically: true, encoding: .utf8) }
    let buckets = contents.buckets.map { "\($0.name) (\($0.uploads.count))" }.joined(separator: ", ")
    FileHandle.standardOutput.write(
      Data("upload-reaper sandbox: serving CDCS, S3 and PDS on http://127.0.0.1:\(server.port): \(buckets)\n".utf8))
    for await _ in await UnixSignalsSequence(trapping: .sigterm, .sigint) { break }
    await server.stop()
  }
}
