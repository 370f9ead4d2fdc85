// swift-tools-version: 6.0
import PackageDescription

// Timed loops must be optimized even in the debug build that `swift run` makes,
// so the measuring targets get -O / -O2 in debug too (docs/methodology.md).
let optimizeSwift: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]
let optimizeC: [CSetting] = [.unsafeFlags(["-O2"], .when(configuration: .debug))]
let staticC: [LinkerSetting] = [.unsafeFlags(["-static-executable", "-nostartfiles"], .when(platforms: [.linux]))]

let package = Package(
    name: "switchbench",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "SwitchBench", targets: ["SwitchBench"]),
        .executable(name: "switchbench", targets: ["switchbench"]),
        .executable(name: "switchbench-proc", targets: ["switchbench-proc"]),
        .executable(name: "switchbench-noop", targets: ["switchbench-noop"]),
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
        // The create harness's helpers, built beside switchbench (same bin directory): a minimal C parent
        // that forks, execs, spawns and makes threads (as lmbench's lat_proc), and the static no-op
        // program it execs. Linked statically: swiftc links every executable, and for a C-only one it
        // would still add swiftrt.o and libswiftCore.so; -nostartfiles drops swiftrt.o and
        // -static-executable links glibc statically, where the unreferenced Swift archives add nothing.
        .executableTarget(name: "switchbench-proc", cSettings: optimizeC, linkerSettings: staticC),
        .executableTarget(name: "switchbench-noop", cSettings: optimizeC, linkerSettings: staticC),
        // Fixtures/: real runs of other machines, read by path (#filePath), not bundled as resources.
        // The helper executables are dependencies so that `swift test` builds them next to the tests.
        .testTarget(name: "SwitchBenchTests", dependencies: ["SwitchBench", "CSwitchBench", "switchbench-proc", "switchbench-noop"],
                    exclude: ["Fixtures"]),
    ]
)
