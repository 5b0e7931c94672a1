import Crypto
import Foundation

/// The COS "q-sign" request signature that CDCS uses (HMAC-SHA1). Also used by the sandbox to check requests.
public struct CDCSSigner: Sendable {
  public var secretID: String
  public var secretKey: String

  public init(secretID: String, secretKey: String) {
    self.secretID = secretID
    self.secretKey = secretKey
  }

  /// The pieces of one signature, exposed so tests can compare each against the published vectors.
  public struct Signature: Sendable, Equatable {
    public var signKey: String
    public var httpString: String
    public var stringToSign: String
    public var headerList: String
    public var parameterList: String
    public var signature: String
    public var authorization: String
  }

  /// `KeyTime` for a request made at `now`: valid from a minute before to ten minutes after.
  public static func keyTime(now: Date) -> String {
    let seconds = Int64(now.timeIntervalSince1970)
    return "\(seconds - 60);\(seconds + 600)"
  }

  /// - Parameters:
  ///   - path: the decoded URI path, `/coffer/key with space`.
  ///   - parameters: every query parameter; a valueless one (`uploads`) has value "".
  ///   - headers: the headers to sign; `host` must be among them.
  public func sign(
    method: String, path: String, parameters: [(String, String)], headers: [(String, String)], keyTime: String
  ) -> Signature {
    let (parameterText, parameterList) = Self.canonical(parameters)
    let (headerText, headerList) = Self.canonical(headers)
    let signKey = Hex.encode(
      HMAC<Insecure.SHA1>.authenticationCode(for: Data(keyTime.utf8), using: SymmetricKey(data: Data(secretKey.utf8))))
    let httpString = "\(method.lowercased())\n\(path)\n\(parameterText)\n\(headerText)\n"
    let stringToSign = "sha1\n\(keyTime)\n\(Hex.encode(Insecure.SHA1.hash(data: Data(httpString.utf8))))\n"
    // The hex text of SignKey, not its raw bytes, keys the second HMAC.
    let signature = Hex.encode(
      HMAC<Insecure.SHA1>.authenticationCode(
        for: Data(stringToSign.utf8), using: SymmetricKey(data: Data(signKey.utf8))))
    let authorization =
      "q-sign-algorithm=sha1&q-ak=\(secretID)&q-sign-time=\(keyTime)&q-key-time=\(keyTime)"
      + "&q-header-list=\(headerList)&q-url-param-list=\(parameterList)&q-signature=\(signature)"
    return Signature(
      signKey: signKey, httpString: httpString, stringToSign: stringToSign, headerList: headerList,
      parameterList: parameterList, signature: signature, authorization: authorization)
  }

  /// `lower(enc(key))=enc(value)` sorted by key and joined with `&`, and the keys joined with `;`.
  static func canonical(_ pairs: [(String, String)]) -> (text: String, list: String) {
    let encoded = pairs.map { (URLEncoding.encode($0.0).lowercased(), URLEncoding.encode($0.1)) }
      .sorted { $0.0 < $1.0 }
    return (encoded.map { "\($0.0)=\($0.1)" }.joined(separator: "&"), encoded.map(\.0).joined(separator: ";"))
  }

  /// The fields of an Authorization header, for checking a request on the server side.
  public static func parseAuthorization(_ header: String) -> [String: String] {
    var fields: [String: String] = [:]
    for pair in header.split(separator: "&") {
      guard let equals = pair.firstIndex(of: "=") else { continue }
      fields[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
    }
    return fields
  }
}
