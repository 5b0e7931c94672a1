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
      var page = try context.decode(reply) { body throws(WireFailure) in try S3Decoder.decodeBuckets(body) }
      // Virtual-hosted, a listed name is asked for as a host: one a host cannot spell would reach another bucket
      // than the one the globs and exclude_buckets were matched against.
      if !target.pathStyle {
        let names = page.names
        page.names = []
        for name in names {
          if let problem = BucketPattern.problem(asVirtualHost: name) {
            page.unreadable.append(
              "listed bucket \"\(name.prefix(80))\" not watched on a virtual-hosted target: \(problem)")
          } else {
            page.names.append(name)
          }
        }
      }
      return (page, page.next)
    }
    return Pages(maximumPages: maximumPages, stalled: stalled, fetch: fetch)
  }
}
