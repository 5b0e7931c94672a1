import Foundation
import ReaperCore

extension S3Provider {
  /// `GET /{bucket}?lifecycle`. No configuration is an answer (404 NoSuchLifecycleConfiguration); every failure is
  /// said as such and left to the caller to report, never thrown: this is advice, not part of any decision.
  public func serverSweeps(bucket: String) async -> ServerSweepLookup {
    do {
      let (reply, context) = try await send(
        .GET, bucket: bucket, upload: nil, query: [("lifecycle", "")], gone: ["NoSuchLifecycleConfiguration"])
      return .read(
        try context.decode(reply) { body throws(WireFailure) in try S3LifecycleDecoder.decode(body) })
    } catch  where error.kind == .gone {
      return .read(.none)
    } catch  where error.kind == .accessDenied {
      return .accessDenied(error.description)
    } catch {
      return .failed(error.description)
    }
  }
}
