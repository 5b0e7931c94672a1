import Foundation
import ReaperCore
import ReaperEngine
import ReaperProviders
import Synchronization

/// A provider over uploads held in memory, recording every abort. No network: thousands of cycles run fast.
public final class MemoryProvider: UploadProvider {
  public let target: Target
  let uploadsByBucket: [String: [Upload]]
  let partsByUpload: [String: [Part]]
  let serverNow: Date
  let pageSize: Int
  private let aborted = Mutex<[Upload]>([])
  private let partsListed = Mutex(0)

  public init(target: Target, uploads: [String: [Upload]], parts: [String: [Part]], serverNow: Date, pageSize: Int) {
    self.target = target
    self.uploadsByBucket = uploads
    self.partsByUpload = parts
    self.serverNow = serverNow
    self.pageSize = pageSize
  }

  public var abortedUploads: [Upload] { aborted.withLock { $0 } }
  /// Parts listings started, each one request on a real server.
  public var partsListings: Int { partsListed.withLock { $0 } }

  public func uploads(bucket: String, prefix: String) -> Pages<UploadPage> {
    let all = uploadsByBucket[bucket] ?? []
    let size = pageSize
    let now = serverNow
    return Pages(
      stalled: { ProviderError(kind: .malformedResponse, target: "t", bucket: bucket, request: "", message: $0) },
      fetch: { (marker: String?) async throws(ProviderError) -> (UploadPage, next: String?) in
        let start = Int(marker ?? "0") ?? 0
        let end = min(all.count, start + size)
        return (UploadPage(uploads: Array(all[start..<end]), serverDate: now), end < all.count ? "\(end)" : nil)
      })
  }

  public func parts(of upload: Upload) -> Pages<PartPage> {
    let parts = partsByUpload[upload.uploadID] ?? []
    partsListed.withLock { $0 += 1 }
    return Pages(
      stalled: { ProviderError(kind: .malformedResponse, target: "t", bucket: "", request: "", message: $0) },
      fetch: { (_: String?) async throws(ProviderError) -> (PartPage, next: String?) in (PartPage(parts: parts), nil) })
  }

  public func abort(_ upload: Upload) async throws(ProviderError) -> AbortResult {
    aborted.withLock { $0.append(upload) }
    return .aborted
  }
}

/// Collects a cycle's records in memory.
public actor CollectingSink: RecordSink {
  public var records: [UploadRecord] = []

  public init() {}

  public func emit(_ record: UploadRecord) { records.append(record) }
}
