import Foundation
import Testing
@testable import SwitchBench

/// A deterministic generator for synthetic samples (no timing in these tests).
struct LCG {
    var state: UInt64
    mutating func next() -> Double {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Double(state >> 11) / Double(1 << 53)
    }
}

@Suite struct LatencyHistogramTests {
    @Test func bucketErrorIsUnderOnePercent() {
        var g = LCG(state: 42)
        for _ in 0..<20_000 {
            let v = pow(10, 9 * g.next())   // 1 ns … 1 s, log-uniform
            let i = LatencyHistogram.index(v)
            let (lo, hi) = LatencyHistogram.bounds(i)
            #expect(lo <= v && v < hi, "\(v) not in bucket \(i) [\(lo), \(hi))")
            #expect(abs(LatencyHistogram.midpoint(i) - v) / v <= 1.0 / 128 + 1e-12, "\(v)")
            #expect((hi - lo) / lo <= 1.0 / 64 + 1e-12)
        }
    }

    @Test func bucketsAreContiguousAndCountsAddUp() {
        for i in 1..<LatencyHistogram.bucketCount {
            #expect(LatencyHistogram.bounds(i - 1).1 == LatencyHistogram.bounds(i).0, "gap before bucket \(i)")
        }
        let values = (1...5000).map { Double($0) * 3.7 }
        let h = LatencyHistogram(values)
        #expect(h.total == 5000)
        #expect(h.buckets.map(\.count).reduce(0, +) == 5000)
        #expect(LatencyHistogram.parse(h.text) == h)
    }

    @Test func histogramSurvivesJSON() throws {
        let h = LatencyHistogram([1500, 1510, 2000, 90_000])
        let back = try JSONDecoder().decode(LatencyHistogram.self, from: JSONEncoder().encode(h))
        #expect(back == h)
    }
}

@Suite struct PercentileTests {
    @Test func percentilesOfOneToHundredThousand() throws {
        let s = (1...100_000).map(Double.init)
        let l = try #require(LatencySummary(s.shuffled()))
        #expect(l.count == 100_000)
        #expect(l.percentile("p50")?.ns == 50_000)
        #expect(l.percentile("p99")?.ns == 99_000)
        #expect(l.percentile("p99.9")?.ns == 99_900)
        #expect(l.percentile("p99.9")?.above == 100)
        #expect(l.percentile("p99.99")?.above == 10)
        #expect(l.maxNs == 100_000)
        // The order-statistics interval: ±1.96 σ of Binomial(n, q) around nq, in ranks.
        let p999 = try #require(l.percentile("p99.9"))
        let sd = (100_000 * 0.999 * 0.001).squareRoot()
        #expect(try #require(p999.ci95Low) <= 99_900 - 1.9 * sd && 99_900 - 2.1 * sd - 2 <= p999.ci95Low!)
        #expect(try #require(p999.ci95High) >= 99_900 + 1.9 * sd && p999.ci95High! <= 99_900 + 2.1 * sd + 2)
    }

    @Test func intervalIsAbsentWhereTheSampleIsTooSmall() {
        let (lo, hi) = Percentile.ciRanks(n: 1000, q: 0.9999)
        #expect(lo != nil)
        #expect(hi == nil)
        let s = (1...1000).map(Double.init)
        #expect(Percentile.of(sorted: s, name: "p99.99", q: 0.9999)?.ci95High == nil)
    }

    /// Coverage: over 300 synthetic samples of 2 000 exponential values, the 95 % interval of p99
    /// holds the true p99 (ln 100) about 95 % of the time (normal approximation: 90–99 % accepted).
    @Test func intervalCoversTheTrueQuantile() {
        var g = LCG(state: 7)
        let truth = log(100.0)
        var covered = 0
        for _ in 0..<300 {
            let s = (0..<2000).map { _ in -log(1 - g.next()) }.sorted()
            let p = Percentile.of(sorted: s, name: "p99", q: 0.99)!
            if p.ci95Low! <= truth && truth <= p.ci95High! { covered += 1 }
        }
        #expect(covered >= 270 && covered <= 297, "covered \(covered) of 300")
    }

    @Test func summaryTextRoundTrips() throws {
        let s = (1...20_000).map { Double($0) }
        var l = try #require(LatencySummary(s))
        l.causes = TailCauses(examined: 100, thresholdNs: 19_900, counts: ["timer tick": 70, "task kworker/0:1": 20, TailCauses.noneTraced: 10],
                              source: "tracefs", unavailable: nil, traced: 20_000, tracedP50Ns: 10_000)
        var back = try #require(LatencySummary.parse(percentiles: l.text, histogram: l.histogram.text, min: l.minNs, max: l.maxNs))
        back.causes = TailCauses.parse(l.causes!.text)
        #expect(back.percentiles.map(\.name) == l.percentiles.map(\.name))
        for (a, b) in zip(back.percentiles, l.percentiles) {
            #expect(abs(a.ns - b.ns) < 0.1)
            #expect(a.above == b.above)
        }
        #expect(back.causes == l.causes)
        #expect(l.causes!.explained == 90)
        #expect(TailCauses.parse(TailCauses.notAvailable("needs root").text)?.unavailable == "needs root")
    }
}

@Suite struct TailTraceTests {
    static let sample = """
    # tracer: nop
    #
               <idle>-0       [000] d.h1.  1000: local_timer_entry: vector=236
               <idle>-0       [000] ..s1.  1010: softirq_entry: vec=1 [action=TIMER]
                 ring-7       [001] d..2.  2000: sched_switch: prev_comm=ring prev_pid=7 prev_prio=120 prev_state=S ==> next_comm=kworker/1:0 next_pid=33 next_prio=120
               <idle>-0       [001] d.h1.  3000: irq_handler_entry: irq=24 name=virtio0-input.0
    """

    @Test func parsesTheTraceFile() {
        let e = TailTrace.parse(Self.sample)
        #expect(e.map(\.cause) == ["timer tick", "softirq TIMER", "task kworker/1:0", "irq virtio0-input.0"])
        #expect(e.map(\.cpu) == [0, 0, 1, 1])
        #expect(e.map(\.ticks) == [1000, 1010, 2000, 3000])
        // A switch to one of this run's own threads is named as such.
        #expect(TailTrace.parse(Self.sample, own: [33]).map(\.cause).contains("task switchbench (this run)"))
    }

    @Test func attributesEachSlowHandOffToItsBestEvent() {
        let e = TailTrace.parse(Self.sample)
        // Tick and softirq on CPU 0: the tick ranks first; the kworker beats the irq on CPU 1; nothing in the last.
        let c = TailTrace.attribute([(990, 1020), (1900, 3100), (5000, 6000)], events: e, cpus: [])
        #expect(c == ["timer tick": 1, "task kworker/1:0": 1, TailCauses.noneTraced: 1])
        // Restricted to CPU 0, the second hand-off has nothing.
        #expect(TailTrace.attribute([(1900, 3100)], events: e, cpus: [0]) == [TailCauses.noneTraced: 1])
    }

    /// An event that comes with most ordinary hand-offs (a cross-CPU wake-up's own IPI) is not a cause.
    @Test func anEventOfEveryHandOffIsNoCause() {
        typealias Ev = TailTrace.Event
        var events: [Ev] = [], ordinary: [(sent: UInt64, recv: UInt64)] = []
        for k in 0..<10 {
            let s = UInt64(k) * 100
            ordinary.append((s, s + 50))
            if k != 3 { events.append(Ev(cpu: 1, ticks: s + 20, cause: "IPI function call", rank: 1)) }
        }
        events.append(Ev(cpu: 0, ticks: 5_010, cause: "timer tick", rank: 2))
        events.append(Ev(cpu: 1, ticks: 5_020, cause: "IPI function call", rank: 1))
        #expect(TailTrace.commonCauses(ordinary, events: events, cpus: []) == ["IPI function call"])
        // Only the tick is left for the slow one; 9 of 10 is common, 5 of 10 is not.
        let common = TailTrace.commonCauses(ordinary, events: events, cpus: [])
        #expect(TailTrace.attribute([(5_000, 5_100)], events: events.filter { !common.contains($0.cause) }, cpus: []) == ["timer tick": 1])
        #expect(TailTrace.commonCauses(Array(ordinary.prefix(4)) + [(2_000, 2_010), (2_100, 2_110), (2_200, 2_210), (2_300, 2_310)],
                                       events: events, cpus: []).isEmpty)
    }

    /// The ring's own events (tasks 7 and 8): their wake-ups and switches in, never causes.
    static let ringSample = """
                 ring-7       [000] d..2.  1000: sched_waking: comm=ring pid=8 prio=120 target_cpu=001
               <idle>-0       [001] d..2.  1500: sched_switch: prev_comm=swapper/1 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=ring next_pid=8 next_prio=120
                 ring-7       [000] d..2.  1600: sched_waking: comm=bash pid=99 prio=120 target_cpu=000
                 ring-7       [000] d..2.  1700: sched_switch: prev_comm=ring prev_pid=7 prev_prio=120 prev_state=S ==> next_comm=kworker/0:1 next_pid=33 next_prio=120
    [odd] name-5 [001] d..2.  1800: sched_switch: prev_comm=x prev_pid=5 prev_prio=120 prev_state=S ==> next_comm=ring next_pid=7 next_prio=120
    """

    @Test func separatesTheRingsOwnEventsFromTheCauses() {
        let r = TailTrace.parseAll(Array(Self.ringSample.utf8), own: [], ring: [7, 8])
        // A switch in says whether the task it replaced was still runnable (prev_state R: preempted).
        #expect(r.ring == [TailTrace.RingEvent(kind: .waking, cpu: 0, ticks: 1000, pid: 8),
                           TailTrace.RingEvent(kind: .switchIn, cpu: 1, ticks: 1500, pid: 8, prevRunnable: true, prevPid: 0),
                           TailTrace.RingEvent(kind: .switchIn, cpu: 1, ticks: 1800, pid: 7, prevRunnable: false, prevPid: 5)])
        // A switch to a ring task is no cause; a wake-up of another task is neither.
        #expect(r.causes.map(\.cause) == ["task kworker/0:1"])
        #expect(r.firstTicks == [0: 1000, 1: 1500])
        // Without ring tasks named, the switches to them are causes, as before.
        #expect(TailTrace.parse(Self.ringSample).map(\.cause) == ["task ring", "task kworker/0:1", "task ring"])
        // A clock that prints seconds: ticks are ns.
        let s = TailTrace.parseAll(Array("  ring-7  [000] d..2.  12.000001500: sched_waking: comm=ring pid=8 prio=120 target_cpu=001".utf8), ring: [8])
        #expect(s.ring.map(\.ticks) == [12_000_001_500])
    }
}

@Suite struct HandOffSplitTests {
    typealias E = TailTrace.RingEvent
    static func waking(_ t: UInt64, _ pid: Int = 8) -> E { E(kind: .waking, cpu: 0, ticks: t, pid: pid) }
    static func switchIn(_ t: UInt64, _ pid: Int = 8) -> E { E(kind: .switchIn, cpu: 1, ticks: t, pid: pid) }

    @Test func partsAddUpToTheHandOff() {
        let h = [HandOffSplit.HandOff(sent: 100, recv: 400, wakee: 8)]
        let o = HandOffSplit.split(h, events: [Self.switchIn(50), Self.waking(120), Self.switchIn(300), Self.waking(350), Self.switchIn(380)])
        // W: the first wake-up after S; I: the first switch in after W (the one before W is not it).
        #expect(o == [.split(.init(waker: 20, wakeToRun: 180, back: 100))])
        if case .split(let p) = o[0] { #expect(p.whole == 300) }
    }

    /// The path of a split hand-off, from what its switch in replaced: the waker runnable (preempted) or
    /// asleep, the idle task (prev_pid 0, whose prev_state is R: never "preempted"), another task.
    @Test func theSwitchInTellsThePathApart() {
        let h = (0..<4).map { HandOffSplit.HandOff(sent: UInt64($0) * 1000 + 100, recv: UInt64($0) * 1000 + 400, wakee: 8, waker: 7) }
        func switchIn(_ t: UInt64, prev: Int, runnable: Bool) -> E {
            var e = Self.switchIn(t)
            (e.prevPid, e.prevRunnable) = (prev, runnable)
            return e
        }
        let e = [Self.waking(120), switchIn(300, prev: 7, runnable: true), Self.waking(1120), switchIn(1300, prev: 7, runnable: false),
                 Self.waking(2120), switchIn(2300, prev: 0, runnable: true), Self.waking(3120), switchIn(3300, prev: 42, runnable: true)]
        let o = HandOffSplit.split(h, events: e)
        let paths: [HandOffSplit.Path?] = o.map { if case .split(let p) = $0 { return p.path } else { return nil } }
        #expect(paths == [.preemptedWaker, .wakerSlept, .idle, .other])
        let sum = HandOffSplit.summary(o, ns: { Double($0) })
        #expect(sum.paths == [.preemptedWaker: 1, .wakerSlept: 1, .idle: 1, .other: 1])
        #expect(sum.parts["whole_preempted"]!.p50 == 300 && sum.parts["whole_idle"]!.p50 == 300)
    }

    /// results.md names every path the split can give, once each.
    @Test func everyPathHasItsName() {
        #expect(TokenRingHarness.pathNames.map(\.path) == HandOffSplit.Path.allCases)
    }

    @Test func onlyTheWakeesEventsBetweenTheStampsCount() {
        let h = [HandOffSplit.HandOff(sent: 100, recv: 200, wakee: 8), HandOffSplit.HandOff(sent: 300, recv: 400, wakee: 8),
                 HandOffSplit.HandOff(sent: 500, recv: 600, wakee: 7)]
        let e = [Self.waking(90), Self.switchIn(150), Self.waking(250), Self.waking(310), Self.switchIn(450), Self.waking(510, 9), Self.switchIn(520, 7)]
        // The first's wake-up came before S; the second was woken but not switched in before R; the
        // third's only wake-up belongs to another task.
        #expect(HandOffSplit.split(h, events: e) == [.noWaking(whole: 100), .noSwitchIn, .noWaking(whole: 100)])
    }

    @Test func summaryCountsEveryHandOffAndOrdersItsPercentiles() {
        var handOffs: [HandOffSplit.HandOff] = [], events: [E] = []
        for k in 0..<200 {
            let s = UInt64(k) * 1_000
            handOffs.append(.init(sent: s, recv: s + 500 + UInt64(k), wakee: 8))
            if k % 10 == 0 { continue }   // one in ten never slept: no wake-up
            events += [Self.waking(s + 10), Self.switchIn(s + 100 + UInt64(k))]
        }
        let sum = HandOffSplit.summary(HandOffSplit.split(handOffs, events: events.shuffled()), ns: { Double($0) })
        #expect(sum.split == 180 && sum.noWaking == 20 && sum.noSwitchIn == 0)
        #expect(Set(sum.parts.keys) == Set(HandOffSplit.partNames + ["whole_no_waking"]))
        // The ten in a hundred with no wake-up keep their whole time apart: k = 0, 10, … 190.
        #expect(sum.parts["whole_no_waking"]!.p50 == 500 + 90 && sum.parts["whole_no_waking"]!.p99 == 500 + 190)
        for (_, v) in sum.parts { #expect(v.p50 <= v.p99) }
        #expect(sum.parts["waker"]!.p50 == 10 && sum.parts["waker"]!.p99 == 10)
        #expect(sum.parts["return"]!.p50 == 400)
    }
}

extension ProcessSpawningTests {
@Suite struct HandOffStampTests {
    /// Every hand-off stamped, in order: on one CPU (one clock) the wakee's stamp follows the waker's,
    /// and the next hand-off starts after the previous one ended.
    @Test(arguments: [TaskKind.process, .thread], ["pipe", "futex"])
    func stampsArePresentAndOrdered(kind: TaskKind, mech: String) throws {
        let cpu = Affinity.current().first ?? 0
        let spec = CaseSpec(harness: kind.rawValue, mechanism: mech, placement: .sameCPU, tasks: 2, footprint: 0)
        let ring = try RingInstance(kind: kind, spec: spec, taskCPUs: [cpu, cpu],
                                    config: SamplerConfig(samples: 3, warmup: 1, minSampleNs: 1_000_000),
                                    driven: kind == .process, stampCapacity: 2_000)
        defer { ring.close() }
        let s = try ring.stampHandOffs(2_000, limitNs: 5_000_000_000)
        try ring.finish()
        #expect(s.sent.count == 2_000 && s.recv.count == 2_000)
        #expect(s.sent.allSatisfy { $0 != 0 } && s.recv.allSatisfy { $0 != 0 })
        for k in 0..<s.sent.count {
            #expect(s.sent[k] <= s.recv[k], "hand-off \(k)")
            if k + 1 < s.sent.count { #expect(s.recv[k] <= s.sent[k + 1], "hand-off \(k) → \(k + 1)") }
        }
        #expect(s.tids.allSatisfy { $0 > 0 })
    }

    @Test func twoTaskRowsCarryDistributions() throws {
        var o = RunOptions()
        o.sampler = SamplerConfig(samples: 3, warmup: 1, minSampleNs: 1_000_000)
        o.quick = true
        let rows = try RingTests.run(.thread, "futex", context: RunContext(options: o, environment: Environment.read()))
        let lat = rows.filter { $0.latency != nil }
        #expect(lat.map(\.metric) == TokenRingHarness.latencyMetrics)
        for r in lat {
            let l = r.latency!
            #expect(l.count == r.samples && l.count >= 1000)
            #expect(l.percentiles.map(\.name) == Percentile.standard.map(\.0))
            #expect(zip(l.percentiles, l.percentiles.dropFirst()).allSatisfy { $0.ns <= $1.ns })
            #expect(l.histogram.total == l.count)
            #expect(l.causes != nil, "causes or n/a with a reason")
            if let c = l.causes, c.unavailable == nil {
                #expect(c.examined >= 1 && c.counts.values.reduce(0, +) == c.examined)
            }
            #expect(r.fact("stamp_clock") != nil && r.factNumber("stamp_cost_ns") != nil)
            // Interleaved with the batches (a thread ring's switch count is cheap to read between samples).
            #expect(r.fact("stamps_interleaved") == "yes")
            #expect(r.factNumber("involuntary_per_hand_off") != nil)
        }
        // The stamped laps' switches are not the batch's: per_switch shows the switches it claims, not more.
        let perSwitch = try #require(rows.first { $0.metric == "per_switch" })
        let expected = try #require(perSwitch.expectedSwitchesPerOp)
        #expect(abs((perSwitch.switchesPerOp ?? 0) - expected) < 0.1 * expected, "\(perSwitch.switchesPerOp ?? -1) vs \(expected)")
        // The round trip is the sum of the two ways, lap by lap: its p50 is not below either's.
        let p50 = Dictionary(uniqueKeysWithValues: lat.map { ($0.metric, $0.latency!.percentile("p50")!.ns) })
        #expect(p50["hand_off_round_trip"]! >= max(p50["hand_off_ab"]!, p50["hand_off_ba"]!))
    }
}
}

/// A real run's futex rings (same-cpu and cross-cpu, process and thread) with their per hand-off rows.
@Suite struct HandOffPresentationTests {
    static func run() throws -> RunResult {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/handoff-latency/results.csv").path
        return try RunLoader.load(path).run
    }

    @Test func theCSVCarriesTheDistributions() throws {
        let run = try Self.run()
        let rows = TokenRingHarness.latencyRows(run)
        #expect(rows.count == 12)
        for r in rows {
            let l = try #require(r.latency)
            #expect(l.histogram.total == r.samples)
            #expect(l.percentiles.count == 5)
            #expect(l.causes != nil)
        }
        // Written again and read back: the same distributions.
        let again = try RunLoader.parse(CSVExporter.render(run), source: "again").run
        #expect(TokenRingHarness.latencyRows(again).map(\.latency) == rows.map(\.latency))
        for c in ["p90", "p99", "p99_9", "p99_99", "percentiles", "latency_histogram", "tail_causes"] {
            #expect(CSVExporter.columns.contains(c))
        }
    }

    /// An invalid hand-off row (busy neighbours) is named as invalid in notes.md, never quoted.
    @Test func theNotesSentenceNeverQuotesAnInvalidRow() throws {
        var run = try Self.run()   // this fixture's hand-off rows are invalid (busy neighbours)
        for i in run.records.indices where run.records[i].latency != nil { run.records[i].valid = true }
        let valid = try #require(TokenRingHarness.latencySentence(run, lang: .en))
        #expect(valid.contains("one in a thousand takes over"))
        for i in run.records.indices where run.records[i].latency != nil { run.records[i].invalidate("busy neighbours") }
        for lang in Language.allCases {
            let s = try #require(TokenRingHarness.latencySentence(run, lang: lang))
            #expect(!s.contains("p99.9") && !s.contains(" µs") && !s.contains(" ns"), "\(s)")
            #expect(s.contains(lang.t("invalid", "无效")))
            // The plot still draws them, and its legend says they are no finding.
            #expect(TokenRingHarness.latencyPlot(run, lang: lang)?.contains(lang.t("no finding", "不作结论")) == true)
        }
    }

    /// The split table: a row per one-way row with parts; n/a with the reason when none could be split.
    @Test func theSplitTableShowsEachPartOrWhyNot() throws {
        var run = try Self.run()
        #expect(TokenRingHarness.splitSection(run, lang: .en) == nil)   // a run from before the split
        for i in run.records.indices where run.records[i].latency != nil && run.records[i].metric != "hand_off_round_trip" {
            for (k, v) in [("parts_split", "900"), ("parts_no_waking", "100"), ("parts_no_switch_in", "0"), ("parts_wake_event", "sched_waking")] {
                run.records[i].setFact(k, v)
            }
            for (n, part) in HandOffSplit.partNames.enumerated() {
                run.records[i].setFact("part_\(part)_p50_ns", Double(1000 * (n + 1)))
                run.records[i].setFact("part_\(part)_p99_ns", Double(3000 * (n + 1)))
            }
        }
        for lang in Language.allCases {
            let md = try #require(TokenRingHarness.splitSection(run, lang: lang))
            #expect(md.split(separator: "\n").filter { $0.hasPrefix("| ") }.count == 2 + 8)
            #expect(md.contains("900 / 1000") && md.contains("sched_waking"))
            if lang == .zh { #expect(LeakCheck.strictLeaks(md).isEmpty, "\(LeakCheck.strictLeaks(md).prefix(8))") }
        }
        for i in run.records.indices where run.records[i].fact("parts_split") != nil {
            run.records[i].facts = ["parts_unavailable": "needs root to read tracefs (running as uid 65534)"]
        }
        for lang in Language.allCases {
            let md = try #require(TokenRingHarness.splitSection(run, lang: lang))
            #expect(!md.contains("| ") && md.contains("needs root"))
            if lang == .zh { #expect(LeakCheck.strictLeaks(md).isEmpty, "\(LeakCheck.strictLeaks(md).prefix(8))") }
        }
    }

    @Test func bothLanguagesShowTheTableThePlotAndTheSentence() throws {
        let run = try Self.run()
        for lang in [Language.en, .zh] {
            let md = try #require(TokenRingHarness.latencySection(run, lang: lang))
            #expect(md.contains("p99.9"))
            #expect(md.split(separator: "\n").filter { $0.hasPrefix("| ") }.count == 2 + 12)
            let svg = try #require(TokenRingHarness.latencyPlot(run, lang: lang))
            #expect(svg.contains("<polyline"))
            let sentence = try #require(TokenRingHarness.latencySentence(run, lang: lang))
            #expect(sentence.contains("p") || !sentence.isEmpty)
            if lang == .zh {
                #expect(LeakCheck.leaks(md).isEmpty, "\(LeakCheck.leaks(md).prefix(8))")
                #expect(LeakCheck.leaks(sentence).isEmpty, "\(LeakCheck.leaks(sentence))")
                let texts = svg.split(separator: "\n").filter { $0.contains("<text") }.joined(separator: "\n")
                    .replacingOccurrences(of: "<[^>]*>", with: "\n", options: .regularExpression)
                #expect(LeakCheck.leaks(texts).isEmpty, "\(LeakCheck.leaks(texts))")
            }
        }
        // The plot is one of the run's plots; the ring's section of results.md includes the table.
        #expect(SVGPlots.files(for: run).contains { $0.name == TokenRingHarness.latencyPlotName })
        #expect(TokenRingHarness(kind: .process).markdownSection(run, lang: .en)?.contains("One hand-off at a time") == true)
    }
}
