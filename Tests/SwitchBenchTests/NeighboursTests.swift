import Testing
@testable import SwitchBench

/// `neighbour_busy` (docs/busy-machines.md, "Busy neighbours"): properties on synthetic /proc/stat text.
@Suite struct NeighboursTests {
    /// /proc/stat with cpu0 and cpu1: user nice system idle iowait irq softirq steal guest guest_nice.
    static func stat(_ cpu0: [UInt64], _ cpu1: [UInt64]) -> String {
        let sum = zip(cpu0, cpu1).map { $0 + $1 }
        func line(_ name: String, _ v: [UInt64]) -> String { name + " " + v.map(String.init).joined(separator: " ") }
        return [line("cpu ", sum), line("cpu0", cpu0), line("cpu1", cpu1), "intr 1 2 3", "ctxt 42", "btime 1"].joined(separator: "\n") + "\n"
    }

    @Test func parsesPerCPULinesOnly() {
        let s = Neighbours.parse(Self.stat([10, 1, 5, 80, 2, 1, 1, 3, 7, 0], [0, 0, 0, 100, 0, 0, 0, 0, 0, 0]))
        #expect(s.keys.sorted() == [0, 1])
        // guest (7) is already in user: not counted twice
        #expect(s[0] == Neighbours.Times(busy: 10 + 1 + 5 + 1 + 1 + 3, total: 21 + 80 + 2, steal: 3))
        #expect(s[1]?.busy == 0)
    }

    @Test func busyShareOfTheOtherCPU() throws {
        let before = Neighbours.parse(Self.stat([100, 0, 0, 100, 0, 0, 0, 0, 0, 0], [100, 0, 0, 100, 0, 0, 0, 0, 0, 0]))
        // cpu1 (the other CPU): 90 busy of 100 jiffies; cpu0 (own): all busy, no steal
        let after = Neighbours.parse(Self.stat([200, 0, 0, 100, 0, 0, 0, 0, 0, 0], [170, 0, 10, 110, 0, 5, 5, 0, 0, 0]))
        let b = try #require(Neighbours.shares(before: before, after: after, own: [0]).busy)
        #expect(abs(b - 0.9) < 1e-9)
        // the own CPU's busy time is not a neighbour's; its steal is
        let stolen = Neighbours.parse(Self.stat([150, 0, 0, 100, 0, 0, 0, 50, 0, 0], [100, 0, 0, 200, 0, 0, 0, 0, 0, 0]))
        #expect(Neighbours.shares(before: before, after: stolen, own: [0]).busy.map { abs($0 - 0.5) < 1e-9 } == true)
        // both CPUs own (cross-cpu, or unpinned on two CPUs), no steal: 0
        #expect(Neighbours.shares(before: before, after: after, own: [0, 1]).busy == 0)
        // the own CPU's busy time less the suite's own CPU time is another task's: 100 busy ticks of 100,
        // the suite used 0.6 s (60 ticks at 100 per second) → 0.4 by others
        let shared = Neighbours.parse(Self.stat([200, 0, 0, 100, 0, 0, 0, 0, 0, 0], [100, 0, 0, 200, 0, 0, 0, 0, 0, 0]))
        let s = try #require(Neighbours.shares(before: before, after: shared, own: [0], suiteSeconds: 0.6, ticksPerSecond: 100).busy)
        #expect(abs(s - 0.4) < 1e-9)
        // the suite's time is never counted as someone else's, even when it exceeds the ticks
        #expect(Neighbours.shares(before: before, after: shared, own: [0], suiteSeconds: 2, ticksPerSecond: 100).busy == 0)
        // no tick elapsed: not measured
        #expect(Neighbours.shares(before: before, after: before, own: [0]).busy == nil)
    }

    @Test func sharesKeepTheOwnCPUApartFromTheOthers() throws {
        let before = Neighbours.parse(Self.stat([100, 0, 0, 100, 0, 0, 0, 0, 0, 0], [100, 0, 0, 100, 0, 0, 0, 0, 0, 0]))
        // own cpu0: 100 busy ticks of 100, the suite used 0.7 s of them → 0.3 by others; cpu1 idle
        let after = Neighbours.parse(Self.stat([200, 0, 0, 100, 0, 0, 0, 0, 0, 0], [100, 0, 0, 200, 0, 0, 0, 0, 0, 0]))
        let s = Neighbours.shares(before: before, after: after, own: [0], suiteSeconds: 0.7, ticksPerSecond: 100)
        #expect(abs(try #require(s.own) - 0.3) < 1e-9)
        #expect(s.others == 0)
        #expect(s.busy == s.own)
        // a busy other CPU and a free own one: the column reads the other CPU, the own share stays 0
        let otherBusy = Neighbours.parse(Self.stat([170, 0, 0, 130, 0, 0, 0, 0, 0, 0], [200, 0, 0, 100, 0, 0, 0, 0, 0, 0]))
        let t = Neighbours.shares(before: before, after: otherBusy, own: [0], suiteSeconds: 0.7, ticksPerSecond: 100)
        #expect(t.own == 0 && t.others == 1 && t.busy == 1)
    }

    /// A short case (no tick elapsed) is read exactly from the own CPU's idle time where both
    /// snapshots have it; without it, or over less than `minExactNs`, it is not measured.
    @Test func ownShareFromIdleTimeInAShortCase() throws {
        var before = Neighbours.parse(Self.stat([100, 0, 0, 100, 0, 0, 0, 0, 0, 0], [100, 0, 0, 100, 0, 0, 0, 0, 0, 0]))
        var after = before   // no tick in 50 ms
        before[0]?.idleMicroseconds = 1_000_000
        before[0]?.readAtNs = 5_000_000_000
        after[0]?.idleMicroseconds = 1_000_000 + 5_000   // idle 5 ms of 50 ms: busy 45 ms
        after[0]?.readAtNs = 5_050_000_000
        // the suite used 30 ms: others 15 ms of 50 → 0.3
        let s = Neighbours.shares(before: before, after: after, own: [0], suiteSeconds: 0.030, ticksPerSecond: 100)
        #expect(abs(try #require(s.own) - 0.3) < 1e-9)
        #expect(s.others == nil)   // cpu1 counted no tick: not measured
        // the suite used all of it: 0, never negative
        #expect(Neighbours.shares(before: before, after: after, own: [0], suiteSeconds: 0.060).own == 0)
        // without idle time in one snapshot: ticks only, and there were none
        var plain = after
        plain[0]?.idleMicroseconds = nil
        #expect(Neighbours.shares(before: before, after: plain, own: [0], suiteSeconds: 0.030).own == nil)
        // too short to read
        var short = after
        short[0]?.readAtNs = 5_000_000_000 + Neighbours.minExactNs - 1
        #expect(Neighbours.shares(before: before, after: short, own: [0], suiteSeconds: 0.0).own == nil)
    }

    /// On this machine: a read from a CPU gives that CPU's idle time where cpuidle exists, and the
    /// thread's affinity is what it was before.
    @Test func exactReadRestoresAffinity() throws {
        let saved = Affinity.current()
        let snap = try #require(Neighbours.read(exactOn: saved.first))
        #expect(Affinity.current() == saved)
        if let cpu = saved.first, Neighbours.idleMicroseconds(cpu) != nil {
            #expect(snap[cpu]?.idleMicroseconds != nil && snap[cpu]?.readAtNs != nil)
        }
    }

    static func ringRow(_ placement: String = "same-cpu", metric: String = "round_trip") -> Record {
        var r = Record(harness: "process", mechanism: "pipe", placement: placement, cpus: placement == "same-cpu" ? [0] : [0, 1],
                       tasks: 2, metric: metric, samples: [5200, 5230, 5280], opsPerSample: 100,
                       switchesPerOp: metric == "ipc_overhead" ? nil : 2, expectedSwitchesPerOp: metric == "ipc_overhead" ? nil : 2)
        r.samplesRetaken = 0
        return r
    }

    /// A same-cpu hand-off row is invalid when other tasks used its CPU over the case (a third task
    /// in the run queue changes the kernel's hand-off path), whatever the other CPUs did; its
    /// one-task overhead rows and rows on other placements are not judged by this rule.
    @Test func runQueueRuleJudgesOnlySameCPUHandOffs() {
        var busy = Self.ringRow()
        Neighbours.applyRunQueue(0.3, to: &busy)
        #expect(!busy.valid && busy.note.contains("CPU 0") && busy.note.contains("wakeup preemption"))
        #expect(Neighbours.invalidatedByNeighbours(busy))
        var calm = Self.ringRow()
        Neighbours.applyRunQueue(Neighbours.runQueueThreshold / 2, to: &calm)
        #expect(calm.valid)
        var unmeasured = Self.ringRow()
        Neighbours.applyRunQueue(nil, to: &unmeasured)
        #expect(unmeasured.valid)
        var ipc = Self.ringRow(metric: "ipc_overhead")
        Neighbours.applyRunQueue(0.9, to: &ipc)
        #expect(ipc.valid)
        var cross = Self.ringRow("cross-cpu")
        Neighbours.applyRunQueue(0.9, to: &cross)
        #expect(cross.valid)
        // The same hand-offs stamped one at a time (no switch count of their own, a distribution).
        let values = (0..<1000).map { 2000 + Double($0 % 50) }
        var stamped = Record(harness: "thread", mechanism: "futex", placement: "same-cpu", cpus: [0, 0], tasks: 2,
                             metric: "hand_off_ab", samples: [], opsPerSample: 1)
        stamped.samples = values.count
        stamped.stats = Statistics(values)
        stamped.latency = LatencySummary(values)
        Neighbours.applyRunQueue(0.3, to: &stamped)
        #expect(!stamped.valid && Neighbours.invalidatedByNeighbours(stamped))
        #expect(TokenRingHarness(kind: .process).runQueueSensitive && TokenRingHarness(kind: .thread).runQueueSensitive)
        #expect(EventsHarness().runQueueSensitive)
        #expect(!SyscallHarness().runQueueSensitive && !TLBHarness().runQueueSensitive)
    }

    static func tlbRow() -> Record {
        Record(harness: "tlb", mechanism: "4k", placement: "same-cpu", cpus: [0], tasks: 1, pageSizeBytes: 4096,
               workingSetPages: 32768, metric: "ns_per_access", samples: [50, 51, 52], opsPerSample: 1000)
    }

    @Test func sensitiveRowIsInvalidAboveTheThresholdOnly() {
        #expect(TLBHarness().neighbourSensitive && PollutionHarness().neighbourSensitive)
        #expect(!SyscallHarness().neighbourSensitive && !TokenRingHarness(kind: .process).neighbourSensitive)
        var busy = Self.tlbRow()
        Neighbours.apply(0.93, to: &busy, sensitive: true)
        #expect(!busy.valid && busy.neighbourBusy == 0.93 && busy.note.contains("93 % busy"))
        #expect(Neighbours.invalidatedByNeighbours(busy))
        var quiet = Self.tlbRow()
        Neighbours.apply(Neighbours.threshold - 0.01, to: &quiet, sensitive: true)
        #expect(quiet.valid && !Neighbours.invalidatedByNeighbours(quiet))
        var unmeasured = Self.tlbRow()
        Neighbours.apply(nil, to: &unmeasured, sensitive: true)
        #expect(unmeasured.valid && unmeasured.neighbourBusy == nil)
        // a same-cpu ring row whose samples were checked for preemption (not sensitive) stays valid
        // however busy the other CPU was, and keeps the figure
        var ring = Record(harness: "process", mechanism: "pipe", placement: "same-cpu", cpus: [0], tasks: 2,
                          metric: "round_trip", samples: [5200, 5230, 5280], opsPerSample: 100)
        ring.samplesRetaken = 0
        Neighbours.apply(1.0, to: &ring, sensitive: false)
        #expect(ring.valid && ring.neighbourBusy == 1.0)
        // the same ring across CPUs measures a wake-up of an idle CPU: invalid when the CPUs were busy
        var cross = ring
        cross.placement = "cross-cpu"
        cross.cpus = [0, 1]
        Neighbours.apply(1.0, to: &cross, sensitive: false)
        #expect(!cross.valid && cross.note.contains("cross-cpu row") && Neighbours.invalidatedByNeighbours(cross))
        // a timed row whose samples are not checked for preemption (an exec'd program): invalid too
        var unchecked = ring
        unchecked.samplesRetaken = nil
        Neighbours.apply(0.9, to: &unchecked, sensitive: false)
        #expect(!unchecked.valid && unchecked.note.contains("not checked for preemption"))
        // below the threshold all of them stay valid
        var calm = cross
        calm.valid = true
        Neighbours.apply(0.1, to: &calm, sensitive: false)
        #expect(calm.valid)
    }

    @Test func csvRoundTripAndOldCSVWithoutTheColumn() throws {
        var run = CSVTests.sampleRun()
        run.records[0].neighbourBusy = 0.4321
        let text = CSVExporter.render(run)
        let header = try CSV.parse(text)[0]
        #expect(header.firstIndex(of: "neighbour_busy") == header.firstIndex(of: "facts")! + 1)
        let back = try CSVExporter.read(text)
        #expect(back[0].record.neighbourBusy == 0.4321)
        #expect(back[1].record.neighbourBusy == nil)
        // a CSV written before the column: loads, the value is nil
        let rows = try CSV.parse(text)
        let drop = rows[0].firstIndex(of: "neighbour_busy")!
        let old = rows.map { CSV.line(Array($0.prefix(drop))) }.joined(separator: "\n") + "\n"
        let loaded = try RunLoader.parse(old, source: "old.csv")
        #expect(loaded.run.records.count == 2 && loaded.run.records.allSatisfy { $0.neighbourBusy == nil })
    }

    @Test func compareDoesNotGateARowInvalidatedByBusyNeighbours() throws {
        func run(_ center: Double, busy: Double) -> RunResult {
            var r = ReportFixture.record("tlb", "4k", metric: "ns_per_access", center, tasks: 1, pages: 32768, pageSize: 4096)
            Neighbours.apply(busy, to: &r, sensitive: true)
            return ReportFixture.run([r])
        }
        let c = try Comparison.make(baseline: ReportFixture.loaded(run(50, busy: 0.1)), baselineSource: "a",
                                    current: ReportFixture.loaded(run(200, busy: 1.0)), currentSource: "b")
        #expect(c.cases[0].classification == .noisy)
        #expect(c.cases[0].currentValid == false)
        #expect(c.exitCode == 0)
        #expect(c.warnings.contains { $0.contains("valid=false") })
        // the same change measured on a quiet machine is a regression
        let q = try Comparison.make(baseline: ReportFixture.loaded(run(50, busy: 0.1)), baselineSource: "a",
                                    current: ReportFixture.loaded(run(200, busy: 0.2)), currentSource: "b")
        #expect(q.cases[0].classification == .regression)
    }

    @Test func markdownSaysWhyInBothLanguages() {
        var r = Self.tlbRow()
        Neighbours.apply(0.95, to: &r, sensitive: true)
        let run = ReportFixture.run([r])
        #expect(MarkdownExporter.render(run, lang: .en).contains("because other tasks kept this machine's CPUs busy"))
        #expect(MarkdownExporter.render(run, lang: .zh).contains("`neighbour_busy`"))
        #expect(!MarkdownExporter.render(ReportFixture.run([Self.tlbRow()]), lang: .en).contains("CPUs busy while they ran"))
        // The text names both rules that set the fact, the run-queue one too.
        #expect(MarkdownExporter.render(run, lang: .en).contains("same-cpu hand-off row's own CPU"))
        #expect(MarkdownExporter.render(run, lang: .zh).contains("交接"))
    }
}
