import Crypto
import Foundation
import ReaperCore
import Synchronization

/// AWS Signature Version 4, header authentication, as S3 defines it (the path is encoded once).
public struct SigV4Signer: Sendable {
  public var accessKey: String
  public var secretKey: String
  public var region: String
  public var service: String

  /// SHA-256 of an empty body, which every bodiless S3 request signs.
  public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

  /// Where the day's signing key is kept between requests; nil derives it every time.
  public var keys: SigningKeyCache?

  public init(
    accessKey: String, secretKey: String, region: String, service: String = "s3", keys: SigningKeyCache? = nil
  ) {
    self.accessKey = accessKey
    self.secretKey = secretKey
    self.region = region
    self.service = service
    self.keys = keys
  }

  public struct Signature: Sendable, Equatable {
    public var canonicalRequest: String
    public var stringToSign: String
    public var signedHeaders: String
    public var signature: String
    public var authorization: String
  }

  /// - Parameters:
  ///   - path: the decoded path, `/bucket/key with space`.
  ///   - query: decoded names and values; a valueless one (`uploads`) has value "".
  ///   - headers: every header to sign, `host` and `x-amz-date` among them.
  ///   - amzDate: `20150830T123600Z`, the same as the `x-amz-date` header.
  public func sign(
    method: String, path: String, query: [(String, String)], headers: [(String, String)], payloadHash: String,
    amzDate: String
  ) -> Signature {
    let canonicalURI = path.isEmpty ? "/" : URLEncoding.encode(path, keepSlash: true)
    let encodedQuery: [(name: String, value: String)] = query.map {
      (URLEncoding.encode($0.0), URLEncoding.encode($0.1))
    }
    let sortedQuery = encodedQuery.sorted { lhs, rhs in
      lhs.name == rhs.name ? lhs.value < rhs.value : lhs.name < rhs.name
    }
    let canonicalQuery = sortedQuery.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
    // Same-named headers are joined with commas, in the order given.
    var merged: [String: [String]] = [:]
    for (name, value) in headers { merged[name.lowercased(), default: []].append(Self.normalize(value)) }
    let names = merged.keys.sorted()
    let canonicalHeaders = names.map { "\($0):\(merged[$0]!.joined(separator: ","))\n" }.joined()
    let signedHeaders = names.joined(separator: ";")
    let canonicalRequest = [method, canonicalURI, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash]
      .joined(separator: "\n")
    let day = String(amzDate.prefix(8))
    let scope = "\(day)/\(region)/\(service)/aws4_request"
    let stringToSign =
      "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n\(Hex.encode(SHA256.hash(data: Data(canonicalRequest.utf8))))"
    let key = keys?.key(for: self, day: day) ?? signingKey(day: day)
    let signature = Hex.encode(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: key))
    let authorization =
      "AWS4-HMAC-SHA256 Credential=\(accessKey)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
    return Signature(
      canonicalRequest: canonicalRequest, stringToSign: stringToSign, signedHeaders: signedHeaders,
      signature: signature, authorization: authorization)
  }

  /// The key of one day, region and service: four HMACs.
  func signingKey(day: String) -> SymmetricKey {
    var key = SymmetricKey(data: Data("AWS4\(secretKey)".utf8))
    for part in [day, region, service, "aws4_request"] {
      key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
    }
    return key
  }

  /// Trimmed, with inner runs of spaces collapsed to one.
  static func normalize(_ value: String) -> String {
    // Every header this client signs is plain ASCII with nothing to trim or collapse; Foundation's trimming was
    // a measurable share of a request's CPU, so such a value is returned as it is.
    var previous: UInt8 = 0x20
    var plain = true
    for byte in value.utf8 {
      if byte >= 0x80 || byte == 0x09 || (byte == 0x20 && previous == 0x20) {
        plain = false
        break
      }
      previous = byte
    }
    if plain, value.utf8.last != 0x20 { return value }
    return value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
      .trimmingCharacters(in: .whitespaces)
  }

  /// `20150830T123600Z`.
  public static func amzDate(_ date: Date) -> String {
    let rfc = Timestamp.formatRFC3339(date)  // 2015-08-30T12:36:00Z
    return String(rfc.filter { $0 != "-" && $0 != ":" })
  }

  public static func payloadHash(_ body: [UInt8]) -> String {
    Hex.encode(SHA256.hash(data: Data(body)))
  }

  /// The parts of an Authorization header, for checking a request on the server side.
  public static func parseAuthorization(
    _ header: String
  ) -> (accessKey: String, scope: String, signedHeaders: [String], signature: String)? {
    guard header.hasPrefix("AWS4-HMAC-SHA256 ") else { return nil }
    var fields: [String: String] = [:]
    for part in header.dropFirst("AWS4-HMAC-SHA256 ".count).split(separator: ",") {
      let trimmed = part.trimmingCharacters(in: .whitespaces)
      guard let equals = trimmed.firstIndex(of: "=") else { continue }
      fields[String(trimmed[..<equals])] = String(trimmed[trimmed.index(after: equals)...])
    }
    guard let credential = fields["Credential"], let slash = credential.firstIndex(of: "/"),
      let signed = fields["SignedHeaders"], let signature = fields["Signature"]
    else { return nil }
    return (
      String(credential[..<slash]), String(credential[credential.index(after: slash)...]),
      signed.split(separator: ";").map(String.init), signature
    )
  }
}

/// The last signing key derived, reused while the day, secret, region and service are the same: it changes once a
/// day, and deriving it anew cost four of the five HMACs of every request (measured: signing was a tenth of the
/// client's CPU per abort).
public final class SigningKeyCache: Sendable {
  private struct Entry {
    var day: String
    var secretKey: String
    var region: String
    var service: String
    // Bytes, not the SymmetricKey, which is not Sendable.
    var key: [UInt8]
  }
  private let latest = Mutex<Entry?>(nil)

  public init() {}

  func key(for signer: SigV4Signer, day: String) -> SymmetricKey {
    if let entry = latest.withLock({ $0 }), entry.day == day, entry.secretKey == signer.secretKey,
      entry.region == signer.region, entry.service == signer.service
    {
      return SymmetricKey(data: entry.key)
    }
    let key = signer.signingKey(day: day)
    let entry = Entry(
      day: day, secretKey: signer.secretKey, region: signer.region, service: signer.service,
      key: key.withUnsafeBytes { Array($0) })
    latest.withLock { $0 = entry }
    return key
  }
}
