import CSwitchBench
import Foundation
import Glibc
import Testing
@testable import SwitchBench

/// Preempted samples do not count (docs/busy-machines.md): properties of the sampler's retake rule,
/// the columns it fills, and real rows under a busy loop on their CPU. No timings are asserted.
@Suite struct SamplerTests {
    static let config = SamplerConfig(samples: 4, warmup: 0, minSampleNs: 10_000)

    /// A fake batch that "takes" 100 µs per op and reports `stolen(k)` ns stolen in its k-th timed call.
    static func fake(stolen: @escaping (Int) -> UInt64?, involuntary: @escaping (Int) -> UInt64? = { _ in nil })
        -> (Int) throws -> TimedSample {
        var call = 0
        return { n in
            call += 1
            let ns = UInt64(n) * 100_000
            return TimedSample(ns: ns, spanNs: ns, stolenNs: stolen(call).map { min($0, ns) },
                               involuntarySwitches: involuntary(call))
        }
    }

    @Test func cleanSamplesAreKept() throws {
        let m = try Sampler.runTimed(Self.config, timedBatch: Self.fake(stolen: { _ in 0 }))
        #expect(m.retaken == 0 && m.perOp.count == 4 && !m.retakesExhausted)
        #expect(m.stolenFraction == 0)
    }

    @Test func stolenTimeIsRetakenAndCounted() throws {
        // Calibration takes three calls; from the 4th call on, every other sample is all stolen time.
        let m = try Sampler.runTimed(Self.config, timedBatch: Self.fake(stolen: { $0 >= 4 && $0 % 2 == 0 ? UInt64.max : 0 }))
        #expect(m.retaken >= 1 && m.retaken <= 4)
        #expect(m.perOp.count == 4 && !m.retakesExhausted)
        // Every kept sample is a clean one: 100 µs per op.
        #expect(m.perOp.allSatisfy { $0 == 100_000 })
        // The stolen fractions cover kept and retaken samples alike.
        #expect(m.stolenFractions.count == m.perOp.count + m.retaken)
        #expect(m.stolenFractions.contains(1.0))
    }

    @Test func stolenTimeWithinTheAllowanceCounts() throws {
        // A few µs (ticks, interrupts) are not a time slice of another task.
        #expect(!TimedSample(ns: 1_000_000, stolenNs: 5_000).preempted)
        #expect(TimedSample(ns: 1_000_000, stolenNs: 100_000).preempted)
        #expect(TimedSample(ns: 1_000_000, involuntarySwitches: 1).preempted)
        #expect(!TimedSample(ns: 1_000_000, involuntarySwitches: 0).preempted)
        #expect(!TimedSample(ns: 1_000_000).preempted)
    }

    @Test func involuntarySwitchIsRetaken() throws {
        let m = try Sampler.runTimed(Self.config, timedBatch: Self.fake(stolen: { _ in nil }, involuntary: { $0 == 5 ? 1 : 0 }))
        #expect(m.retaken == 1 && m.perOp.count == 4)
        #expect(m.stolenFraction == nil)   // not measured under the switch rule
    }

    @Test func retakesShortenTheBatch() throws {
        var sizes: [Int] = []
        var call = 0
        // 100 µs per op, 10 ms samples: calibration settles on 125 ops in calls 1–4; calls 5–14 are stolen.
        _ = try Sampler.runTimed(SamplerConfig(samples: 4, warmup: 0, minSampleNs: 10_000_000)) { n in
            call += 1
            sizes.append(n)
            let ns = UInt64(n) * 100_000
            return TimedSample(ns: ns, stolenNs: call >= 5 && call <= 14 ? ns : 0)
        }
        let calibrated = sizes[3]
        #expect(calibrated == 125)
        #expect(sizes.last! < calibrated)
        #expect(sizes.dropFirst(4).min()! == calibrated / Sampler.shortestBatchDivisor)
    }

    @Test func retakesRunningOutInvalidatesTheRow() throws {
        let m = try Sampler.runTimed(Self.config, timedBatch: Self.fake(stolen: { _ in UInt64.max }))
        #expect(m.retaken == Sampler.retakeFactor * Self.config.samples)
        #expect(m.retakesExhausted && m.perOp.count == 4)
        var r = Record(harness: "syscall", mechanism: "getppid", placement: "same-cpu", cpus: [0], tasks: 1,
                       metric: "per_call", samples: m.perOp, opsPerSample: m.opsPerSample)
        r.applySampling(m)
        #expect(!r.valid)
        #expect(r.note.contains("retakes") && r.note.contains("ran out"))
        #expect(r.samplesRetaken == Sampler.retakeFactor * Self.config.samples)
        #expect(r.stolenFraction == 1.0)
    }

    @Test func uncheckedBatchRecordsNothing() throws {
        let m = try Sampler.run(Self.config, check: .none) { n in var s = 0; for i in 0..<n { s &+= i }; withExtendedLifetime(s) {} }
        var r = Record(harness: "create", mechanism: "pthread", placement: "same-cpu", cpus: [0], tasks: 1,
                       metric: "create_cleanup", samples: m.perOp, opsPerSample: m.opsPerSample)
        r.applySampling(m)
        #expect(r.samplesRetaken == nil && r.stolenFraction == nil && r.valid)
    }

    @Test func processAndChildrenRuleMeasuresStolenTime() throws {
        // A batch that forks and reaps children: checked, with a stolen share per sample.
        let m = try Sampler.run(SamplerConfig(samples: 3, warmup: 0, minSampleNs: 200_000), check: .processAndChildrenCPU) { n in
            for _ in 0..<n {
                let pid = fork()
                if pid == 0 { _exit(0) }
                var status: Int32 = 0
                _ = waitpid(pid, &status, 0)
            }
        }
        #expect(m.checked && m.stolenFractions.count == m.perOp.count + m.retaken)
        #expect(m.stolenFractions.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    @Test func switchCounterSeesEveryTimedBatch() throws {
        // totalOps covers kept and retaken samples and the edge ops a batch reports.
        var call = 0
        let m = try Sampler.runTimed(Self.config) { n in
            call += 1
            return TimedSample(ns: UInt64(n) * 1000, extraOps: 2)
        }
        #expect(m.totalOps == 4 * (m.opsPerSample + 2))
        _ = call
    }

    /// What runs between samples (a ring's stamped laps) runs after every timed sample, and its switches
    /// are left out of the count: here every `between` sleeps (a voluntary switch each), the batches do not.
    @Test func switchesBetweenSamplesAreLeftOut() throws {
        let counter = SwitchCounter()
        var betweens = 0, timed = 0
        let m = try Sampler.runTimed(Self.config, counter: counter, between: {
            betweens += 1
            for _ in 0..<20 { usleep(200) }
        }) { n in
            timed += 1
            return TimedSample(ns: UInt64(n) * 1000)
        }
        #expect(m.interleaved)
        let timedSamples = m.perOp.count + m.retaken
        #expect(betweens == timedSamples && m.perOp.count == Self.config.samples)
        // 20 sleeps a call, at least 20 × samples switches made between them; at most a few counted.
        let switches = try #require(m.switches)
        #expect(switches < 10, "\(switches) switches counted")
        // Without the exclusion (no between) the same sleeps inside the batch are counted.
        let inside = try Sampler.runTimed(Self.config, counter: SwitchCounter()) { n in
            for _ in 0..<20 { usleep(200) }
            return TimedSample(ns: UInt64(n) * 1000)
        }
        #expect((inside.switches ?? 0) >= UInt64(20 * Self.config.samples))
        _ = timed
    }

    // MARK: CSV

    static func run() -> RunResult {
        var run = RunResult.start(environment: Environment.read())
        var a = Record(harness: "process", mechanism: "pipe", placement: "same-cpu", cpus: [0, 0], tasks: 2,
                       metric: "round_trip", samples: [5000, 5100], opsPerSample: 400)
        a.samplesRetaken = 7
        a.stolenFraction = 0.4321
        let b = Record(harness: "create", mechanism: "pthread", placement: "same-cpu", cpus: [0], tasks: 1,
                       metric: "create_cleanup", samples: [20000], opsPerSample: 100)
        run.records = [a, b]
        return run
    }

    @Test func columnsRoundTrip() throws {
        let text = CSVExporter.render(Self.run())
        let header = try CSV.parse(text)[0]
        let i = try #require(header.firstIndex(of: "samples_retaken"))   // appended after online_cpus (docs/csv.md)
        #expect(Array(header[(i - 1)...(i + 1)]) == ["online_cpus", "samples_retaken", "stolen_fraction"])
        let back = try CSVExporter.read(text)
        #expect(back[0].record.samplesRetaken == 7)
        #expect(back[0].record.stolenFraction == 0.4321)
        #expect(back[1].record.samplesRetaken == nil && back[1].record.stolenFraction == nil)
    }

    @Test func csvWithoutTheColumnsLoads() throws {
        // A run written before the columns existed: drop them from every line.
        let rows = try CSV.parse(CSVExporter.render(Self.run())).filter { !($0.count == 1 && $0[0].isEmpty) }
        let header = rows[0]
        let keep = header.indices.filter { !["samples_retaken", "stolen_fraction"].contains(header[$0]) }
        let old = rows.map { row in CSV.line(keep.map { row[$0] }) }.joined(separator: "\n") + "\n"
        let loaded = try RunLoader.parse(old, source: "old.csv")
        #expect(loaded.run.records.count == 2)
        #expect(loaded.run.records.allSatisfy { $0.samplesRetaken == nil && $0.stolenFraction == nil })
    }
}

/// A thread that spins on one CPU until stopped: another task wanting that CPU all the time.
final class BusyLoop: @unchecked Sendable {
    let stop = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
    /// Set by the loop once it runs on its CPU.
    let running = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
    let cpu: UnsafeMutablePointer<Int32> = .allocate(capacity: 1)
    var thread = pthread_t()

    init(cpu c: Int) throws {
        stop.initialize(to: 0)
        running.initialize(to: 0)
        cpu.initialize(to: Int32(c))
        let r = pthread_create(&thread, nil, { raw in
            let me = Unmanaged<BusyLoop>.fromOpaque(raw!).takeUnretainedValue()
            _ = sb_set_affinity(me.cpu, 1)
            sb_store_release(me.running, 1)
            var x: UInt64 = 0
            while sb_load_acquire(me.stop) == 0 { x &+= 1 }
            withExtendedLifetime(x) {}
            return nil
        }, Unmanaged.passUnretained(self).toOpaque())
        guard r == 0 else { throw SwitchBenchError.caseFailed("pthread_create: \(r)") }
        while sb_load_acquire(running) == 0 { usleep(100) }
    }

    func finish() {
        sb_store_release(stop, 1)
        pthread_join(thread, nil)
        stop.deallocate()
        running.deallocate()
        cpu.deallocate()
    }
}

extension ProcessSpawningTests {
@Suite struct PreemptedSampleTests {
    /// A same-cpu ring with a busy loop pinned to its CPU: the loop's time slices land inside samples,
    /// which the stolen-time rule must see (retakes, or a row invalid because they ran out).
    /// The last allowed CPU: harnesses and other suites pin to the first, which a busy loop would slow.
    static var spareCPU: Int { Affinity.current().last! }

    /// Samples of ≥ 10 ms: a busy loop that shares the CPU fairly gets a time slice (a few ms at most,
    /// and it is always runnable) within every such window, so the first timed sample is preempted
    /// and seen, in one run (no retries).
    static let hoggedSampler = SamplerConfig(samples: 5, warmup: 1, minSampleNs: 10_000_000)

    @Test(arguments: [TaskKind.thread, .process])
    func busyLoopOnTheRingsCPUIsSeen(kind: TaskKind) throws {
        var o = RunOptions()
        o.sampler = Self.hoggedSampler
        o.cpus = [Self.spareCPU]
        let context = RunContext(options: o, environment: Environment.read())
        let cpu = context.assignments(for: .sameCPU, tasks: 2)[0].cpus[0]
        #expect(cpu == Self.spareCPU)
        let hog = try BusyLoop(cpu: cpu)
        defer { hog.finish() }
        let h = TokenRingHarness(kind: kind)
        let rows = try h.run(CaseSpec(harness: h.id, mechanism: "futex", placement: .sameCPU, tasks: 2), context: context)
        let rt = try #require(rows.first { $0.metric == "round_trip" })
        let retaken = try #require(rt.samplesRetaken)
        #expect(retaken > 0, "retaken \(retaken), note \(rt.note)")
        #expect((rt.stolenFraction ?? 0) > 0)
    }

    /// The same for a single-thread row (wall vs this thread's CPU time).
    @Test func busyLoopOnTheSamplersCPUIsSeen() throws {
        let cpu = Self.spareCPU
        let hog = try BusyLoop(cpu: cpu)
        defer { hog.finish() }
        let m = try Affinity.pinned([cpu]) {
            try Sampler.run(Self.hoggedSampler) { n in
                for _ in 0..<n { _ = sb_syscall_getppid() }
            }
        }
        #expect(m.retaken > 0, "no sample was retaken with a busy loop on the sampler's CPU")
        // A retaken sample is one whose stolen share passed the allowance (2 % of its window + 10 µs).
        #expect(m.stolenFractions.contains { $0 > 0.02 })
    }

    /// An events case (C9) with a busy loop on its CPU: wall − the CPU time of the driver and of the
    /// readied tasks sees the loop's slices.
    @Test(arguments: ["thread", "process", "asm"])
    func busyLoopOnTheEventsCPUIsSeen(mechanism: String) throws {
        var o = RunOptions()
        o.sampler = Self.hoggedSampler
        o.cpus = [Self.spareCPU]
        o.population = [20]
        o.bursts = [4]
        o.mechanisms = [mechanism]
        let context = RunContext(options: o, environment: Environment.read())
        let spec = try #require(EventsHarness().cases(o).first)
        #expect(spec.placement == .sameCPU)
        let hog = try BusyLoop(cpu: Self.spareCPU)
        defer { hog.finish() }
        let rows = try EventsHarness().run(spec, context: context)
        let event = try #require(rows.first { $0.metric == EventsHarness.eventMetric && $0.parameter(.burst) == 4 })
        #expect(event.cpus == [Self.spareCPU])
        let retaken = try #require(event.samplesRetaken)
        // stolen_fraction is the median over all samples taken: 0 when most fit between the loop's slices.
        #expect(retaken > 0, "retaken \(retaken), note \(event.note)")
        #expect(event.stolenFraction != nil)
    }

    /// Quiet or not, same-cpu events rows carry the columns; unpinned ones are not checked.
    @Test func eventsRowsCarryTheColumns() throws {
        var o = RunOptions()
        o.sampler = SamplerConfig(samples: 5, warmup: 1, minSampleNs: 1_000_000)
        o.population = [10]
        o.bursts = [2]
        o.mechanisms = ["thread"]
        o.placements = [.sameCPU, .unpinned]
        let context = RunContext(options: o, environment: Environment.read())
        let specs = EventsHarness().cases(o)
        #expect(specs.map(\.placement) == [.sameCPU, .unpinned])
        for spec in specs {
            let rows = try EventsHarness().run(spec, context: context)
            #expect(rows.contains { $0.metric == EventsHarness.eventMetric && $0.parameter(.burst) == 2 }, "\(spec.label)")
            for r in rows where r.metric != "ring_round_trip" {
                if spec.placement == .sameCPU {
                    #expect(r.samplesRetaken != nil && r.stolenFraction != nil, "\(r.label)")
                } else {
                    #expect(r.samplesRetaken == nil && r.stolenFraction == nil, "\(r.label)")
                }
            }
        }
    }

    /// Quiet or not, every same-cpu ring row carries the columns.
    @Test func ringRowsCarryTheColumns() throws {
        let rows = try RingTests.run(.thread, "pipe", .sameCPU)
        #expect(Set(rows.map(\.metric)) == Set(["round_trip", "per_switch", "net_switch", "ipc_overhead"] + TokenRingHarness.latencyMetrics))
        // The per hand-off rows are not timed samples (RingLatency.swift): no retakes to report.
        for r in rows where r.metric != "ipc_overhead" && r.latency == nil {
            #expect(r.samplesRetaken != nil && r.stolenFraction != nil)
        }
    }
}
}
