import ArgumentParser
import Foundation
import ReaperProviders
import TestSupport

/// The Ceph half of scripts/bench: makes the populations the tools are timed on, and checks afterwards that
/// exactly the stale set is gone. Talks to the gateways that `scripts/ceph start` runs.
@main
struct ReaperBench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "reaper-bench", abstract: "Populations for scripts/bench on the test Ceph RGW.",
    subcommands: [Populate.self, Check.self])
}

struct CephOptions: ParsableArguments {
  @Option(help: "The bucket to fill or check.") var bucket: String

  func environment() throws -> CephEnvironment {
    guard let ceph = CephEnvironment.current else { throw ValidationError(CephEnvironment.missingMessage) }
    return ceph
  }
}

/// Creates a bucket with `stale` uploads made through the gateway that runs ten days in the past, and `fresh`
/// ones of today, every other one with a 1 KiB part; writes one line per upload: `stale|fresh TAB upload id`.
struct Populate: AsyncParsableCommand {
  @OptionGroup var ceph: CephOptions
  @Option var stale: Int
  @Option var fresh: Int
  @Option(help: "Where to write the upload ids.") var out: String
  @Option var concurrency = 32

  func run() async throws {
    let environment = try ceph.environment()
    let transport = HTTPTransport()
    do {
      try await populate(environment, transport: transport)
    } catch {
      await transport.shutdown()
      throw error
    }
    await transport.shutdown()
  }

  func populate(_ environment: CephEnvironment, transport: HTTPTransport) async throws {
    let client = S3TestClient(
      endpoint: environment.endpoint, credentials: environment.credentials, transport: transport)
    let aged = S3TestClient(
      endpoint: environment.agedEndpoint, credentials: environment.credentials, transport: transport,
      clockOffset: -10 * 86_400)
    try await client.createBucket(ceph.bucket)
    let old = try await aged.initiateMany(
      bucket: ceph.bucket, keys: (0..<stale).map { "stale/\($0 % 97)/upload-\($0).bin" }, concurrency: concurrency)
    let new = try await client.initiateMany(
      bucket: ceph.bucket, keys: (0..<fresh).map { "fresh/\($0 % 97)/upload-\($0).bin" }, concurrency: concurrency)
    try await withThrowingTaskGroup(of: Void.self) { group in
      var inFlight = 0
      for (key, uploadID) in new.enumerated().filter({ $0.offset % 2 == 0 }).map(\.element) {
        if inFlight >= concurrency {
          try await group.next()
          inFlight -= 1
        }
        group.addTask {
          try await client.uploadPart(bucket: ceph.bucket, key: key, uploadID: uploadID, number: 1, size: 1024)
        }
        inFlight += 1
      }
      try await group.waitForAll()
    }
    let lines = old.map { "stale\t\($0.1)" } + new.map { "fresh\t\($0.1)" }
    try (lines.joined(separator: "\n") + "\n").write(toFile: out, atomically: true, encoding: .utf8)
  }
}

/// Exits 1 unless what the bucket still holds is exactly the fresh set of a population file.
struct Check: AsyncParsableCommand {
  @OptionGroup var ceph: CephOptions
  @Option(help: "The file Populate wrote.") var population: String

  func run() async throws {
    let environment = try ceph.environment()
    var fresh = Set<String>()
    for line in try String(contentsOfFile: population, encoding: .utf8).split(separator: "\n") {
      let fields = line.split(separator: "\t")
      if fields.count == 2, fields[0] == "fresh" { fresh.insert(String(fields[1])) }
    }
    let transport = HTTPTransport()
    let provider = S3Provider(
      target: environment.target(buckets: [ceph.bucket]), credentials: environment.credentials, transport: transport)
    var left = Set<String>()
    do {
      for try await page in provider.uploads(bucket: ceph.bucket, prefix: "") {
        left.formUnion(page.uploads.map(\.uploadID))
      }
    } catch {
      await transport.shutdown()
      throw error
    }
    await transport.shutdown()
    let wronglyGone = fresh.subtracting(left).count
    let staleLeft = left.subtracting(fresh).count
    guard wronglyGone == 0, staleLeft == 0 else {
      print("\(ceph.bucket): \(staleLeft) stale uploads left, \(wronglyGone) fresh uploads gone")
      throw ExitCode(1)
    }
    print("\(ceph.bucket): exactly the \(fresh.count) fresh uploads are left")
  }
}
