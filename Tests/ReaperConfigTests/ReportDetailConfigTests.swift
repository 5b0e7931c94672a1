import Foundation
import ReaperCore
import Testing

@testable import ReaperConfig

@Suite("daemon.report_detail")
struct ReportDetailConfigTests {
  @Test func defaultsToSummary() throws {
    #expect(try ConfigFixture(ConfigFixture.valid()).load().config.daemon.reportDetail == .summary)
  }

  @Test(arguments: [("summary", ReportDetail.summary), ("every-upload", .everyUpload)])
  func acceptsEachForm(text: String, detail: ReportDetail) throws {
    let toml = "[daemon]\nreport_detail = \"\(text)\"\n" + ConfigFixture.valid()
    #expect(try ConfigFixture(toml).load().config.daemon.reportDetail == detail)
  }

  @Test(arguments: [
    ("report_detail = \"full\"", "\"full\" is not \"summary\" or \"every-upload\""),
    ("report_detail = \"Summary\"", "\"Summary\" is not \"summary\" or \"every-upload\""),
    ("report_detail = true", "expected a string, found a boolean"),
  ])
  func aBadValueNamesTheLineAndKey(line: String, message: String) throws {
    let fixture = try ConfigFixture("[daemon]\ninterval = \"15m\"\n\(line)\n" + ConfigFixture.valid())
    let errors = fixture.errors()
    #expect(errors.count == 1, "\(errors)")
    let error = try #require(errors.first)
    #expect(error.description == "\(fixture.path):3: daemon.report_detail: \(message)")
  }
}
