import Testing

@testable import ReaperConfig

@Suite("TOML locator")
struct LocatorTests {
  @Test func findsTablesKeysAndArrayElements() {
    let source = """
      # comment = not a key
      top = 1
      [daemon]
      interval = "15m"  # trailing = comment

      [[target]]
      name = "a"
      buckets = [
        "x = y",
        "z",
      ]
      notes = \"\"\"
      fake = "inside a multi-line string"
      \"\"\"
      after = true
      [[target]]
      "quoted key" = 1
      name = "b"
      [[rule]]
      daemon.dotted = 2
      """
    let locator = TOMLLocator(source: source)
    #expect(locator.line(of: "top") == 2)
    #expect(locator.line(of: "daemon") == 3)
    #expect(locator.line(of: "daemon.interval") == 4)
    #expect(locator.line(of: "target[0]") == 6)
    #expect(locator.line(of: "target[0].name") == 7)
    #expect(locator.line(of: "target[0].buckets") == 8)
    #expect(locator.line(of: "target[0].fake") == nil)
    #expect(locator.line(of: "target[0].after") == 15)
    #expect(locator.line(of: "target[1]") == 16)
    #expect(locator.line(of: "target[1].quoted key") == 17)
    #expect(locator.line(of: "target[1].name") == 18)
    #expect(locator.line(of: "rule[0].daemon.dotted") == 20)
    #expect(locator.line(of: "comment") == nil)
  }
}

@Suite("TOML header preflight")
struct HeaderPreflightTests {
  @Test(arguments: ["[daemon]", "[[target]]", "[ a . \"b c\" ]  # note", "[[ 'x' ]]", "[a-b_c.d]"])
  func wellFormed(header: String) {
    #expect(TOMLLocator.isWellFormedHeader(Array(header.utf8)[...]))
  }

  @Test(arguments: ["[[[daemon]", "[]", "[[]]", "[a.]", "[a b]", "[\"open]", "[a]x", "[[a]", "[.a]", "[a..b]"])
  func malformed(header: String) {
    #expect(!TOMLLocator.isWellFormedHeader(Array(header.utf8)[...]))
  }

  @Test func aMalformedHeaderIsASyntaxErrorWithItsLine() throws {
    let errors = try ConfigFixture("[daemon]\ninterval = \"1h\"\n[[[target]]\nname = \"x\"\n").errors()
    #expect(errors.count == 1)
    #expect(errors.first?.line == 3)
    #expect(errors.first?.key == "syntax")
    #expect(errors.first?.message.contains("malformed table header") == true)
  }

  /// toml++ skips a byte-order mark, so the preflight must too: a bad header right after one is still caught.
  @Test func aByteOrderMarkDoesNotHideTheFirstHeader() throws {
    let errors = try ConfigFixture("\u{FEFF}[$daemon]\ninterval = \"1h\"\n").errors()
    #expect(errors.count == 1)
    #expect(errors.first?.line == 1)
    #expect(errors.first?.message.contains("malformed table header") == true)
  }
}
