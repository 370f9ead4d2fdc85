// Core switch costs as ordo-one/benchmark benchmarks, so a Swift project can keep baselines and
// thresholds the way it knows: `swift package benchmark baseline update main`,
// `swift package benchmark baseline check main`.
//
// - "syscall getppid": one raw system call per iteration (privilege switch only, claim C7).
// - "coroutine asm/swift-task switch": the `coroutine` harness's same-thread ping-pong, per switch (ps).
// - "thread/process round trip same-cpu": the suite's own token ring (two tasks pinned to one CPU,
//   futex hand-off), run through the public harness API so the kernel-counted switches prove every
//   hand-off happened; each iteration is one calibrated quick case and reports its median round trip
//   as a custom metric (ns). Wall clock of these iterations is the case's whole run, not a switch.
import Benchmark
import CSwitchBench
import SwitchBench

/// One same-cpu, two-task futex case of a token ring; returns the median round trip in ns.
func ringRoundTrip(_ kind: TaskKind) throws -> Int {
    var options = RunOptions()
    options.mechanisms = ["futex"]
    options.placements = [.sameCPU]
    options.sampler = .quick
    let harness = TokenRingHarness(kind: kind)
    let context = RunContext(options: options, environment: Environment.read())
    guard let spec = harness.plan(options).first else { throw SwitchBenchError.caseFailed("no case planned") }
    let rows = try harness.run(spec, context: context)
    guard let rt = rows.first(where: { $0.metric == "round_trip" }), let median = rt.stats?.median else {
        throw SwitchBenchError.caseFailed("no round trip row")
    }
    guard rt.valid else { throw SwitchBenchError.caseFailed("row invalid: \(rt.note)") }
    return Int(median.rounded())
}

let roundTripMetric = BenchmarkMetric.custom("round trip (ns)", polarity: .prefersSmaller, useScalingFactor: false)

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .throughput], warmupIterations: 3,
                                           maxDuration: .seconds(3), maxIterations: 1_000_000)

    Benchmark("syscall getppid", configuration: .init(metrics: [.wallClock, .throughput, .instructions],
                                                      scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(sb_syscall_getppid())
        }
    }

    for kind in [TaskKind.thread, .process] {
        Benchmark("\(kind.rawValue) futex round trip same-cpu",
                  configuration: .init(metrics: [roundTripMetric], warmupIterations: 1,
                                       maxDuration: .seconds(5), maxIterations: 15)) { benchmark in
            let ns = try ringRoundTrip(kind)
            benchmark.measurement(roundTripMetric, ns)
        }
    }

    // Coroutine switches (asm, Swift task) through the `coroutine` harness, when the registry has it: one
    // quick case per iteration, its per_switch median reported in picoseconds (an asm switch is ~5 ns and
    // the metric is an integer).
    if let coroutine = Registry.harness("coroutine") {
        for mechanism in ["asm", "swift-task"] where coroutine.mechanisms.contains(where: { $0.id == mechanism }) {
            let metric = BenchmarkMetric.custom("per switch (ps)", polarity: .prefersSmaller, useScalingFactor: false)
            Benchmark("coroutine \(mechanism) switch", configuration: .init(metrics: [metric], warmupIterations: 1,
                                                                          maxDuration: .seconds(5), maxIterations: 15)) { benchmark in
                var options = RunOptions()
                options.mechanisms = [mechanism]
                options.sampler = .quick
                let context = RunContext(options: options, environment: Environment.read())
                for spec in coroutine.plan(options).prefix(1) {
                    let rows = try coroutine.run(spec, context: context)
                    if let r = rows.first(where: { $0.metric == "per_switch" }), let m = r.stats?.median {
                        benchmark.measurement(metric, Int((m * 1000).rounded()))
                    }
                }
            }
        }
    }
}
