import CSwitchBench
import Foundation
import Testing
@testable import SwitchBench

/// The many-tasks harnesses (memory: C8, events: C9) on small real cases, and their limits.
extension ProcessSpawningTests {
@Suite struct ManyTasksTests {
    static func context(population: [Int], bursts: [Int]? = nil, mechanisms: [String]? = nil, quick: Bool = true) -> RunContext {
        var o = RunOptions()
        o.sampler = SamplerConfig(samples: 5, warmup: 1, minSampleNs: 1_000_000)
        o.quick = quick
        o.population = population
        o.bursts = bursts
        o.mechanisms = mechanisms
        return RunContext(options: o, environment: Environment.read())
    }

    static func liveChildren() -> Int {
        ProcessTable.all().filter { $0.ppid == getpid() && $0.comm == "sb-many-task" }.count
    }

    @Test func memoryRowsPerKindAndN() throws {
        let h = MemoryHarness()
        let ctx = Self.context(population: [10, 50])
        let specs = h.cases(ctx.options)
        #expect(Set(specs.map(\.mechanism)) == ["process", "thread", "asm", "swift-task"])
        for spec in specs {
            let rows = try h.run(spec, context: ctx)
            let metrics = Set(rows.map(\.metric))
            var expected = Set(MemoryHarness.metrics)
            if spec.mechanism == "process" { expected.remove("heap_bytes_per_task") }
            #expect(metrics == expected, "\(spec.label): \(metrics)")
            for r in rows {
                #expect(r.tasks == spec.tasks && r.unit == "bytes" && r.stats != nil, "\(r.label): \(r.note)")
            }
            func median(_ m: String) -> Double { rows.first { $0.metric == m }?.stats?.median ?? .nan }
            switch spec.mechanism {
            case "asm":
                // Each coroutine reserves its stack and a guard page, and touches at least one page of it.
                #expect(spec.footprint == Coroutine.defaultStackSize)
                #expect(median("address_space_bytes_per_task") >= Double(Coroutine.defaultStackSize))
                #expect(median("user_bytes_per_task") >= 4096)
            case "thread":
                #expect(spec.footprint == ManyTasks.defaultThreadStack)
                #expect(median("heap_bytes_per_task") >= 0)
            case "process":
                #expect(median("user_bytes_per_task") > 0)
                #expect(median("address_space_bytes_per_task") > Double(1 << 20), "a child has a whole address space")
            default:
                #expect(spec.footprint == 0)
                #expect(median("user_bytes_per_task") > 0 && median("user_bytes_per_task") < Double(64 << 10))
            }
        }
        #expect(Self.liveChildren() == 0)
    }

    @Test func stackSizeIsAParameterAndRecorded() throws {
        var o = Self.context(population: [20]).options
        o.stackSizes = [64 << 10]
        o.mechanisms = ["thread", "asm"]
        let specs = MemoryHarness().cases(o)
        #expect(specs.count == 2 && specs.allSatisfy { $0.footprint == 64 << 10 })
        let rows = try MemoryHarness().run(specs[1], context: RunContext(options: o, environment: Environment.read()))
        let vm = try #require(rows.first { $0.metric == "address_space_bytes_per_task" }?.stats?.median)
        #expect(vm >= Double(64 << 10) && vm < Double(128 << 10), "\(vm)")
        #expect(rows.allSatisfy { $0.footprintBytes == 64 << 10 && $0.note.contains("--stack-size") || $0.metric != "user_bytes_per_task" })
    }

    @Test(arguments: ["thread", "process", "asm", "swift-task"], [(10, 1), (40, 8)])
    func eventSwitchesMatchTheMechanism(mechanism: String, nk: (Int, Int)) throws {
        let (n, k) = nk
        let h = EventsHarness()
        let ctx = Self.context(population: [n], bursts: [k], mechanisms: [mechanism])
        let specs = h.cases(ctx.options)
        #expect(specs.count == 1 && specs[0].placement == .sameCPU)
        let expected = EventsHarness.expectedSwitchesPerEvent(mechanism, k: k)
        // Other tests run threads at the same time and may preempt the case's tasks on its CPU (extra,
        // involuntary switches): up to three tries, the property must hold in one.
        var rows: [Record] = []
        for _ in 0..<3 {
            rows = try h.run(specs[0], context: ctx)
            if let r = rows.first(where: { $0.metric == EventsHarness.eventMetric(k) }), r.valid { break }
        }
        let event = try #require(rows.first { $0.metric == EventsHarness.eventMetric(k) })
        let spe = try #require(event.switchesPerOp)
        #expect(event.expectedSwitchesPerOp == expected)
        #expect(abs(spe - expected) / expected <= 0.10, "\(mechanism) N=\(n) K=\(k): \(spe) switches per event, expected \(expected)")
        #expect(event.valid, "\(event.note)")
        let burst = try #require(rows.first { $0.metric == EventsHarness.burstMetric(k) })
        #expect(zip(burst.sampleValues, event.sampleValues).allSatisfy { abs($0 - $1 * Double(k)) < 1e-6 })
        #expect(Self.liveChildren() == 0)
    }

    @Test func eventLoopSwitchesLessPerEventThanAThreadPerTask() {
        // The claim's mechanism, as arithmetic: 2 switches a burst against one per ready task plus one.
        for k in [1, 16] {
            #expect(EventsHarness.expectedSwitchesPerEvent("asm", k: k) <= EventsHarness.expectedSwitchesPerEvent("thread", k: k))
        }
        #expect(EventsHarness.expectedSwitchesPerEvent("thread", k: 1) == 2)
        #expect(EventsHarness.expectedSwitchesPerEvent("swift-task", k: 16) == 0.125)
    }

    @Test func ringEquivalentAtOneTask() throws {
        let ctx = Self.context(population: [1], bursts: [1], mechanisms: ["thread"])
        let rows = try EventsHarness().run(EventsHarness().cases(ctx.options)[0], context: ctx)
        let ring = try #require(rows.first { $0.metric == "ring_round_trip" })
        #expect(ring.note.contains("thread pipe same-cpu tasks=2 round_trip"))
        #expect(ring.stats != nil)
    }

    @Test func burstsLargerThanThePopulationAreNotPlanned() {
        let o = Self.context(population: [1, 10, 100], bursts: [16], mechanisms: ["asm"]).options
        #expect(EventsHarness().cases(o).map(\.tasks) == [100])
    }

    // MARK: limits

    static func limits() -> ManyTasks.Limits {
        ManyTasks.Limits(threadsMax: 100_000, pidMax: 100_000, tasksNow: 500, nproc: nil, privileged: true,
                         mapCountMax: 65530, mapsNow: 400, memAvailable: 8 << 30, overcommit: 0,
                         commitLimit: nil, committed: nil, cgroupPidsMax: nil, cgroupPidsNow: nil)
    }

    @Test func eachLimitIsNamed() {
        var needs = ManyTasks.Needs()
        needs.tasks = 10_000
        #expect(ManyTasks.limitReached(needs, Self.limits()) == nil)
        var l = Self.limits(); l.threadsMax = 5000
        #expect(ManyTasks.limitReached(needs, l)?.hasPrefix("kernel.threads-max = 5000") == true)
        l = Self.limits(); l.pidMax = 4096
        #expect(ManyTasks.limitReached(needs, l)?.hasPrefix("kernel.pid_max = 4096") == true)
        l = Self.limits(); l.nproc = (4096, 4096); l.privileged = false
        #expect(ManyTasks.limitReached(needs, l)?.hasPrefix("RLIMIT_NPROC = 4096") == true)
        l = Self.limits(); l.cgroupPidsMax = 1000
        #expect(ManyTasks.limitReached(needs, l)?.hasPrefix("cgroup pids.max = 1000") == true)
        var maps = ManyTasks.Needs(); maps.mappings = 70_000
        #expect(ManyTasks.limitReached(maps, Self.limits())?.hasPrefix("vm.max_map_count = 65530") == true)
        var mem = ManyTasks.Needs(); mem.residentBytes = 6 << 30
        #expect(ManyTasks.limitReached(mem, Self.limits())?.hasPrefix("memory:") == true)
        l = Self.limits(); l.overcommit = 2; l.commitLimit = 1 << 30; l.committed = 1 << 29
        var reserve = ManyTasks.Needs(); reserve.reservedBytes = 1 << 30
        #expect(ManyTasks.limitReached(reserve, l)?.hasPrefix("vm.overcommit_memory = 2") == true)
    }

    @Test func casesPastALimitAreNARowsAndCreateNothing() throws {
        // Processes stop at 1000 unless named: the case is an n/a row, made before anything exists.
        var o = Self.context(population: [1001]).options
        o.mechanisms = nil
        let ctx = RunContext(options: o, environment: Environment.read())
        let spec = try #require(MemoryHarness().cases(o).first { $0.mechanism == "process" })
        let t0 = monotonicNanoseconds()
        let rows = try MemoryHarness().run(spec, context: ctx)
        #expect(monotonicNanoseconds() - t0 < 500_000_000, "nothing was created")
        #expect(!rows.isEmpty && rows.allSatisfy { $0.stats == nil && $0.note.hasPrefix("n/a: processes stop at 1000") })
        let ev = try #require(EventsHarness().cases(o).first { $0.mechanism == "process" })
        let evRows = try EventsHarness().run(ev, context: ctx)
        #expect(evRows.count == 1 && evRows[0].stats == nil && evRows[0].note.hasPrefix("n/a: "))
        // A population beyond pid_max: the limit is named, nothing is forked.
        let pidMax = Int((try? String(contentsOfFile: "/proc/sys/kernel/pid_max", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 32768
        var big = Self.context(population: [min(pidMax + 1, 100_000)], mechanisms: ["thread"]).options
        big.mechanisms = ["thread"]
        let bigSpec = MemoryHarness().cases(big)[0]
        let bigRows = try MemoryHarness().run(bigSpec, context: RunContext(options: big, environment: Environment.read()))
        if pidMax < 100_000 {
            #expect(bigRows.allSatisfy { $0.stats == nil && $0.note.hasPrefix("n/a: ") }, "\(bigRows.first?.note ?? "")")
        }
        #expect(Self.liveChildren() == 0)
    }
}
}

/// The presentation functions over records (no processes): tables in both languages, verdicts with numbers.
@Suite struct ManyPresentationTests {
    static func row(_ harness: String, _ m: String, _ placement: String = "unpinned", n: Int, metric: String,
                    _ v: Double, switches: Double? = nil, expected: Double? = nil, footprint: Int = 0) -> Record {
        Record(harness: harness, mechanism: m, placement: placement, cpus: "", tasks: n, footprintBytes: footprint,
               metric: metric, unit: harness == "memory" ? "bytes" : "ns", samples: [v, v, v], opsPerSample: 1,
               switchesPerOp: switches, expectedSwitchesPerOp: expected)
    }

    static func memory(user: [String: Double], kernel: [String: Double]) -> [Record] {
        user.keys.flatMap { m in
            [row("memory", m, n: 1000, metric: "user_bytes_per_task", user[m]!),
             row("memory", m, n: 1000, metric: "kernel_bytes_per_task", kernel[m]!),
             row("memory", m, n: 1000, metric: "address_space_bytes_per_task", Double(8 << 20))]
        }
    }

    @Test func memoryClaimOrdersTheKinds() {
        let good = Self.memory(user: ["process": 45_000, "thread": 8_000, "asm": 4_096, "swift-task": 1_400],
                               kernel: ["process": 160_000, "thread": 17_000, "asm": 600, "swift-task": 0])
        let c = MemoryPresentation.claim(good, language: .en)
        #expect(c.verdict == .holds && c.text.contains("N = 1 000") && c.text.contains("thread 24 KiB"), "\(c.text)")
        let zh = MemoryPresentation.claim(good, language: .zh)
        #expect(zh.markdown(.zh).contains("C8 成立") && zh.text.contains("线程") && zh.text.contains("协程"))
        let bad = Self.memory(user: ["process": 45_000, "thread": 1_000, "asm": 40_000], kernel: ["process": 0, "thread": 0, "asm": 0])
        #expect(MemoryPresentation.claim(bad, language: .en).verdict == .doesNotHold)
        #expect(MemoryPresentation.claim([], language: .en).verdict == .inconclusive)
        let table = MemoryPresentation.table(good, language: .en)
        #expect(table.contains("| asm coroutine | 1 000 | 4.0 KiB |"), "\(table)")
        #expect(MemoryPresentation.table(good, language: .zh).contains("内核内存"))
    }

    @Test func eventsClaimNeedsABurst() {
        func ev(_ m: String, n: Int, k: Int, _ ns: Double, _ s: Double) -> Record {
            Self.row("events", m, "same-cpu", n: n, metric: EventsHarness.eventMetric(k), ns, switches: s,
                expected: EventsHarness.expectedSwitchesPerEvent(m, k: k))
        }
        let k1 = [ev("thread", n: 1000, k: 1, 15_000, 2), ev("asm", n: 1000, k: 1, 8_000, 2)]
        #expect(EventsPresentation.claim(k1, language: .en).verdict == .inconclusive)
        let k16 = k1 + [ev("thread", n: 1000, k: 16, 10_000, 1.06), ev("asm", n: 1000, k: 16, 2_000, 0.125)]
        let c = EventsPresentation.claim(k16, language: .en)
        #expect(c.verdict == .holds && c.text.contains("K = 16") && c.text.contains("5.0×"), "\(c.text)")
        #expect(EventsPresentation.claim(k16, language: .zh).markdown(.zh).contains("C9 成立"))
        let table = EventsPresentation.table(k16, language: .en)
        #expect(table.contains("| thread | 1 000 | 16 | 10.00 µs | 1.060 | 1.062 | yes |"), "\(table)")
        #expect(EventsPresentation.table(k16, language: .zh).contains("每事件内核切换"))
        var na = ev("process", n: 10000, k: 1, 0, 0)
        na = Record(harness: "events", mechanism: "process", placement: "same-cpu", cpus: "0", tasks: 10000,
                    metric: "per_event_k1", samples: [], opsPerSample: 0, note: "n/a: processes stop at 1000 by default")
        #expect(EventsPresentation.table(k16 + [na], language: .en).contains("not run: processes stop at 1000"))
    }

    /// Renders a real run's CSV when SB_MANY_RENDER names one (a look at the tables, not a check).
    @Test func renderARun() throws {
        guard let path = ProcessInfo.processInfo.environment["SB_MANY_RENDER"] else { return }
        let records = try path.split(separator: ",").flatMap { try RunLoader.load(String($0)).run.records }
        for lang in Language.allCases {
            print(MemoryPresentation.table(records, language: lang))
            print(MemoryPresentation.claim(records, language: lang).markdown(lang))
            print(EventsPresentation.table(records, language: lang))
            print(EventsPresentation.table(records, language: lang, placement: "unpinned"))
            print(EventsPresentation.claim(records, language: lang).markdown(lang))
        }
    }
}
