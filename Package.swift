// swift-tools-version: 6.0
import PackageDescription

let package = Package(
  name: "upload-reaper",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "upload-reaper", targets: ["upload-reaper"])
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
  ],
  targets: [
    // The policy engine: models, durations, timestamps, rule selection and decisions. No I/O, no dependencies.
    .target(name: "ReaperCore"),
    // TOML config loading and validation; the only module that sees TOMLKit.
    .target(
      name: "ReaperConfig",
      dependencies: ["ReaperCore", .product(name: "TOMLKit", package: "TOMLKit")]
    ),
    .systemLibrary(
      name: "CSystemd",
      pkgConfig: "libsystemd",
      providers: [.apt(["libsystemd-dev"])]
    ),
    // The only module that talks to libsystemd.
    .target(name: "ReaperSystemd", dependencies: ["CSystemd"]),
    .executableTarget(
      name: "upload-reaper",
      dependencies: [
        "ReaperCore", "ReaperConfig", "ReaperSystemd",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .testTarget(name: "ReaperCoreTests", dependencies: ["ReaperCore"]),
    .testTarget(name: "ReaperConfigTests", dependencies: ["ReaperConfig", "ReaperCore"]),
    .testTarget(name: "CLITests", dependencies: ["upload-reaper"]),
  ],
  swiftLanguageModes: [.v6]
)
