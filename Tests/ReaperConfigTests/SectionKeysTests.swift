import Foundation
import Testing

@testable import ReaperConfig

/// Each section accepts only its own keys, and a table the config does not define is named as a section.
@Suite("Section keys")
struct SectionKeysTests {
  func onlyError(_ toml: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> ConfigDiagnostic {
    let errors = try ConfigFixture(toml).errors()
    #expect(errors.count == 1, "\(errors)", sourceLocation: sourceLocation)
    return try #require(errors.first, sourceLocation: sourceLocation)
  }

  @Test func aMisspeltTableIsAnUnknownSection() throws {
    let error = try onlyError(ConfigFixture.valid("[deamon]\ninterval = \"1h\"\n"))
    #expect(error.line == 7)
    #expect(error.key == "deamon")
    #expect(error.message == "unknown section; did you mean \"daemon\"?")
  }

  @Test func aMisspeltArrayOfTablesIsAnUnknownSection() throws {
    let error = try onlyError(ConfigFixture.valid("[[rules]]\nname = \"r\"\n"))
    #expect(error.line == 7)
    #expect(error.key == "rules")
    #expect(error.message == "unknown section; did you mean \"rule\"?")
  }

  @Test func aSettingOutsideAnySectionIsAnUnknownKey() throws {
    let error = try onlyError("interval = \"1h\"\n" + ConfigFixture.valid())
    #expect(error.line == 1)
    #expect(error.key == "interval")
    #expect(error.message == "unknown key")
  }

  @Test(arguments: [
    ("[daemon]\nmin_age = \"2h\"\n", "daemon.min_age"),
    ("[metrics]\nmin_age = \"2h\"\n", "metrics.min_age"),
    ("[safety]\ninterval = \"15m\"\n", "safety.interval"),
    ("[safety]\nlisten = \"127.0.0.1:9464\"\n", "safety.listen"),
  ])
  func aKeyOfAnotherSectionIsUnknownHere(section: String, key: String) throws {
    let error = try onlyError(section + ConfigFixture.valid())
    #expect(error.line == 2)
    #expect(error.key == key)
    #expect(error.message.hasPrefix("unknown key"))
  }

  @Test func everySectionListsItsOwnKeys() {
    let lists = ConfigSection.allCases.map(\.allowedKeys)
    #expect(lists.allSatisfy { !$0.isEmpty && Set($0).count == $0.count })
    #expect(Set(lists.map { $0.sorted() }).count == ConfigSection.allCases.count)
  }
}
