import Foundation
import ReaperFuzzChecks
import ReaperWire
import Testing

/// The reaper's JSON parser against Foundation's JSONDecoder on the inputs where parsers usually part ways.
/// `sameAsFoundation` traps when both read an input to different values; the fuzzers run the same check on
/// every input they make.
@Suite("JSON parser agrees with JSONDecoder")
struct LooseJSONDifferentialTests {
  static let inputs: [String] = [
    #"{"Key":"a","UploadId":"b","Initiated":"Wed Jan 18 16:12:38 2017"}"#,
    #"{"IsTruncated":"true","MaxUploads":"1000","Upload":{"Key":"k"}}"#,
    #"{"a":[1,-2,3.5,1e3,-0.25E-2,0,1E+2],"b":[true,false,null],"c":{},"d":[]}"#,
    "  {\"spaced\" :\t[ 1 , 2 ]\t}  ", "\n[\r\n]\n",
    #""\u00e9\u4e2d\ud83d\ude00 \"q\" \\ \/ \b\f\n\r\t""#,
    #"{"k":"相册/假期 1.mov","e":"%E7%9B%B8"}"#,
    #"{"dup":1,"dup":2}"#, "12345678901234567890", "-0", "0.0000001", "1.7976931348623157e308",
    // Malformed, every one: both must refuse.
    "", " ", "{", "}", "[1,]", "[1,,]", "[,1]", #"{"a":1,}"#, #"{"a":1,,}"#, "{,}", #"{"a" 1}"#, #"{a:1}"#, "01", "1.",
    ".5", "-", "1e", "1e+",
    "+1", "0x10", "NaN", "Infinity", "1e400", "tru", "nul", "falsey", #""unterminated"#, #""bad \x escape""#,
    #""\ud83d alone""#, #""\ude00 low""#, #""\u12""#, #""\u12G4""#, "\"tab\there\"", "[1] [2]", "{}x",
    String(repeating: "[", count: 65) + String(repeating: "]", count: 65),
    String(repeating: "[", count: 64) + String(repeating: "]", count: 64),
  ]

  @Test(arguments: inputs)
  func sameValueOrSameRefusal(input: String) {
    FuzzChecks.sameAsFoundation(Array(input.utf8))
  }

  /// Where the two part ways on purpose: JSONDecoder's number scanning.
  @Test func numbersFollowTheRFC() throws {
    #expect(try LooseJSON.parse(Array("0e1".utf8)) == .number(0))
    #expect(throws: (any Error).self) { try LooseJSON.parse(Array(#"{"n":5.0...}"#.utf8)) }
  }

  @Test func bytesThatAreNotUTF8() {
    let utf16: [UInt8] =
      [0xFF, 0xFE] + Array("[1]".utf16).flatMap { unit -> [UInt8] in [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
    let cases: [[UInt8]] = [
      [0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0xEF, 0xBB, 0xBF, 0x7B, 0x7D], [0x22, 0x00, 0x22], utf16,
      [0x5B, 0x00, 0x31, 0x00, 0x5D, 0x00],
    ]
    for bytes in cases {
      FuzzChecks.sameAsFoundation(bytes)
    }
  }
}
