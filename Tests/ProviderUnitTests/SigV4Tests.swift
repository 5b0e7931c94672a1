import Foundation
import Testing

@testable import ReaperProviders

/// Cases of the official aws-sig-v4-test-suite (awslabs/aws-c-auth, tests/aws-signing-test-suite/v4), with
/// their published signatures, and the S3 documentation's own GET example.
@Suite("AWS Signature Version 4")
struct SigV4Tests {
  static let suite = SigV4Signer(
    accessKey: "AKIDEXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", region: "us-east-1",
    service: "service")

  static func suiteSign(
    _ path: String, query: [(String, String)] = [], extra: [(String, String)] = []
  )
    -> SigV4Signer.Signature
  {
    suite.sign(
      method: "GET", path: path, query: query,
      headers: [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")] + extra,
      payloadHash: SigV4Signer.emptyPayloadHash, amzDate: "20150830T123600Z")
  }

  @Test func getVanilla() {
    let signed = Self.suiteSign("/")
    #expect(
      signed.canonicalRequest
        == "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
        + SigV4Signer.emptyPayloadHash)
    #expect(
      signed.stringToSign
        == "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
    )
    #expect(signed.signature == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    #expect(
      signed.authorization
        == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    )
  }

  @Test func getVanillaQueryOrderKeyCase() {
    let signed = Self.suiteSign("/", query: [("Param2", "value2"), ("Param1", "value1")])
    #expect(signed.canonicalRequest.contains("\n/\nParam1=value1&Param2=value2\n"))
    #expect(signed.signature == "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")
  }

  @Test func getVanillaQueryUnreserved() {
    let unreserved = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    let signed = Self.suiteSign("/", query: [(unreserved, unreserved)])
    #expect(signed.signature == "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197")
  }

  @Test func getSpace() {
    #expect(
      Self.suiteSign("/example space/").signature == "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741")
  }

  @Test func getUTF8Query() {
    #expect(
      Self.suiteSign("/", query: [("ሴ", "bar")]).signature
        == "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04")
  }

  @Test func getHeaderValueTrim() {
    let signed = Self.suiteSign("/", extra: [("My-Header1", " value1"), ("My-Header2", " \"a   b   c\"")])
    #expect(signed.canonicalRequest.contains("my-header1:value1\nmy-header2:\"a b c\"\n"))
    #expect(signed.signature == "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736")
  }

  @Test func s3DocumentationGetExample() {
    let signer = SigV4Signer(
      accessKey: "AKIAIOSFODNN7EXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1")
    let signed = signer.sign(
      method: "GET", path: "/", query: [("max-keys", "2"), ("prefix", "J")],
      headers: [
        ("Host", "examplebucket.s3.amazonaws.com"), ("x-amz-content-sha256", SigV4Signer.emptyPayloadHash),
        ("x-amz-date", "20130524T000000Z"),
      ], payloadHash: SigV4Signer.emptyPayloadHash, amzDate: "20130524T000000Z")
    #expect(signed.signedHeaders == "host;x-amz-content-sha256;x-amz-date")
    #expect(signed.signature == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
  }

  @Test func valuelessParametersSignAsEmpty() {
    let signed = Self.suiteSign("/bucket", query: [("uploads", ""), ("prefix", "a b")])
    #expect(signed.canonicalRequest.contains("\n/bucket\nprefix=a%20b&uploads=\n"))
  }

  @Test func parsesItsOwnAuthorization() throws {
    let parsed = try #require(SigV4Signer.parseAuthorization(Self.suiteSign("/").authorization))
    #expect(parsed.accessKey == "AKIDEXAMPLE")
    #expect(parsed.scope == "20150830/us-east-1/service/aws4_request")
    #expect(parsed.signedHeaders == ["host", "x-amz-date"])
  }

  /// The cached signing key is the derived one: the same signatures as without a cache, across a change of day,
  /// of secret and of region, in any order.
  @Test func aCachedSigningKeySignsExactlyAsADerivedOne() {
    let cache = SigningKeyCache()
    let dates = ["20130524T000000Z", "20130524T235959Z", "20130525T000000Z", "20130524T120000Z"]
    for (index, amzDate) in (dates + dates.reversed()).enumerated() {
      let secret = index % 3 == 0 ? "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" : "another-secret"
      let region = index % 2 == 0 ? "us-east-1" : "eu-west-1"
      let plain = SigV4Signer(accessKey: "AKIAIOSFODNN7EXAMPLE", secretKey: secret, region: region)
      var cached = plain
      cached.keys = cache
      let headers = [("Host", "examplebucket.s3.amazonaws.com"), ("x-amz-date", amzDate)]
      func sign(_ signer: SigV4Signer) -> String {
        signer.sign(
          method: "GET", path: "/", query: [("uploads", "")], headers: headers,
          payloadHash: SigV4Signer.emptyPayloadHash, amzDate: amzDate
        ).signature
      }
      #expect(sign(cached) == sign(plain), "\(amzDate) \(region)")
      #expect(sign(cached) == sign(plain), "again, from the cache: \(amzDate) \(region)")
    }
  }

  /// The fast path for plain header values against the general rule (trim, collapse runs of spaces).
  @Test func headerValuesNormaliseAsTheGeneralRuleDoes() {
    let alphabet: [Character] = [" ", " ", "\t", "a", "b", "é", "\u{00A0}", ":"]
    var random = SystemRandomNumberGenerator()
    for _ in 0..<5_000 {
      let value = String(
        (0..<Int.random(in: 0...8, using: &random)).map { _ in alphabet.randomElement(using: &random)! })
      let general = value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        .trimmingCharacters(in: .whitespaces)
      #expect(SigV4Signer.normalize(value) == general, "\(Array(value.unicodeScalars))")
    }
    #expect(SigV4Signer.amzDate(Date(timeIntervalSince1970: 1_440_938_160)) == "20150830T123600Z")
  }
}
