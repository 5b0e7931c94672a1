import ReaperConfig
import ReaperCore
import ReaperProviders

/// The provider for each kind of target, over one shared HTTP transport routed for the target's TLS and proxy.
public enum Providers {
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
