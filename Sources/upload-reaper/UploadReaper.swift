import ArgumentParser
import Foundation
import ReaperConfig
import ReaperCore

@main
struct UploadReaper: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "upload-reaper",
    abstract: "Find abandoned multipart uploads on object storage and log, report or abort them by policy.",
    discussion: """
      Exit status: 0 the command completed; 1 some target failed (the others still ran);
      2 the config or the arguments are bad.
      """,
    version: ReaperVersion.string,
    subcommands: [Run.self, Scan.self, Apply.self, CheckConfig.self, List.self, Report.self, Sandbox.self]
  )

  /// Parses and runs, mapping argument errors to exit status 2 as the contract fixes (not sysexits' 64).
  static func main() async {
    do {
      var command = try parseAsRoot()
      if var asyncCommand = command as? AsyncParsableCommand {
        try await asyncCommand.run()
      } else {
        try command.run()
      }
    } catch {
      let code = exitCode(for: error)
      if code == .validationFailure {
        FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
        Foundation.exit(ExitStatus.badConfig)
      }
      exit(withError: error)
    }
  }
}

enum ExitStatus {
  static let ok: Int32 = 0
  static let targetFailed: Int32 = 1
  static let badConfig: Int32 = 2
}

struct ConfigOption: ParsableArguments {
  @Option(name: .long, help: ArgumentHelp("The config file.", valueName: "file"))
  var config: String = ConfigLoader.defaultPath

  /// Loads the config, printing warnings; on errors prints them all and exits 2.
  func load() throws -> LoadedConfig {
    do {
      let loaded = try ConfigLoader.load(path: config)
      for warning in loaded.warnings { Console.error(warning.description) }
      return loaded
    } catch {
      for diagnostic in error.diagnostics { Console.error(diagnostic.description) }
      throw ExitCode(ExitStatus.badConfig)
    }
  }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
  case text, json
}

enum Console {
  static func error(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
  }
}

enum TargetFilter {
  static func check(_ name: String?, in config: ReaperConfig) throws {
    guard let name, config.target(named: name) == nil else { return }
    let known = config.targets.map(\.name).joined(separator: ", ")
    Console.error("upload-reaper: --target \(name): no such target in \(config.path) (targets: \(known))")
    throw ExitCode(ExitStatus.badConfig)
  }
}
