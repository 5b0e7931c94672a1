import Foundation
import ReaperConfig
import ReaperCore
import ReaperEngine
import ReaperProviders

/// `check-config --online`: after the offline checks, one look at every target as the daemon would take it. It
/// resolves bucket globs and lists one page of uploads in each bucket, so an operator learns before the first
/// cycle whether the endpoint answers, its certificate is trusted, the credentials are accepted and may list.
/// It only reads: nothing is aborted, and no parts are listed.
enum OnlineCheck {
  /// One line of the check: a target's bucket listing, or one bucket's first page of uploads.
  struct Line {
    var target: String
    var bucket: String?
    var failure: Failure?
    var detail: String
    /// Advice that fails nothing: a server-side sweep that acts before a rule would, or one that could not be read.
    var advice: [String] = []

    var rendered: String {
      let place = bucket.map { "\(target)/\($0)" } ?? "\(target) (bucket list)"
      guard let failure else {
        return (["  ok      \(place): \(detail)"] + advice.map { "  warn    \(place): \($0)" }).joined(separator: "\n")
      }
      return "  FAILED  \(place): \(failure.stage): \(detail)\n          hint: \(failure.hint)"
    }
  }

  /// How far a request got, and what an operator can do about where it stopped.
  struct Failure {
    var stage: String
    var hint: String

    static func of(_ error: ProviderError, endpoint: String) -> Failure {
      let code = error.code ?? ""
      let message = error.message.lowercased()
      if message.contains("tls") || message.contains("certificate") || message.contains("handshake") {
        let hint =
          if message.contains("expired") {
            "the server's certificate has expired: it must be renewed on the server"
          } else if message.contains("not yet valid") {
            "the server's certificate is not valid yet: check this host's clock"
          } else if message.contains("name mismatch") {
            "the certificate does not name this host: use a name it was issued for in endpoint"
          } else if message.contains("client certificate") {
            "the server wants a client certificate: set client_certificate and client_key"
          } else {
            "the endpoint's certificate is not trusted here: set ca_file to the CA that signed it"
          }
        return Failure(stage: "TLS", hint: hint)
      }
      if error.status == nil {
        return Failure(
          stage: "unreachable",
          hint: "nothing answered at \(endpoint): check the host, port, firewall and any proxy")
      }
      switch code {
      case "RequestTimeTooSkewed":
        return Failure(
          stage: "not authenticated (clock skew)",
          hint: "this host's clock is more than 15 minutes from the server's: fix NTP")
      case "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessTokenInvalid", "AccessTokenExpired",
        "InvalidAccessKeyId.NotFound":
        return Failure(
          stage: "not authenticated",
          hint: "the server does not accept these credentials: check the key id and secret (or the token)")
      case "AuthorizationHeaderMalformed", "PermanentRedirect", "IllegalLocationConstraintException":
        return Failure(stage: "wrong region", hint: "set the target's region to the one the bucket is in")
      case "NoSuchBucket", "NotFound.Drive":
        return Failure(stage: "no such bucket", hint: "the bucket does not exist on this endpoint: check buckets")
      case "AccessDenied", "Forbidden":
        return Failure(
          stage: "authenticated, cannot list",
          hint:
            "the credentials may not list here: grant s3:ListBucketMultipartUploads (s3:ListAllMyBuckets for globs), or the provider's equivalent"
        )
      default: break
      }
      if message.contains("expects region") || error.status == 301 {
        return Failure(stage: "wrong region", hint: "set the target's region to the one the bucket is in")
      }
      if error.status == 401 || error.status == 403 {
        return Failure(stage: "refused", hint: "the server refused the request: check the credentials and policy")
      }
      return Failure(stage: "listing failed", hint: "see the error; the daemon would fail this bucket the same way")
    }
  }

  /// Checks every target; returns the lines and whether all of them worked.
  static func run(
    _ config: ReaperConfig, environment: [String: String], makeProvider: @escaping ProviderMaker
  ) async -> (lines: [Line], allWorked: Bool) {
    var lines: [Line] = []
    for target in config.targets {
      lines += await check(target, config: config, environment: environment, makeProvider: makeProvider)
    }
    return (lines, lines.allSatisfy { $0.failure == nil })
  }

  static func check(
    _ target: Target, config: ReaperConfig, environment: [String: String], makeProvider: ProviderMaker
  ) async -> [Line] {
    let scheme = target.endpoint.lowercased().hasPrefix("https://") ? "TLS ok, " : ""
    let provider: any UploadProvider
    do {
      provider = try Providers.connect(
        target, config: config, environment: environment, makeProvider: makeProvider)
    } catch {
      let failure = Failure(stage: "credentials", hint: "fix the credentials file or variables the target names")
      return [Line(target: target.name, bucket: nil, failure: failure, detail: "\(error)")]
    }
    var lines: [Line] = []
    var listed: [String]?
    if target.discoversBuckets {
      do {
        var names: [String] = []
        var unreadable: [String] = []
        for try await page in provider.bucketNames() {
          names += page.names
          unreadable += page.unreadable
        }
        listed = names
        let matched = BucketResolution.resolve(entries: target.buckets, listed: names, exclude: target.excludeBuckets)
        var detail =
          "reachable, \(scheme)authenticated, \(names.count) bucket(s) listed, \(matched.discovered.count) matched by \(target.buckets.filter(BucketPattern.isGlob).joined(separator: " "))"
        if !unreadable.isEmpty { detail += "; \(unreadable.count) listed name(s) not usable: \(unreadable[0])" }
        lines.append(Line(target: target.name, bucket: nil, failure: nil, detail: detail))
      } catch let error as ProviderError {
        lines.append(
          Line(
            target: target.name, bucket: nil, failure: .of(error, endpoint: target.endpoint), detail: "\(error)"))
      } catch {
        lines.append(
          Line(
            target: target.name, bucket: nil, failure: Failure(stage: "listing failed", hint: "see the error"),
            detail: "\(error)"))
      }
    }
    let resolution = BucketResolution.resolve(entries: target.buckets, listed: listed, exclude: target.excludeBuckets)
    for bucket in resolution.buckets {
      var line = await firstPage(of: bucket, target: target, provider: provider, scheme: scheme)
      if line.failure == nil {
        line.advice = await serverSweepWarnings(
          target: target, bucket: bucket, rules: config.rules, provider: provider
        ).map(\.text)
      }
      lines.append(line)
    }
    return lines
  }

  static func firstPage(
    of bucket: String, target: Target, provider: any UploadProvider, scheme: String
  ) async -> Line {
    do {
      var iterator = provider.uploads(bucket: bucket, prefix: "").makeAsyncIterator()
      let page = try await iterator.next()
      let count = page?.uploads.count ?? 0
      var detail = "reachable, \(scheme)authenticated, can list: \(count) upload(s) on the first page"
      if let serverDate = page?.serverDate, let skew = ClockCheck.suspectSkew(server: serverDate, host: Date()) {
        detail += "; the server's clock is \(Int(skew))s off this host's"
      }
      if let unreadable = page?.unreadable, !unreadable.isEmpty {
        detail += "; \(unreadable.count) record(s) unreadable"
      }
      return Line(target: target.name, bucket: bucket, failure: nil, detail: detail)
    } catch let error as ProviderError {
      return Line(
        target: target.name, bucket: bucket, failure: .of(error, endpoint: target.endpoint), detail: "\(error)")
    } catch {
      return Line(
        target: target.name, bucket: bucket, failure: Failure(stage: "listing failed", hint: "see the error"),
        detail: "\(error)")
    }
  }
}
