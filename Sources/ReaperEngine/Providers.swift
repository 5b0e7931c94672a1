import ReaperConfig
import ReaperCore
import ReaperProviders

/// The provider for each kind of target, over one shared HTTP transport routed for the target's TLS and proxy.
public enum Providers {
  /// The provider for `target` with the credentials its config names, read now (a token rewritten since the last
  /// cycle is picked up). Throws with the target named when they are missing or unusable.
  public static func connect(
    _ target: Target, config: ReaperConfig, environment: [String: String], makeProvider: ProviderMaker
  ) throws -> any UploadProvider {
    guard let source = config.credentialSources[target.name] else {
      throw EngineError("target \(target.name): no credentials configured")
    }
    let (credentials, problems) = CredentialsLoader.load(source, provider: target.provider, environment: environment)
    guard let credentials else {
      throw EngineError(
        "target \(target.name): credentials unusable: \(problems.filter { $0.severity == .error }.map(\.description).joined(separator: "; "))"
      )
    }
    return try makeProvider(target, credentials)
  }

  public static func maker(
    transport: HTTPTransport, maximumPages: Int = PageLimit.defaultMaximumPages
  ) -> ProviderMaker {
    { target, credentials in
      let transport = try transport.route(for: target)
      switch target.provider {
      case .cdcs:
        return CDCSProvider(
          target: target, credentials: credentials, transport: transport, maximumPages: maximumPages)
      case .s3:
        return S3Provider(target: target, credentials: credentials, transport: transport, maximumPages: maximumPages)
      case .pds:
        return PDSProvider(
          target: target, credentials: credentials, transport: transport, maximumPages: maximumPages)
      }
    }
  }
}
