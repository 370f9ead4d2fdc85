// swift-tools-version: 6.0
import PackageDescription

// Timed loops must be optimized even in the debug build that `swift run` makes,
// so the measuring targets get -O / -O2 in debug too (docs/methodology.md).
let optimizeSwift: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]
let optimizeC: [CSetting] = [.unsafeFlags(["-O2"], .when(configuration: .debug))]

let package = Package(
    name: "switchbench",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "SwitchBench", targets: ["SwitchBench"]),
        .executable(name: "switchbench", targets: ["switchbench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // The only C and assembly: what Swift cannot call directly (variadic syscall, futex,
        // perf_event_open, CPU_SET, stack switching) plus the async-signal-safe cleanup handler.
        .target(name: "CSwitchBench", cSettings: optimizeC + [.define("_GNU_SOURCE")]),
        .target(name: "SwitchBench", dependencies: ["CSwitchBench"], swiftSettings: optimizeSwift),
        .executableTarget(
            name: "switchbench",
            dependencies: ["SwitchBench", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: optimizeSwift),
        // Fixtures/: real runs of other machines, read by path (#filePath), not bundled as resources.
        .testTarget(name: "SwitchBenchTests", dependencies: ["SwitchBench", "CSwitchBench"], exclude: ["Fixtures"]),
    ]
)
