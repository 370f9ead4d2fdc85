import CSwitchBench
import Foundation
import Testing
@testable import SwitchBench

@Suite struct PageChainTests {
    /// Follows the chain `steps` times and returns the slot index of every address seen.
    func walk(_ start: UnsafeRawPointer, base: UnsafeRawPointer, slotBytes: Int, steps: Int) -> (slots: [Int], offsets: [Int], end: UnsafeRawPointer) {
        var p = start
        var slots: [Int] = [], offsets: [Int] = []
        for _ in 0..<steps {
            let off = p - base
            slots.append(off / slotBytes)
            offsets.append(off % slotBytes)
            p = p.load(as: UnsafeRawPointer.self)
        }
        return (slots, offsets, p)
    }

    @Test(arguments: [1, 2, 8, 97, 1000])
    func pageChainVisitsEveryPageOnce(count: Int) throws {
        let region = try PageRegion(bytes: count * PageRegion.smallPage, backing: .small)
        var rng = SplitMix64(seed: UInt64(count))
        let start = PageChain.build(base: region.base, count: count, slotBytes: PageRegion.smallPage, linesPerSlot: 64, rng: &rng)
        let w = walk(start, base: region.base, slotBytes: PageRegion.smallPage, steps: count)
        #expect(w.slots.sorted() == Array(0..<count))          // a permutation: each page exactly once
        #expect(w.end == start)                                // and the cycle closes after count steps
        #expect(w.offsets.allSatisfy { $0 % 64 == 0 && $0 < 4096 })  // a cache line inside its own page
        #expect(PageChain.chase(start, count) == start)
    }

    @Test func pointersSpreadOverLines() throws {
        let count = 512
        let region = try PageRegion(bytes: count * PageRegion.smallPage, backing: .small)
        var rng = SplitMix64(seed: 7)
        let start = PageChain.build(base: region.base, count: count, slotBytes: PageRegion.smallPage, linesPerSlot: 64, rng: &rng)
        let w = walk(start, base: region.base, slotBytes: PageRegion.smallPage, steps: count)
        // 512 pointers over 64 lines: far more than one line is used (not all at offset 0).
        #expect(Set(w.offsets).count > 32)
        // Not the identity order: a random permutation of 512 keeps very few pages in place.
        #expect(zip(w.slots, w.slots.dropFirst()).filter { $1 == $0 + 1 }.count < 32)
    }

    @Test func controlChainPacksLines() throws {
        let count = 300
        let region = try PageRegion(bytes: count * PageChain.line, backing: .small)
        var rng = SplitMix64(seed: 3)
        let start = PageChain.build(base: region.base, count: count, slotBytes: PageChain.line, linesPerSlot: 1, rng: &rng)
        let w = walk(start, base: region.base, slotBytes: PageChain.line, steps: count)
        #expect(w.slots.sorted() == Array(0..<count))
        #expect(w.offsets.allSatisfy { $0 == 0 })
        #expect(w.end == start)
    }

    @Test func sweepHasTwoPointsPerOctaveFrom8To65536() {
        for perOctave in [2, 4, 6] {
            let s = TLBHarness.sweep(perOctave: perOctave)
            #expect(s.first == 8)
            #expect(s.last! >= 65_536)
            #expect(zip(s, s.dropFirst()).allSatisfy { $0 < $1 })
            // At least two points in every octave [2^k, 2^(k+1)) from 8 to 65536.
            for k in 3..<16 {
                #expect(s.filter { $0 >= 1 << k && $0 < 1 << (k + 1) }.count >= 2)
            }
        }
        #expect(TLBHarness.refine(lo: 91, hi: 108, count: 4).allSatisfy { $0 > 91 && $0 < 108 })
        #expect(TLBHarness.refine(lo: 91, hi: 92, count: 4).isEmpty)
    }
}

@Suite struct SmapsTests {
    /// Captured from /proc/self/smaps on the 2 vCPU KVM guest (Linux 6.18): a 4 MiB MADV_HUGEPAGE
    /// mapping (the kernel split the VMA at the madvise boundary) followed by a 4 MiB one without.
    static let captured = """
    55d4c8a00000-55d4c8a21000 rw-p 00000000 00:00 0                          [heap]
    Size:                132 kB
    AnonHugePages:         0 kB
    VmFlags: rd wr mr mw me ac
    7fb2ba600000-7fb2baa00000 rw-p 00000000 00:00 0 
    Size:               4096 kB
    KernelPageSize:        4 kB
    MMUPageSize:           4 kB
    Rss:                4096 kB
    Pss:                4096 kB
    Pss_Dirty:          4096 kB
    Shared_Clean:          0 kB
    Shared_Dirty:          0 kB
    Private_Clean:         0 kB
    Private_Dirty:      4096 kB
    Referenced:         4096 kB
    Anonymous:          4096 kB
    KSM:                   0 kB
    LazyFree:              0 kB
    AnonHugePages:      4096 kB
    ShmemPmdMapped:        0 kB
    FilePmdMapped:         0 kB
    Shared_Hugetlb:        0 kB
    Private_Hugetlb:       0 kB
    Swap:                  0 kB
    SwapPss:               0 kB
    Locked:                0 kB
    THPeligible:           1
    VmFlags: rd wr mr mw me ac hg 
    7fb2baa00000-7fb2bae00000 rw-p 00000000 00:00 0 
    Size:               4096 kB
    KernelPageSize:        4 kB
    MMUPageSize:           4 kB
    Rss:                4096 kB
    Anonymous:          4096 kB
    AnonHugePages:         0 kB
    ShmemPmdMapped:        0 kB
    FilePmdMapped:         0 kB
    THPeligible:           0
    VmFlags: rd wr mr mw me ac 
    7ffd1c9e5000-7ffd1ca06000 rw-p 00000000 00:00 0                          [stack]
    AnonHugePages:         0 kB
    """

    @Test func hugePagesOfOneMapping() {
        #expect(Smaps.hugeBytes(in: Self.captured, start: 0x7fb2_ba60_0000, end: 0x7fb2_baa0_0000) == 4 << 20)
        // A range inside the mapping counts the whole mapping's huge pages.
        #expect(Smaps.hugeBytes(in: Self.captured, start: 0x7fb2_ba80_0000, end: 0x7fb2_ba90_0000) == 4 << 20)
    }

    @Test func notGrantedIsZeroNotNil() {
        #expect(Smaps.hugeBytes(in: Self.captured, start: 0x7fb2_baa0_0000, end: 0x7fb2_bae0_0000) == 0)
    }

    @Test func spanningTwoMappingsSums() {
        #expect(Smaps.hugeBytes(in: Self.captured, start: 0x7fb2_ba60_0000, end: 0x7fb2_bae0_0000) == 4 << 20)
    }

    @Test func noOverlapIsNil() {
        #expect(Smaps.hugeBytes(in: Self.captured, start: 0x1000, end: 0x2000) == nil)
        #expect(Smaps.hugeBytes(in: "", start: 0x1000, end: 0x2000) == nil)
        // The end is exclusive: a range that ends where a mapping starts does not overlap it.
        #expect(Smaps.hugeBytes(in: Self.captured, start: 0x7fb2_ba50_0000, end: 0x7fb2_ba60_0000) == nil)
    }

    @Test func liveRegionIsFound() throws {
        let r = try PageRegion(bytes: 1 << 20, backing: .small)
        #expect(r.hugeBytes() == 0)   // MADV_NOHUGEPAGE: present in smaps, no huge pages
    }
}

@Suite struct KneeTests {
    /// A staircase: 1.7 ns up to `k1` pages, +2.3 ns to `k2`, +15 ns beyond, with deterministic jitter.
    func staircase(_ xs: [Int], k1: Int, k2: Int, jitter: Double = 0.05) -> [Double] {
        var rng = SplitMix64(seed: 42)
        return xs.map { x in
            let base = x <= k1 ? 0.0 : (x <= k2 ? 2.3 : 17.3)
            return base + jitter * (Double(rng.next() % 1000) / 500 - 1)
        }
    }

    @Test func twoStepsAreFound() throws {
        let xs = TLBHarness.sweep(perOctave: 4)
        let ys = staircase(xs, k1: 96, k2: 2048)
        let k = KneeDetector.knees(x: xs.map(Double.init), y: ys)
        try #require(k.count == 2)
        // The reach is the last sweep point at or below the true edge.
        #expect(k[0].lastBelow == Double(xs.last { $0 <= 96 }!))
        #expect(k[1].lastBelow == Double(xs.last { $0 <= 2048 }!))
        #expect(abs(k[0].step - 2.3) < 0.2)
        #expect(abs(k[1].step - 15) < 0.5)
    }

    @Test func flatCurveHasNoKnee() {
        let xs = TLBHarness.sweep(perOctave: 4)
        let ys = staircase(xs, k1: 1 << 30, k2: 1 << 30, jitter: 0.2)
        #expect(KneeDetector.knees(x: xs.map(Double.init), y: ys).isEmpty)
    }

    @Test func fallingCurveHasNoKnee() {
        let xs = TLBHarness.sweep(perOctave: 4)
        let ys = xs.map { $0 < 1000 ? 10.0 : 2.0 }
        #expect(KneeDetector.knees(x: xs.map(Double.init), y: ys).isEmpty)
    }

    @Test func oneOutlierIsNotAKnee() {
        let xs = TLBHarness.sweep(perOctave: 4)
        var ys = staircase(xs, k1: 1 << 30, k2: 1 << 30)
        ys[20] = 80   // one sample hit by another task's time slice
        #expect(KneeDetector.knees(x: xs.map(Double.init), y: ys).isEmpty)
    }

    @Test func softKneeIsOneKnee() {
        // A ramp over a few close points (refined around the edge) is one transition, not several knees;
        // its reach is the last point within a quarter of the step.
        let xs: [Double] = [8, 16, 32, 64, 76, 91, 94, 97, 101, 104, 108, 128, 152, 181, 215, 256, 512]
        let ys: [Double] = [0, 0, 0, 0, 0, 0, 0, 0.17, 0.7, 1.0, 1.8, 2.3, 2.3, 2.3, 2.3, 2.3, 2.3]
        let k = KneeDetector.knees(x: xs, y: ys)
        #expect(k.count == 1)
        #expect(k.first?.lastBelow == 97)
    }

    @Test func hugePageOutcome() {
        let k4 = [Knee(lastBelow: 96, firstAbove: 101, lower: 0, upper: 2.3)]
        #expect(TLBAnalysis.hugeOutcome(granted: false, knees4k: k4, knees2m: k4) == .notGranted)
        #expect(TLBAnalysis.hugeOutcome(granted: true, knees4k: k4, knees2m: k4) == .noReachGain)
        #expect(TLBAnalysis.hugeOutcome(granted: true, knees4k: k4, knees2m: []) == .reachGain(.infinity))
        let far = [Knee(lastBelow: 16384, firstAbove: 19484, lower: 0, upper: 2)]
        #expect(TLBAnalysis.hugeOutcome(granted: true, knees4k: k4, knees2m: far) == .reachGain(16384 / 96))
        #expect(TLBAnalysis.hugeOutcome(granted: true, knees4k: [], knees2m: far) == .unknown)
    }
}

/// The first-level reach from repeated searches (`ReachVote`, `TLBHarness.bisect`) on synthetic curves:
/// a crowded phase lowers the reach one search reads; the vote must still give the level's size
/// when most searches are clean, and say so when they are not.
@Suite struct ReachSearchTests {
    /// extra(N) − control in a clean phase: 0 up to `size` pages, the full step past it.
    static func clean(size: Int, step: Double = 1.9) -> (Int) -> Double { { $0 <= size ? 0 : step } }
    /// A crowded phase: fewer entries left to us, a soft ramp from `from` pages to `size`.
    static func crowded(from: Int, size: Int, step: Double = 1.9) -> (Int) -> Double {
        { n in n <= from ? 0 : (n > size ? step : step * Double(n - from) / Double(size - from + 1)) }
    }

    @Test func eightSearchesThreeCrowdedGiveTheLevel() {
        // The sweep's own knee was read in a crowded phase (56); the bracket still holds the level.
        let k = Knee(lastBelow: 56, firstAbove: 64, lower: 0, upper: 1.9)
        let bracket = TLBHarness.searchBracket(k)
        #expect(bracket.lo <= 28 && bracket.hi >= 128)
        let limit = k.lower + 0.25 * k.step
        let crowdedAt: [Int: Int] = [1: 40, 4: 52, 6: 60]   // search index: where its phase's ramp starts
        var readings: [Int] = []
        for i in 0..<8 {
            let curve = crowdedAt[i].map { Self.crowded(from: $0, size: 72) } ?? Self.clean(size: 72)
            readings.append(TLBHarness.bisect(lo: bracket.lo, hi: bracket.hi, limit: limit, extra: curve))
        }
        #expect(readings.filter { $0 == 72 }.count == 5)
        #expect(readings.allSatisfy { $0 <= 72 })
        let vote = ReachVote(readings)
        #expect(vote.reach == 72)
        #expect(vote.agreeing == 5)
        #expect(vote.searches == 8)
        #expect(vote.agreed)
        #expect(vote.disagreement == nil)
    }

    @Test func bisectionFindsTheLastPointInside() {
        for size in [16, 48, 64, 72, 96, 1536] {
            #expect(TLBHarness.bisect(lo: size / 2, hi: size * 2 + 2, limit: 0.475, extra: Self.clean(size: size)) == size)
        }
        // Nothing past the level in the bracket: the reading is the bracket's top less one.
        #expect(TLBHarness.bisect(lo: 10, hi: 50, limit: 0.475, extra: Self.clean(size: 100)) == 49)
    }

    @Test func scatteredSearchesAreFlagged() {
        let vote = ReachVote([48, 52, 56, 60, 64, 66, 70, 72])
        #expect(!vote.agreed)
        #expect(vote.agreeing < 4)
        #expect(vote.disagreement?.contains("disagree") == true)
        #expect(vote.disagreement?.contains("48 52 56 60 64 66 70 72") == true)
    }

    @Test func aRunWithNoCleanPhaseIsFlagged() {
        // Readings of a real run here at load 18 (lmbench `tlb` read 7 pages beside it): every search
        // met a crowded phase; within ±2 pages half of them pooled around 65, within ±1 only a third.
        let vote = ReachVote([54, 69, 55, 62, 66, 65, 65, 62, 55, 63, 69, 65])
        #expect(vote.reach == 65)
        #expect(vote.agreeing == 4)
        #expect(!vote.agreed)
    }

    @Test func aCleanThirdAboveACrowdedMajorityIsTheReach() {
        // Readings of a real run here (lmbench `tlb` read 72 beside it): a phase of seconds held 7 of 12
        // searches on 56–61 pages; the 5 read between them all 72. A phase only lowers a reading, so
        // the highest group holding a third of the searches is the level.
        let vote = ReachVote([72, 59, 59, 60, 72, 59, 72, 72, 60, 72, 61, 56])
        #expect(vote.reach == 72 && vote.agreeing == 5 && vote.agreed)
        #expect(vote.above.isEmpty && vote.disagreement == nil)
        // Under a third, the same clean readings do not outvote the phase; they flag it.
        let few = ReachVote([72, 59, 59, 60, 72, 59, 72, 60, 60, 61, 61, 56])
        #expect(!few.agreed && few.reach != 72 && few.above == [72, 72, 72])
    }

    @Test func aSteadilyCrowdedMajorityIsFlaggedByAHigherReading() {
        // Readings of a real run here: 7 of 12 agree on 62–64 pages (lmbench `tlb` read 65 beside it),
        // but one search read 72 and one 65: the level holds more than the majority says.
        let vote = ReachVote([63, 52, 62, 62, 55, 52, 62, 63, 65, 62, 64, 72])
        #expect(vote.reach == 62 && vote.agreeing == 7)
        #expect(vote.above == [65, 72])
        #expect(!vote.agreed)
        #expect(vote.disagreement?.contains("read more") == true)
        // The same majority with nothing above it holds.
        let clean = ReachVote([63, 52, 62, 62, 55, 52, 62, 63, 60, 62, 64, 58])
        #expect(clean.agreed)
        #expect(clean.above.isEmpty)
    }

    @Test func aCrowdedClusterBelowHalfIsFlagged() {
        // Four searches in one crowded phase agree on 66; the three clean ones read 72: the largest
        // group (66) is not half of eleven, so the vote does not hold.
        let vote = ReachVote([66, 65, 66, 67, 72, 72, 72, 50, 58, 61, 44])
        #expect(vote.reach == 66)
        #expect(vote.agreeing == 4)
        #expect(!vote.agreed)
    }

    @Test func tiesGoToTheLargerReach() {
        let vote = ReachVote([64, 64, 72, 72])
        #expect(vote.reach == 72)
        #expect(vote.agreeing == 2)
        #expect(vote.agreed)
        // Inside a group: the most frequent reading, a tie to the larger; a reading one page off agrees.
        let near = ReachVote([72, 73, 72, 71, 72, 73, 73, 72])
        #expect(near.reach == 72)
        #expect(near.agreeing == 8)
        // Far right the tolerance is 2 % (16 384 ± 328 pages).
        let soft = ReachVote([16_000, 16_384, 16_200, 16_384, 16_500])
        #expect(soft.agreed)
        #expect(soft.reach == 16_384)
        #expect(soft.agreeing == 5)
    }

    @Test func oneSearchIsNoAgreement() {
        #expect(!ReachVote([72]).agreed)
        #expect(ReachVote([]).reach == nil)
        #expect(!ReachVote([]).agreed)
    }

    /// Synthetic sweep rows: 4k steps by 1.9 ns past `size` pages (and 15 ns past 2048), control flat.
    static func rows(size: Int) -> [Record] {
        var out: [Record] = []
        for n in TLBHarness.sweep(perOctave: 6) {
            let extra = n <= size ? 0.0 : (n <= 2048 ? 1.9 : 16.9)
            for (m, v) in [("4k", 1.1 + extra), ("control", 1.1)] {
                out.append(Record(harness: "tlb", mechanism: m, placement: "same-cpu", cpus: [0], tasks: 1,
                                  pageSizeBytes: 4096, workingSetPages: n, metric: "ns_per_access",
                                  samples: [v, v, v], opsPerSample: 1000))
            }
        }
        return out
    }

    @Test func reachRowCarriesTheVote() throws {
        let vote = ReachVote([72, 72, 60, 72, 71, 72, 66, 72])
        let facts = TLBAnalysis.factRecords(Self.rows(size: 57), hugeGranted: nil, cpu: 0, votes: ["4k": vote])
        let reach = try #require(facts.first { $0.mechanism == "4k" && $0.metric == "reach_pages" && $0.parameter(.tlbLevel) == 1 })
        #expect(reach.stats?.median == 72)                  // the vote's, not the sweep's 57
        #expect(reach.workingSetPages == 72)
        #expect(reach.valid)
        #expect(reach.factNumber(TLBAnalysis.searchesKey) == 8)
        #expect(reach.factNumber(TLBAnalysis.agreeingKey) == 6)
        #expect(reach.fact(TLBAnalysis.readingsKey) == "72 72 60 72 71 72 66 72")
        #expect(reach.note.contains("57 pages"))           // the sweep's own knee is said beside it
        let bytes = try #require(facts.first { $0.mechanism == "4k" && $0.metric == "reach_bytes" && $0.parameter(.tlbLevel) == 1 })
        #expect(bytes.stats?.median == Double(72 * 4096))
        #expect(bytes.factNumber(TLBAnalysis.agreeingKey) == 6)
        // The second level is the sweep's, without search facts.
        let l2 = try #require(facts.first { $0.mechanism == "4k" && $0.metric == "reach_pages" && $0.parameter(.tlbLevel) == 2 })
        #expect(l2.fact(TLBAnalysis.searchesKey) == nil)
    }

    @Test func disagreeingVoteInvalidatesTheReach() throws {
        let vote = ReachVote([48, 52, 56, 60, 64, 66, 70, 72])
        let facts = TLBAnalysis.factRecords(Self.rows(size: 72), hugeGranted: nil, cpu: 0, votes: ["4k": vote])
        for metric in [TLBAnalysis.reachPages, TLBAnalysis.reachBytes] {
            let r = try #require(facts.first { $0.mechanism == "4k" && $0.metric == metric && $0.parameter(.tlbLevel) == 1 })
            #expect(!r.valid)
            #expect(r.note.contains("disagree"))
            #expect(r.factNumber(TLBAnalysis.agreeingKey) == Double(vote.agreeing))
        }
        // Without a vote the reach is the sweep's, as before.
        let plain = TLBAnalysis.factRecords(Self.rows(size: 72), hugeGranted: nil, cpu: 0)
        let r = try #require(plain.first { $0.mechanism == "4k" && $0.metric == "reach_pages" && $0.parameter(.tlbLevel) == 1 })
        #expect(r.stats?.median == 72)
        #expect(r.valid)
        #expect(r.fact(TLBAnalysis.searchesKey) == nil)
    }
}

@Suite struct CounterTests {
    static let bogus = PerfEvent(name: "bogus-event", type: SB_PERF_TYPE_HARDWARE, config: 0xDEAD_BEEF)
    static let bogusType = PerfEvent(name: "bogus-type", type: 0x7FFF_FFF0, config: 0)

    @Test func unsupportedEventFallsBackToEmptyWithReason() {
        let set = CounterSet([Self.bogus, Self.bogusType, .pageFaults], policy: PerfPolicy(paranoid: -1, privileged: true))
        #expect(set.unavailable.map(\.event.name).contains("bogus-event"))
        #expect(set.unavailable.map(\.event.name).contains("bogus-type"))
        let (_, readings) = set.measure { _ = sb_touch_lines(UnsafePointer<UInt8>(bitPattern: 0x1)!, 0) }
        #expect(readings.map(\.event) == ["bogus-event", "bogus-type", "page-faults"])
        for r in readings.prefix(2) {
            #expect(r.value == nil)
            #expect(r.note.hasPrefix("n/a: "))
            #expect(r.note.count > 6)   // says why
            #expect(r.per(100) == nil)
        }
        // Software page-faults opens wherever perf_event_open is allowed at all.
        if !set.unavailable.contains(where: { $0.event == .pageFaults }) {
            #expect(readings[2].value != nil)
        }
    }

    @Test func softwareGroupCounts() {
        // Software events open as one group (page-faults leads); a sleep is at least one voluntary switch.
        let set = CounterSet([.pageFaults, .contextSwitches, Self.bogus, .cpuMigrations])
        #expect(set.unavailable.map(\.event.name) == ["bogus-event"])   // the bad one does not spoil the group
        guard set.available.contains(.contextSwitches) else {
            // perf refuses context-switches here (not allowed at all, or user mode only): it says why,
            // and the group's counts are not checked.
            #expect(set.unavailable.contains { $0.event == .contextSwitches && !$0.reason.isEmpty }, "\(set.unavailable)")
            Issue.record("perf refuses context-switches here: the software group's counts not checked", severity: .warning)
            return
        }
        #expect(set.ungrouped.isEmpty)
        let (_, readings) = set.measure { usleep(2_000) }
        let cs = readings.first { $0.event == "context-switches" }
        #expect((cs?.value ?? 0) >= 1)
        #expect(readings.first { $0.event == "bogus-event" }?.value == nil)
        // Ungrouped gives the same events, each alone.
        #expect(CounterSet([.pageFaults, .contextSwitches], grouped: false).available.count == 2)
    }

    @Test func paranoidPolicyExcludesKernel() {
        #expect(PerfPolicy(paranoid: 2, privileged: false).mustExcludeKernel)
        #expect(PerfPolicy(paranoid: 3, privileged: false).mustExcludeKernel)
        #expect(!PerfPolicy(paranoid: 1, privileged: false).mustExcludeKernel)
        #expect(!PerfPolicy(paranoid: 2, privileged: true).mustExcludeKernel)
        #expect(PerfPolicy(paranoid: 2, privileged: false).note.contains("perf_event_paranoid=2"))
        #expect(PerfPolicy(paranoid: 1, privileged: false).note.isEmpty)
    }

    @Test func contextSwitchesUnderParanoidIsDeniedWithReason() {
        // Counting user mode only would read 0 switches: the counter must refuse, not lie.
        let strict = PerfPolicy(paranoid: 2, privileged: false)
        #expect(throws: SwitchBenchError.self) { try PerfCounter(.contextSwitches, inherit: false, policy: strict) }
        let set = CounterSet([.contextSwitches], policy: strict)
        #expect(set.available.isEmpty)
        #expect(set.unavailable.first?.reason.contains("perf_event_paranoid=2") == true)
        #expect(set.read().first?.value == nil)
    }

    @Test func userOnlyEventSaysSo() throws {
        // page-faults under a strict policy opens user-only (where perf is allowed at all) and says why.
        let set = CounterSet([.pageFaults], policy: PerfPolicy(paranoid: 2, privileged: false))
        let r = try #require(set.read().first)
        if r.value != nil {
            #expect(r.userOnly)
            #expect(r.note.contains("perf_event_paranoid=2"))
        } else {
            // perf not allowed here at all: the event is refused with a reason, not read as 0.
            #expect(set.unavailable.contains { $0.event == .pageFaults && !$0.reason.isEmpty }, "\(set.unavailable)")
        }
    }

    @Test func samplerFillsCounts() throws {
        let set = CounterSet([Self.bogus, .pageFaults])
        let m = try Sampler.run(SamplerConfig(samples: 3, warmup: 0, minSampleNs: 10_000), counters: set) { n in
            var s = 0
            for i in 0..<n { s &+= i }
            withExtendedLifetime(s) {}
        }
        #expect(m.counts.count == 2)
        #expect(m.counts[0].value == nil)
    }
}

// Real runs: serialized with every other suite that measures (ProcessSpawningTests), so no
// other test's work preempts their samples.
extension ProcessSpawningTests {
@Suite(.serialized) struct TLBRunTests {
    /// A short real sweep (4k and control): every point of both curves, the walks never fault,
    /// counters either filled or empty with a reason, a reach row. How the times order (65 536 pages
    /// cost more per access than 8) is a timing: scripts/experiments/timing-orderings.py checks it on a
    /// real run; the knee and reach analysis is tested on synthetic curves above.
    @Test func quickSweepRows() throws {
        var o = RunOptions()
        o.quick = true
        o.sampler = .quick
        o.mechanisms = ["4k", "control"]
        // Off the first CPU, where the ring and CLI tests pin their same-cpu tasks.
        o.cpus = Affinity.current().last.map { [$0] }
        let ctx = RunContext(options: o, environment: Environment.read())
        let h = TLBHarness()
        let spec = try #require(h.plan(o).first)
        let rows = try h.run(spec, context: ctx)
        let ns = rows.filter { $0.metric == "ns_per_access" }
        for pages in TLBHarness.sweep(perOctave: 2) {
            for v in ["4k", "control"] {
                #expect(ns.contains { $0.mechanism == v && $0.workingSetPages == pages && $0.unit == "ns" }, "\(v) \(pages)")
            }
        }
        #expect(ns.allSatisfy { $0.stats != nil && $0.samples >= 3 }, "a value at every point")
        for r in rows where r.unit == "per access" {
            if let s = r.stats {
                if r.metric == "page-faults" { #expect(s.median < 0.001) }
            } else {
                #expect(r.note.hasPrefix("n/a: "))
                #expect(r.workingSetPages == nil)
            }
        }
        // The first-level reach comes from the repeated searches: their facts are on the row.
        let reach = try #require(rows.first { $0.metric == "reach_pages" && $0.parameter(.tlbLevel) == 1 && $0.mechanism == "4k" })
        #expect(reach.stats != nil)
        let searches = TLBHarness.searchCount(o)
        #expect(reach.factNumber(TLBAnalysis.searchesKey) == Double(searches))
        let agreeing = try #require(reach.factNumber(TLBAnalysis.agreeingKey))
        #expect(agreeing >= 1 && agreeing <= Double(searches))
        let readings = try #require(reach.fact(TLBAnalysis.readingsKey)).split(separator: " ").compactMap { Int($0) }
        #expect(readings.count == searches)
        #expect(readings.contains(Int(reach.stats?.median ?? -1)))
        // Valid exactly when the vote over its own readings holds (a run here has no other reason to
        // invalidate a fact row): a quorum, and no reading above the agreeing group.
        #expect(reach.valid == ReachVote(readings).agreed, "\(readings): \(reach.note)")
        #expect(!rows.contains { $0.mechanism == "2m" })
        #expect(Set(rows.map(\.key)).count == rows.count)   // refined points never repeat a case key
    }
}
}
