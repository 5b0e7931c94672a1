import Testing

@testable import ReaperProviders

/// The published COS vectors (1 and 2) and the CDCS list cross-check (3), from the spec.
@Suite("CDCS request signature")
struct CDCSSignerTests {
  let signer = CDCSSigner(
    secretID: "AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q", secretKey: "BQYIM75p8x0iWVFSIgqEKwFprpRSVHlz")

  @Test func vector1Put() {
    let signature = signer.sign(
      method: "PUT", path: "/exampleobject(腾讯云)", parameters: [],
      headers: [
        ("Date", "Thu, 16 May 2019 06:45:51 GMT"), ("Host", "examplebucket-1250000000.cos.ap-beijing.myqcloud.com"),
        ("Content-Type", "text/plain"), ("Content-Length", "13"), ("Content-MD5", "mQ/fVh815F3k6TAUm8m0eg=="),
        ("x-cos-acl", "private"), ("x-cos-grant-read", "uin=\"100000000011\""),
      ], keyTime: "1557989151;1557996351")
    #expect(signature.signKey == "eb2519b498b02ac213cb1f3d1a3d27a3b3c9bc5f")
    #expect(signature.stringToSign == "sha1\n1557989151;1557996351\n8b2751e77f43a0995d6e9eb9477f4b685cca4172\n")
    #expect(signature.headerList == "content-length;content-md5;content-type;date;host;x-cos-acl;x-cos-grant-read")
    #expect(signature.parameterList == "")
    #expect(signature.signature == "3b8851a11a569213c17ba8fa7dcf2abec6935172")
    // The path is signed decoded, not percent-encoded.
    #expect(signature.httpString.hasPrefix("put\n/exampleobject(腾讯云)\n\n"))
  }

  @Test func vector2GetWithParameters() {
    let signature = signer.sign(
      method: "GET", path: "/exampleobject(腾讯云)",
      parameters: [("response-content-type", "application/octet-stream"), ("response-cache-control", "max-age=600")],
      headers: [
        ("Date", "Thu, 16 May 2019 06:55:53 GMT"), ("Host", "examplebucket-1250000000.cos.ap-beijing.myqcloud.com"),
      ], keyTime: "1557989753;1557996953")
    #expect(signature.parameterList == "response-cache-control;response-content-type")
    #expect(signature.headerList == "date;host")
    #expect(signature.signature == "01681b8c9d798a678e43b685a9f1bba0f6c0e012")
  }

  @Test func vector3CDCSList() {
    let signature = signer.sign(
      method: "GET", path: "/examplecoffer-1250000000", parameters: [("uploads", ""), ("max-uploads", "2")],
      headers: [("Host", "cdcs.ap-beijing.myqcloud.com"), ("Date", "Thu, 16 May 2019 06:45:51 GMT")],
      keyTime: "1557989151;1557996351")
    #expect(signature.parameterList == "max-uploads;uploads")
    #expect(signature.headerList == "date;host")
    #expect(signature.signature == "3ff3da34ae2f87933f018c8c7a94067805a3cc0a")
    #expect(
      signature.authorization
        == "q-sign-algorithm=sha1&q-ak=AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q&q-sign-time=1557989151;1557996351"
        + "&q-key-time=1557989151;1557996351&q-header-list=date;host&q-url-param-list=max-uploads;uploads"
        + "&q-signature=3ff3da34ae2f87933f018c8c7a94067805a3cc0a")
  }

  @Test func encodingMatchesTheSpec() {
    #expect(URLEncoding.encode("a b+c/(d)!'*~") == "a%20b%2Bc%2F%28d%29%21%27%2A~")
    #expect(URLEncoding.encode("/a b/c", keepSlash: true) == "/a%20b/c")
    #expect(URLEncoding.encode("腾") == "%E8%85%BE")
    #expect(URLEncoding.decode("a+b%2Bc%20d") == "a b+c d")
    #expect(URLEncoding.decode("a+b", plusIsSpace: false) == "a+b")
    #expect(URLEncoding.decode("bad%2") == nil)
    #expect(URLEncoding.decode("bad%zz") == nil)
    #expect(URLEncoding.formEncode("tmp/a b+c") == "tmp/a+b%2Bc")
  }

  @Test func hostHeaderKeepsOnlyNonDefaultPorts() {
    #expect(CDCSProvider.hostHeader("https://cdcs.ap-beijing.myqcloud.com") == "cdcs.ap-beijing.myqcloud.com")
    #expect(CDCSProvider.hostHeader("http://127.0.0.1:9000") == "127.0.0.1:9000")
    #expect(CDCSProvider.hostHeader("https://h:443") == "h")
  }
}
