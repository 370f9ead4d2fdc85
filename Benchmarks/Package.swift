// swift-tools-version: 6.1
import PackageDescription

// A nested package so that `swift build` / `swift test` of switchbench never pay for
// ordo-one/benchmark and its dependencies. Run: `cd Benchmarks && swift package benchmark`.
let package = Package(
    name: "switchbench-benchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "switchbench", path: ".."),
        // MallocInterposer only: the default RuntimeInterposer trait pulls in a package that is not mirrored here.
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "SwitchCosts",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "SwitchBench", package: "switchbench"),
            ],
            path: "Benchmarks/SwitchCosts",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
