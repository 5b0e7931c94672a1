import NIOHTTP1

/// Maps an unsuccessful reply to a typed error, the same way for every provider.
public enum ErrorClassifier {
  /// - Parameter goneCodes: codes that mean the upload no longer exists, for this call.
  public static func classify(
    _ reply: HTTPReply, context: RequestContext, goneCodes: Set<String>, requestIDHeader: String
  ) -> ProviderError? {
    guard !(200..<300).contains(reply.status) else { return nil }
    let body = ErrorBody.parse(reply.body)
    let code = body?.code
    let requestID = body?.requestID ?? reply.headers.first(name: requestIDHeader)
    var message = body?.message ?? ""
    if message.isEmpty { message = HTTPResponseStatus(statusCode: reply.status).reasonPhrase }
    let kind: ProviderError.Kind
    switch reply.status {
    case 404 where code.map(goneCodes.contains) ?? false: kind = .gone
    case _ where code == "SlowDown": kind = .retryable
    case 429, 500...599: kind = .retryable
    case 401, 403:
      kind = .accessDenied
      if code == "RequestTimeTooSkewed" { message += " (this host's clock is more than 15 minutes off)" }
    case 404: kind = .notFound
    case 409: kind = .conflict
    case 400 where code == "InvalidArgument": kind = .invalidArgument
    case 300...399:
      kind = .other
      if let location = reply.headers.first(name: "Location") { message += " (redirected to \(location))" }
    default: kind = .other
    }
    return context.error(kind, message, status: reply.status, code: code, requestID: requestID)
  }
}
