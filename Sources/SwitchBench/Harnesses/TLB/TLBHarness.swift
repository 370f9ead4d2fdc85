import CSwitchBench
import Glibc

/// Address translation cost (claim C5): a dependent pointer chase with one pointer per 4 KiB page,
/// pages in a random permutation, each pointer at a random cache line of its page (lmbench `tlb`),
/// over working sets from 8 to 65 536 pages, 6 points per octave (2 with --quick) and more inside
/// each knee found.
///
///   4k:      the pages are 4 KiB (MADV_NOHUGEPAGE): one translation per access.
///   2m:      the same walk over a 2 MiB-aligned MADV_HUGEPAGE region; granted huge pages are read
///            back from /proc/self/smaps. 512 walk pages share one 2 MiB translation.
///   control: the same number of cache lines packed side by side (64 per 4 KiB, in a huge-page
///            region when granted), visited in a random permutation: the same cache misses with
///            (almost) no TLB misses. 4k − control is the translation part.
///
/// The x axis of every variant is the number of 4 KiB-strided slots visited (`working_set_pages`).
/// 4k and control are measured interleaved point by point; 2m follows (one 256 MiB region at a time
/// keeps the peak RSS under 300 MiB). From the curves: knees (TLB levels), their reach and the extra
/// cost per access beyond each (`TLBAnalysis`). The first level's reach of each curve is not one
/// sweep's knee but the vote of 12 bisection searches spread over the rest of the run (`ReachVote`):
/// the host crowds this guest in phases, and one sweep meets one phase.
public struct TLBHarness: Harness {
    public init() {}
    public let info = HarnessInfo("tlb", claims: ["C5"], summary: "pointer chase over 8…65536 pages: TLB reach and miss cost, 4 KiB vs 2 MiB pages, cache-only control", mechanisms: [
        ("4k", "one pointer per 4 KiB page (MADV_NOHUGEPAGE), random page order, random line in the page"),
        ("2m", "the same walk on MADV_HUGEPAGE memory (granted huge pages verified in /proc/self/smaps)"),
        ("control", "as many cache lines packed into few pages, random order: cache misses without TLB misses")])
    /// Page walks and re-walks miss to shared caches and memory: a busy neighbour moves them (docs/busy-machines.md).
    public var neighbourSensitive: Bool { true }
    public static let nodeOption = HarnessOption("node", .index, example: "1",
        help: "NUMA node for the pages of the pointer chase (needs libnuma and more than one node).")
    public var declaredOptions: [HarnessOption] { [Self.nodeOption] }

    public static let minPages = 8
    public static let maxPages = 65_536

    /// 8 … 65 536 pages, `perOctave` points per octave (rounded, distinct).
    public static func sweep(from lo: Int = minPages, to hi: Int = maxPages, perOctave: Int) -> [Int] {
        var points: [Int] = []
        var k = 0
        while true {
            let v = Int((Double(lo) * pow(2, Double(k) / Double(perOctave))).rounded())
            if v > hi { break }
            if points.last != v { points.append(v) }
            k += 1
        }
        if points.last != hi { points.append(hi) }
        return points
    }

    /// Up to `count` integers strictly between lo and hi, evenly spaced in log scale.
    public static func refine(lo: Int, hi: Int, count: Int) -> [Int] {
        guard hi - lo > 1 else { return [] }
        let r = Double(hi) / Double(lo)
        var out: [Int] = []
        for i in 1...count {
            let v = Int((Double(lo) * pow(r, Double(i) / Double(count + 1))).rounded())
            if v > lo && v < hi && out.last != v { out.append(v) }
        }
        return out
    }

    public func plan(_ options: RunOptions) -> [CaseSpec] {
        let m = selectedMechanisms(options)
        guard !m.isEmpty else { return [] }
        return [CaseSpec(harness: id, mechanism: m.joined(separator: ","), placement: .sameCPU, tasks: 1)]
    }

    /// Per point: half the run's samples, each a twentieth as long (many points, one chain each;
    /// short samples are rarely hit by another task's time slice, and those that are are retaken).
    static func config(_ options: RunOptions) -> SamplerConfig {
        SamplerConfig(samples: max(3, options.sampler.samples / 2), warmup: 1,
                      minSampleNs: max(100_000, options.sampler.minSampleNs / 20))
    }

    /// First-level searches per curve (`ReachVote`): 12, 6 with --quick.
    static func searchCount(_ options: RunOptions) -> Int { options.quick ? 6 : 12 }

    /// One search step measures its two chains with 5 samples of ≥ 100 µs each: the step it tells
    /// apart (under vs past a quarter of the level's step) is far above that median's noise.
    static let searchConfig = SamplerConfig(samples: 5, warmup: 1, minSampleNs: 100_000)

    /// Where the searches look, from the sweep's first knee: half its reach (a crowded phase lowers
    /// a reach by less than half) to twice its first point past it (a second level lies far beyond).
    public static func searchBracket(_ k: Knee) -> (lo: Int, hi: Int) {
        (max(minPages, Int(k.lastBelow / 2)), min(maxPages, Int((2 * k.firstAbove).rounded())))
    }

    /// One search: bisection between lo (taken as inside the level) and hi (taken as past it) for
    /// the last working set whose extra cost stays at or under `limit` (lmbench `tlb` bisects the same way).
    public static func bisect(lo: Int, hi: Int, limit: Double, extra: (Int) throws -> Double) rethrows -> Int {
        var lo = lo, hi = hi
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if try extra(mid) > limit { hi = mid } else { lo = mid }
        }
        return lo
    }

    /// A curve's searches: where they look, the extra cost that counts as past the level (a quarter
    /// of the sweep's first step above its lower level), one search after every `every` sweep points.
    struct SearchPlan {
        var bracket: (lo: Int, hi: Int)
        var limit: Double
        var every: Int
        var sinceLast = 0
        var readings: [Int] = []
    }

    public func run(_ spec: CaseSpec, context: RunContext) throws -> [Record] {
        let variants = spec.mechanism.split(separator: ",").map(String.init)
        let cpu = context.allowedCPUs[0]
        let config = Self.config(context.options)
        var points = Self.sweep(perOctave: context.options.quick ? 2 : 6)
        var nodeNote = ""
        var node: Int? = nil
        var binding: NUMABinding? = nil
        if let n = context.options.node {
            if let why = NUMA.unavailableReason(node: n) {
                if NUMA.nodeCount() < 2 { nodeNote = "--node \(n): \(why)" } else { throw SwitchBenchError.usage("--node \(n): \(why)") }
                binding = .unavailable(n)
            } else {
                node = n
                nodeNote = "memory bound to NUMA node \(n) (libnuma)"
                binding = .bound(n)
            }
        }

        return try Affinity.pinned([cpu]) {
            let counters = CounterSet(CounterSet.memoryEvents)
            var rows: [Record] = []
            var rng = SplitMix64(seed: 0x5EED_071B)
            var hugeGrant: HugeGrant? = nil   // set before the 2m points are recorded

            func record(_ variant: String, _ pages: Int, _ m: Measured, note: String) -> [Record] {
                let pageSize = variant == "2m" ? PageRegion.hugePage : PageRegion.smallPage
                let footprint = variant == "control" ? pages * PageChain.line : pages * PageRegion.smallPage
                var r = Record(harness: id, mechanism: variant, placement: spec.placement.rawValue, cpus: String(cpu),
                               tasks: 1, footprintBytes: footprint, pageSizeBytes: pageSize, workingSetPages: pages,
                               metric: "ns_per_access", samples: m.perOp, opsPerSample: m.opsPerSample,
                               cpusSeen: String(sb_sched_getcpu()))
                if !note.isEmpty { r.addNote(note) }
                if !nodeNote.isEmpty { r.addNote(nodeNote) }
                if let binding { r.setFact(NUMABinding.key, binding.token) }
                if variant == "2m", let hugeGrant { r.setFact(HugeGrant.key, hugeGrant.rawValue) }
                r.applySampling(m)   // preempted samples retaken by the sampler (wall vs this thread's CPU time)
                var out = [r]
                // Counters that opened: one row each, per access over every timed sample.
                for c in m.counts where c.value != nil {
                    var cr = Record(harness: id, mechanism: variant, placement: spec.placement.rawValue, cpus: String(cpu),
                                    tasks: 1, footprintBytes: footprint, pageSizeBytes: pageSize, workingSetPages: pages,
                                    metric: c.event, unit: "per access", samples: [c.per(m.totalOps)!],
                                    opsPerSample: m.totalOps)
                    cr.addNote("perf \(c.event) over all timed samples ÷ accesses")
                    if !c.note.isEmpty { cr.addNote(c.note) }
                    out.append(cr)
                }
                return out
            }

            /// search: a search step's shorter config, no counters.
            func measure(_ start: UnsafeRawPointer, pages: Int, search: Bool = false) throws -> Measured {
                // Two full passes first: every line and translation of this chain where it settles.
                var p = PageChain.chase(start, 2 * pages)
                let m = try Sampler.run(search ? Self.searchConfig : config, counters: search ? nil : counters) { n in p = PageChain.chase(p, n) }
                withExtendedLifetime(p) {}
                return m
            }

            // The first-level searches (ReachVote): per variant, set up once the sweep has shown its
            // first knee and two octaves past it, then run one at a time between the remaining sweep
            // points, so that they meet different phases of the host; what is left runs at the end.
            let packed = variants.contains("control")
                ? try PageRegion(bytes: Self.maxPages * PageChain.line, backing: .huge, node: node) : nil
            let searches = Self.searchCount(context.options)
            var plans: [String: SearchPlan] = [:]
            func searchOnce(_ variant: String, _ region: PageRegion, _ plan: SearchPlan) throws -> Int {
                guard let packed else { return plan.bracket.lo }
                var flip = false
                return try Self.bisect(lo: plan.bracket.lo, hi: plan.bracket.hi, limit: plan.limit) { pages in
                    flip.toggle()
                    var v = 0.0, c = 0.0
                    for isControl in flip ? [false, true] : [true, false] {
                        let start = isControl
                            ? PageChain.build(base: packed.base, count: pages, slotBytes: PageChain.line, linesPerSlot: 1, rng: &rng)
                            : PageChain.build(base: region.base, count: pages, slotBytes: PageRegion.smallPage, linesPerSlot: 64, rng: &rng)
                        let m = KneeDetector.median(try measure(start, pages: pages, search: true).perOp)
                        if isControl { c = m } else { v = m }
                    }
                    return v - c
                }
            }
            /// After a sweep point: set up the plan once the knee shows, and search when it is time.
            func searchTick(_ variant: String, _ region: PageRegion, at pages: Int, pointsLeft: Int) throws {
                guard packed != nil else { return }
                if plans[variant] == nil {
                    let (x, y) = TLBAnalysis.extra(rows, variant: variant)
                    guard let k = KneeDetector.knees(x: x, y: y, maxKnees: 1).first, Double(pages) >= 4 * k.firstAbove else { return }
                    plans[variant] = SearchPlan(bracket: Self.searchBracket(k), limit: k.lower + 0.25 * k.step,
                                                every: max(1, pointsLeft / searches))
                }
                guard var plan = plans[variant], plan.readings.count < searches else { return }
                plan.sinceLast += 1
                if plan.sinceLast >= plan.every {
                    plan.sinceLast = 0
                    plan.readings.append(try searchOnce(variant, region, plan))
                }
                plans[variant] = plan
            }
            /// After the sweep: the searches not run yet (the plan from the whole curve if none was set up).
            func finishSearches(_ variant: String, _ region: PageRegion) throws -> ReachVote? {
                guard packed != nil else { return nil }
                if plans[variant] == nil {
                    let (x, y) = TLBAnalysis.extra(rows, variant: variant)
                    guard let k = KneeDetector.knees(x: x, y: y, maxKnees: 1).first else { return nil }
                    plans[variant] = SearchPlan(bracket: Self.searchBracket(k), limit: k.lower + 0.25 * k.step, every: 1)
                }
                guard var plan = plans[variant] else { return nil }
                while plan.readings.count < searches { plan.readings.append(try searchOnce(variant, region, plan)) }
                plans[variant] = plan
                return ReachVote(plan.readings)
            }
            var votes: [String: ReachVote] = [:]

            // Phase 1: 4k and control, interleaved point by point.
            var controlNote = ""
            if variants.contains("4k") || variants.contains("control") {
                let small = variants.contains("4k")
                    ? try PageRegion(bytes: Self.maxPages * PageRegion.smallPage, backing: .small, node: node) : nil
                if let packed {
                    let huge = packed.hugeBytes() ?? 0
                    controlNote = huge >= packed.bytes
                        ? "lines packed 64 per 4 KiB in \(packed.bytes >> 21) granted 2 MiB page(s)"
                        : "lines packed 64 per 4 KiB page (huge pages \(huge >> 10) of \(packed.bytes >> 10) KiB granted)"
                }
                func measurePoints(_ list: [Int], searching: Bool = false) throws {
                    for (i, pages) in list.enumerated() {
                        var order: [(String, PageRegion)] = []
                        if let small { order.append(("4k", small)) }
                        if let packed { order.append(("control", packed)) }
                        if i % 2 == 1 { order.reverse() }
                        for (variant, region) in order {
                            let start = variant == "control"
                                ? PageChain.build(base: region.base, count: pages, slotBytes: PageChain.line, linesPerSlot: 1, rng: &rng)
                                : PageChain.build(base: region.base, count: pages, slotBytes: PageRegion.smallPage, linesPerSlot: 64, rng: &rng)
                            let m = try measure(start, pages: pages)
                            rows += record(variant, pages, m, note: variant == "control" ? controlNote
                                            : "4 KiB pages (MADV_NOHUGEPAGE)")
                        }
                        if searching, let small { try searchTick("4k", small, at: pages, pointsLeft: list.count - i - 1) }
                    }
                }
                try measurePoints(points, searching: true)
                // Denser near the knees: more points from the sweep point before each of the first two
                // knees' reach to the first point past it.
                if small != nil && packed != nil {
                    var extra: [Int] = []
                    for k in TLBAnalysis.knees(rows, variant: "4k").prefix(2) {
                        let lo = points.last { Double($0) < k.lastBelow } ?? Int(k.lastBelow)
                        for p in Self.refine(lo: lo, hi: Int(k.firstAbove), count: context.options.quick ? 3 : 8)
                        where !points.contains(p) && !extra.contains(p) { extra.append(p) }
                    }
                    try measurePoints(extra)
                    points = (points + extra).sorted()
                }
                if let small { votes["4k"] = try finishSearches("4k", small) }
            }

            // Phase 2: 2m.
            var hugeNote = ""
            var hugeGranted: Bool? = nil
            if variants.contains("2m") {
                let region = try PageRegion(bytes: Self.maxPages * PageRegion.smallPage, backing: .huge, node: node)
                let granted = region.hugeBytes()
                let thp = context.environment.thp
                hugeGranted = granted.map { $0 >= region.bytes * 9 / 10 }
                if let granted, granted >= region.bytes {
                    hugeNote = "huge pages granted: AnonHugePages \(granted >> 20) MiB of \(region.bytes >> 20) MiB"
                    hugeGrant = .granted
                } else if let granted {
                    hugeNote = "huge pages NOT fully granted: AnonHugePages \(granted >> 20) MiB of \(region.bytes >> 20) MiB (THP \(thp))"
                    hugeGrant = .partial
                } else {
                    hugeNote = "huge pages not verified: /proc/self/smaps unreadable (THP \(thp))"
                    hugeGrant = .unverified
                }
                for (i, pages) in points.enumerated() {
                    let start = PageChain.build(base: region.base, count: pages, slotBytes: PageRegion.smallPage,
                                                linesPerSlot: 64, rng: &rng)
                    rows += record("2m", pages, try measure(start, pages: pages), note: hugeNote)
                    try searchTick("2m", region, at: pages, pointsLeft: points.count - i - 1)
                }
                votes["2m"] = try finishSearches("2m", region)
            }

            // Events that did not open: one empty row per variant, with why.
            for variant in variants {
                for (event, reason) in counters.unavailable {
                    var r = Record(harness: id, mechanism: variant, placement: spec.placement.rawValue, cpus: String(cpu),
                                   tasks: 1, pageSizeBytes: variant == "2m" ? PageRegion.hugePage : PageRegion.smallPage,
                                   metric: event.name, unit: "per access", samples: [], opsPerSample: 0)
                    r.addNote("n/a: \(reason)")
                    rows.append(r)
                }
            }

            rows += TLBAnalysis.factRecords(rows, hugeGranted: hugeGranted, cpu: cpu, votes: votes.compactMapValues { $0 })
            return rows
        }
    }
}

/// Where the sweep's memory was placed when --node was given (a fact of every sweep row).
public enum NUMABinding: Sendable, Equatable {
    /// Bound to this node with libnuma.
    case bound(Int)
    /// The node was asked for but this machine cannot bind (one node, or no libnuma): local memory.
    case unavailable(Int)

    static let key = "numa_node"
    var token: String {
        switch self {
        case .bound(let n): return "bound:\(n)"
        case .unavailable(let n): return "unavailable:\(n)"
        }
    }

    /// The binding of a run's tlb rows; nil when --node was not given or not recorded (old CSV).
    public static func of(_ run: RunResult) -> NUMABinding? {
        guard let t = run.records(harness: "tlb").lazy.compactMap({ $0.fact(key) }).first else { return nil }
        let parts = t.split(separator: ":")
        guard parts.count == 2, let n = Int(parts[1]) else { return nil }
        return parts[0] == "bound" ? .bound(n) : .unavailable(n)
    }
}

/// Whether the kernel backed the 2 MiB region with huge pages (AnonHugePages in /proc/self/smaps).
public enum HugeGrant: String, Sendable {
    case granted, partial, unverified
    static let key = "huge_pages"

    /// From a run's 2m rows; nil when not recorded (old CSV) or 2m did not run.
    public static func of(_ run: RunResult) -> HugeGrant? {
        run.records(harness: "tlb").lazy.filter { $0.mechanism == "2m" }.compactMap { $0.fact(key).flatMap(HugeGrant.init) }.first
    }
}

extension RunOptions {
    /// NUMA node for the tlb harness's memory (`--node`); nil: local.
    public var node: Int? {
        get { self[TLBHarness.nodeOption]?.first }
        set { self[TLBHarness.nodeOption] = newValue.map { [$0] } }
    }
}
