// swift-tools-version: 6.0
import PackageDescription

let package = Package(
  name: "upload-reaper",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "upload-reaper", targets: ["upload-reaper"]),
    .executable(name: "reaper-fuzz", targets: ["reaper-fuzz"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
  ],
  targets: [
    // The policy engine: models, durations, timestamps, rule selection and decisions. No I/O, no dependencies.
    .target(name: "ReaperCore"),
    // TOML config loading and validation; the only module that sees TOMLKit.
    .target(
      name: "ReaperConfig",
      dependencies: ["ReaperCore", .product(name: "TOMLKit", package: "TOMLKit")]
    ),
    // Wire formats: URL encoding, JSON and streaming XML readers, and the providers' page decoders.
    // No networking, so the fuzzers build it alone.
    .target(name: "ReaperWire", dependencies: ["ReaperCore"]),
    // The provider interface, the shared HTTP layer, and one folder per provider.
    .target(
      name: "ReaperProviders",
      dependencies: [
        "ReaperCore", "ReaperConfig", "ReaperWire",
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
      ]
    ),
    // One cycle: walk, decide, act; the reports that say what happened, and the Prometheus metrics.
    .target(
      name: "ReaperEngine",
      dependencies: [
        "ReaperCore", "ReaperConfig", "ReaperProviders", .product(name: "Logging", package: "swift-log"),
        .product(name: "Prometheus", package: "swift-prometheus"), .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
      ]
    ),
    // `upload-reaper run`: the service under systemd.
    .target(
      name: "ReaperDaemon",
      dependencies: [
        "ReaperCore", "ReaperConfig", "ReaperEngine", "ReaperProviders", "ReaperSystemd",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "UnixSignals", package: "swift-service-lifecycle"),
      ]
    ),
    // The built-in local server that speaks the providers' APIs, quirks and faults included.
    .target(
      name: "ReaperSandbox",
      dependencies: [
        "ReaperCore", "ReaperProviders",
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
      ]
    ),
    // What the fuzzers exercise, shared with the regression tests; and the libFuzzer driver (scripts/fuzz).
    .target(name: "ReaperFuzzChecks", dependencies: ["ReaperWire", "ReaperConfig", "ReaperCore"]),
    .executableTarget(name: "reaper-fuzz", dependencies: ["ReaperFuzzChecks"]),
    // scripts/bench's helper: makes the Ceph populations and checks what is left.
    .executableTarget(
      name: "reaper-bench",
      dependencies: [
        "TestSupport", "ReaperProviders", .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .systemLibrary(
      name: "CSystemd",
      pkgConfig: "libsystemd",
      providers: [.apt(["libsystemd-dev"])]
    ),
    // The only module that talks to libsystemd.
    .target(name: "ReaperSystemd", dependencies: ["CSystemd", .product(name: "Logging", package: "swift-log")]),
    .executableTarget(
      name: "upload-reaper",
      dependencies: [
        "ReaperCore", "ReaperConfig", "ReaperSystemd", "ReaperProviders", "ReaperEngine", "ReaperSandbox",
        "ReaperDaemon", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "UnixSignals", package: "swift-service-lifecycle"),
      ]
    ),
    .testTarget(name: "ReaperCoreTests", dependencies: ["ReaperCore", "TestSupport"]),
    .testTarget(name: "ReaperConfigTests", dependencies: ["ReaperConfig", "ReaperCore"]),
    // Helpers shared by the test targets: an S3 client that makes real uploads, and the Ceph test cluster.
    .target(
      name: "TestSupport",
      dependencies: [
        "ReaperProviders", "ReaperCore", "ReaperConfig", "ReaperEngine",
        .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
        // Content-MD5, which PutBucketLifecycleConfiguration requires.
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
      ],
      path: "Tests/TestSupport"
    ),
    .testTarget(
      name: "FuzzRegressionTests", dependencies: ["ReaperFuzzChecks", "ReaperWire"], exclude: []
    ),
    // The engine over an in-memory provider: no network, no root, thousands of cycles a second.
    .testTarget(
      name: "ReaperEngineTests",
      dependencies: [
        "ReaperEngine", "ReaperCore", "ReaperConfig", "ReaperProviders", "TestSupport",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "PropertyBased", package: "swift-property-based"),
      ]
    ),
    .testTarget(name: "ProviderUnitTests", dependencies: ["ReaperProviders", "ReaperCore", "ReaperConfig"]),
    .testTarget(
      name: "IntegrationTests",
      dependencies: [
        "ReaperProviders", "ReaperSandbox", "ReaperEngine", "ReaperCore", "ReaperConfig", "TestSupport",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "PropertyBased", package: "swift-property-based"),
      ]
    ),
    .testTarget(
      name: "CLITests",
      dependencies: ["upload-reaper", "ReaperSandbox", "ReaperCore", "ReaperProviders", "TestSupport"]
    ),
  ],
  swiftLanguageModes: [.v6]
)
