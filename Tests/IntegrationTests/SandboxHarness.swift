import Foundation
import Logging
import ReaperConfig
import ReaperCore
import ReaperEngine
import ReaperProviders
import ReaperSandbox

/// A sandbox server on a free port, and a transport whose retries are quick enough for tests.
struct SandboxHarness {
  static let accessKey = "AKIDTESTHARNESS"
  static let secretKey = "harness-secret-value-42"
  static let credentials = Credentials(accessKeyID: accessKey, secretAccessKey: secretKey)

  let server: SandboxServer
  let transport: HTTPTransport
  var store: SandboxStore { server.store }
  var endpoint: String { "http://127.0.0.1:\(server.port)" }

  static func fastSettings() -> HTTPSettings {
    var settings = HTTPSettings()
    settings.baseBackoff = .milliseconds(10)
    settings.maxBackoff = .milliseconds(50)
    // Generous, because tests count the sandbox's requests exactly and a timeout under CI load would add a
    // retry; the tests that exercise timeouts set their own.
    settings.readTimeout = .seconds(30)
    settings.requestTimeout = .seconds(60)
    return settings
  }

  /// Runs `body` against a fresh sandbox, and stops everything afterwards whatever happens.
  static func with<T>(
    _ buckets: [SandboxBucket], clock: @escaping @Sendable () -> Date = { Date() },
    settings: HTTPSettings = fastSettings(), _ body: (SandboxHarness) async throws -> T
  ) async throws -> T {
    let store = SandboxStore(buckets: buckets, credentials: [accessKey: secretKey], clock: clock)
    let server = try await SandboxServer.start(store: store)
    let harness = SandboxHarness(server: server, transport: HTTPTransport(settings: settings))
    do {
      let result = try await body(harness)
      await harness.transport.shutdown()
      await server.stop()
      return result
    } catch {
      await harness.transport.shutdown()
      await server.stop()
      throw error
    }
  }

  func target(_ buckets: [String], zone: Zone = .utc) -> Target {
    Target(
      name: "sandbox", provider: .cdcs, endpoint: endpoint, region: "ap-beijing", buckets: buckets,
      credentialsFile: nil, zone: zone)
  }

  func provider(
    _ buckets: [String], credentials: Credentials = SandboxHarness.credentials, pageSize: Int = 1000
  )
    -> CDCSProvider
  {
    CDCSProvider(target: target(buckets), credentials: credentials, transport: transport, pageSize: pageSize)
  }

  /// Every upload of a bucket, walked page by page.
  func listAll(_ provider: CDCSProvider, bucket: String, prefix: String = "") async throws -> [Upload] {
    var uploads: [Upload] = []
    for try await page in provider.uploads(bucket: bucket, prefix: prefix) { uploads += page.uploads }
    return uploads
  }
}

extension SandboxUpload {
  static func aged(
    _ key: String, id: String, age: TimeInterval, parts: [(size: Int64, age: TimeInterval)] = []
  )
    -> SandboxUpload
  {
    let now = Date()
    return SandboxUpload(
      key: key, uploadID: id, initiated: now.addingTimeInterval(-age),
      parts: parts.enumerated().map { index, part in
        SandboxPart(number: index + 1, size: part.size, lastModified: now.addingTimeInterval(-part.age))
      })
  }
}
