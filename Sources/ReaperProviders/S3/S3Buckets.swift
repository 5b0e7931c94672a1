import ReaperCore

extension S3Provider {
  /// ListBuckets, paged by `ContinuationToken` where the server pages (AWS, asked with `max-buckets`); a server
  /// that does not page answers everything at once with no token.
  public func bucketNames() -> Pages<BucketNamePage> { bucketNames(pageSize: 1000) }

  /// - Parameter pageSize: `max-buckets`; tests page small to walk the tokens.
  public func bucketNames(pageSize: Int) -> Pages<BucketNamePage> {
    let target = target
    let stalled: @Sendable (String) -> ProviderError = { marker in
      ProviderError(
        kind: .inconsistentResponse, target: target.name, bucket: "", request: "GET /",
        message: "ListBuckets handed back continuation token \"\(marker.prefix(80))\" again; not trusted")
    }
    let fetch: Pages<BucketNamePage>.Fetch = { (token: String?) async throws(ProviderError) in
      var query: [(String, String)] = [("max-buckets", "\(pageSize)")]
      if let token { query.append(("continuation-token", token)) }
      let (reply, context) = try await send(.GET, bucket: "", upload: nil, query: query, gone: [])
      let page = try context.decode(reply) { body throws(WireFailure) in try S3Decoder.decodeBuckets(body) }
      return (page, page.next)
    }
    return Pages(maximumPages: maximumPages, stalled: stalled, fetch: fetch)
  }
}
