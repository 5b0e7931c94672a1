import Foundation
import ReaperCore
import Testing

@testable import ReaperConfig

@Suite("Credentials")
struct CredentialsTests {
  func write(_ text: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("cred-\(UUID().uuidString)").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    return path
  }

  @Test func readsKeysCommentsAndQuotes() throws {
    let path = try write(
      "# reaper\naccess_key_id = AKID\nsecret_access_key=\"s3cr3t/with=equals\"\n\nsession_token=tok\n")
    let (credentials, problems) = CredentialsLoader.load(.file(path), provider: .s3, environment: [:])
    #expect(problems.isEmpty)
    #expect(credentials?.accessKeyID == "AKID")
    #expect(credentials?.secretAccessKey == "s3cr3t/with=equals")
    #expect(credentials?.sessionToken == "tok")
  }

  @Test func problemsNameFileLineAndKeyButNeverTheValue() throws {
    let path = try write("access_key_id=AKID\nsecret_acess_key=TOPSECRETVALUE\nnonsense\naccess_key_id=AGAIN\n")
    let (credentials, problems) = CredentialsLoader.load(.file(path), provider: .s3, environment: [:])
    #expect(credentials == nil)
    #expect(problems.map(\.line) == [2, 3, 4, nil])
    #expect(problems.map(\.key) == ["secret_acess_key", "credentials", "access_key_id", "secret_access_key"])
    for problem in problems {
      #expect(!problem.description.contains("TOPSECRETVALUE"))
      #expect(!problem.description.contains("AGAIN"))
      #expect(problem.file == path)
    }
  }

  @Test func pdsNeedsAnAccessToken() throws {
    let path = try write("access_key_id=AKID\nsecret_access_key=SK\n")
    let (_, problems) = CredentialsLoader.load(.file(path), provider: .pds, environment: [:])
    #expect(problems.map(\.key) == ["access_token"])
  }

  @Test func printingNeverShowsSecrets() {
    let credentials = Credentials(accessKeyID: "AKID", secretAccessKey: "SUPERSECRET", accessToken: "TOKENVALUE")
    var dumped = ""
    dump(credentials, to: &dumped)
    for text in ["\(credentials)", String(describing: credentials), String(reflecting: credentials), dumped] {
      #expect(!text.contains("SUPERSECRET"))
      #expect(!text.contains("TOKENVALUE"))
    }
    #expect(credentials.secretValues.sorted() == ["SUPERSECRET", "TOKENVALUE"])
  }

  @Test func environmentPrefix() {
    #expect(CredentialSource.environmentPrefix(forTarget: "coffers-bj.2") == "UPLOAD_REAPER_COFFERS_BJ_2_")
  }

  @Test func devicesAndHugeFilesAreRefusedNotRead() throws {
    let (_, device) = CredentialsLoader.load(.file("/dev/zero"), provider: .s3, environment: [:])
    #expect(device.map(\.message) == ["not a regular file"])
    let big = try write(String(repeating: "#", count: 100_000))
    let (_, huge) = CredentialsLoader.load(.file(big), provider: .s3, environment: [:])
    #expect(huge.first?.message.contains("larger than 64 KiB") == true)
    #expect {
      _ = try ConfigLoader.load(path: "/dev/zero", environment: [:])
    } throws: { error in
      (error as? ConfigError)?.diagnostics.first?.message == "not a regular file"
    }
  }
}
