import CSwitchBench
import Foundation

/// One run of the tlb harness, on its pinned CPU: the sweep of 4k and control (interleaved point by
/// point, then denser near the first two knees), the 2m sweep, and the first-level searches between
/// the sweep's points (`ReachVote`). It holds what the phases share: the rows so far, the chains'
/// random order, the counters and the search plans. Measuring only: the analysis of the curves is
/// `TLBAnalysis`, its presentation `TLBPresentation`.
final class TLBSweep {
    let spec: CaseSpec
    let options: RunOptions
    let environment: Environment
    let cpu: Int
    let node: Int?
    let nodeNote: String
    let binding: NUMABinding?
    let config: SamplerConfig
    let counters = CounterSet(CounterSet.memoryEvents)
    let searches: Int
    var rows: [Record] = []
    var rng = SplitMix64(seed: 0x5EED_071B)
    /// Set before the 2m points are recorded.
    var hugeGrant: HugeGrant? = nil
    /// The control chain's memory: lines packed 64 per 4 KiB in huge pages (nil without control).
    var packed: PageRegion? = nil
    var plans: [String: TLBHarness.SearchPlan] = [:]
    var votes: [String: ReachVote] = [:]

    init(spec: CaseSpec, context: RunContext, cpu: Int, placement: (node: Int?, note: String, binding: NUMABinding?)) {
        self.spec = spec
        self.options = context.options
        self.environment = context.environment
        self.cpu = cpu
        (node, nodeNote, binding) = placement
        config = TLBHarness.config(context.options)
        searches = TLBHarness.searchCount(context.options)
    }

    func run(_ variants: [String]) throws -> [Record] {
        packed = variants.contains("control")
            ? try PageRegion(bytes: TLBHarness.maxPages * PageChain.line, backing: .huge, node: node) : nil
        var points = TLBHarness.sweep(perOctave: options.quick ? 2 : 6)
        if variants.contains("4k") || variants.contains("control") {
            points = try smallAndControl(points, small: variants.contains("4k"))
        }
        let hugeGranted = variants.contains("2m") ? try huge(points) : nil
        // Events that did not open: one empty row per variant, with why.
        for variant in variants {
            for (event, reason) in counters.unavailable {
                var r = Record(harness: spec.harness, mechanism: variant, placement: spec.placement.rawValue, cpus: [cpu],
                               tasks: 1, pageSizeBytes: variant == "2m" ? PageRegion.hugePage : PageRegion.smallPage,
                               metric: event.name, unit: "per access", samples: [], opsPerSample: 0)
                r.addNote("n/a: \(reason)")
                rows.append(r)
            }
        }
        rows += TLBAnalysis.factRecords(rows, hugeGranted: hugeGranted, cpu: cpu, votes: votes)
        return rows
    }

    // MARK: the phases

    /// Phase 1: 4k and control, interleaved point by point, then denser near the first two knees.
    /// Returns the points measured (the sweep's and the added ones), which the 2m curve follows.
    func smallAndControl(_ sweep: [Int], small wantSmall: Bool) throws -> [Int] {
        var points = sweep
        let small = wantSmall ? try PageRegion(bytes: TLBHarness.maxPages * PageRegion.smallPage, backing: .small, node: node) : nil
        var controlNote = ""
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
                    let m = try measure(chain(variant == "control", region, pages: pages), pages: pages)
                    rows += record(variant, pages, m, note: variant == "control" ? controlNote : "4 KiB pages (MADV_NOHUGEPAGE)")
                }
                if searching, let small { try searchTick("4k", small, at: pages, pointsLeft: list.count - i - 1) }
            }
        }
        try measurePoints(points, searching: true)
        // Denser near the knees: more points from the sweep point before each of the first two
        // knees' reach to the first point past it.
        if small != nil && packed != nil {
            let extra = TLBAnalysis.knees(rows, variant: "4k").prefix(2).flatMap { k in
                let lo = points.last { Double($0) < k.lastBelow } ?? Int(k.lastBelow)
                return TLBHarness.refine(lo: lo, hi: Int(k.firstAbove), count: options.quick ? 3 : 8)
            }.filter { !points.contains($0) }.orderedUnique()
            try measurePoints(extra)
            points = (points + extra).sorted()
        }
        if let small { votes["4k"] = try finishSearches("4k", small) }
        return points
    }

    /// Phase 2: the 2m curve at the same points. Returns whether the huge pages were granted (nil: not known).
    func huge(_ points: [Int]) throws -> Bool? {
        let region = try PageRegion(bytes: TLBHarness.maxPages * PageRegion.smallPage, backing: .huge, node: node)
        let granted = region.hugeBytes()
        let thp = environment.thp
        let hugeNote: String
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
            rows += record("2m", pages, try measure(chain(false, region, pages: pages), pages: pages), note: hugeNote)
            try searchTick("2m", region, at: pages, pointsLeft: points.count - i - 1)
        }
        votes["2m"] = try finishSearches("2m", region)
        return granted.map { $0 >= region.bytes * 9 / 10 }
    }

    // MARK: one point

    /// A chain of `pages` slots in `region`: one line per slot packed (control), else a random line
    /// of each 4 KiB page.
    func chain(_ control: Bool, _ region: PageRegion, pages: Int) -> UnsafeRawPointer {
        control
            ? PageChain.build(base: region.base, count: pages, slotBytes: PageChain.line, linesPerSlot: 1, rng: &rng)
            : PageChain.build(base: region.base, count: pages, slotBytes: PageRegion.smallPage, linesPerSlot: 64, rng: &rng)
    }

    /// search: a search step's shorter config, no counters.
    func measure(_ start: UnsafeRawPointer, pages: Int, search: Bool = false) throws -> Measured {
        // Two full passes first: every line and translation of this chain where it settles.
        var p = PageChain.chase(start, 2 * pages)
        let m = try Sampler.run(search ? TLBHarness.searchConfig : config, counters: search ? nil : counters) { n in p = PageChain.chase(p, n) }
        withExtendedLifetime(p) {}
        return m
    }

    /// A point's ns_per_access row and a row per counter that opened (per access over every timed sample).
    func record(_ variant: String, _ pages: Int, _ m: Measured, note: String) -> [Record] {
        let pageSize = variant == "2m" ? PageRegion.hugePage : PageRegion.smallPage
        let footprint = variant == "control" ? pages * PageChain.line : pages * PageRegion.smallPage
        var r = Record(harness: spec.harness, mechanism: variant, placement: spec.placement.rawValue, cpus: [cpu],
                       tasks: 1, footprintBytes: footprint, pageSizeBytes: pageSize, workingSetPages: pages,
                       metric: "ns_per_access", samples: m.perOp, opsPerSample: m.opsPerSample,
                       cpusSeen: String(sb_sched_getcpu()))
        if !note.isEmpty { r.addNote(note) }
        if !nodeNote.isEmpty { r.addNote(nodeNote) }
        if let binding { r.setFact(NUMABinding.key, binding.token) }
        if variant == "2m", let hugeGrant { r.setFact(HugeGrant.key, hugeGrant.rawValue) }
        r.applySampling(m)   // preempted samples retaken by the sampler (wall vs this thread's CPU time)
        var out = [r]
        for c in m.counts where c.value != nil {
            var cr = Record(harness: spec.harness, mechanism: variant, placement: spec.placement.rawValue, cpus: [cpu],
                            tasks: 1, footprintBytes: footprint, pageSizeBytes: pageSize, workingSetPages: pages,
                            metric: c.event, unit: "per access", samples: [c.per(m.totalOps)!],
                            opsPerSample: m.totalOps)
            cr.addNote("perf \(c.event) over all timed samples ÷ accesses")
            if !c.note.isEmpty { cr.addNote(c.note) }
            out.append(cr)
        }
        return out
    }

    // MARK: the first-level searches

    // Per variant, set up once the sweep has shown its first knee and two octaves past it, then run
    // one at a time between the remaining sweep points, so that they meet different phases of the
    // host; what is left runs at the end.

    func searchOnce(_ region: PageRegion, _ plan: TLBHarness.SearchPlan) throws -> Int {
        guard let packed else { return plan.bracket.lo }
        var flip = false
        return try TLBHarness.bisect(lo: plan.bracket.lo, hi: plan.bracket.hi, limit: plan.limit) { pages in
            flip.toggle()
            var v = 0.0, c = 0.0
            for isControl in flip ? [false, true] : [true, false] {
                let start = chain(isControl, isControl ? packed : region, pages: pages)
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
            plans[variant] = TLBHarness.SearchPlan(bracket: TLBHarness.searchBracket(k), limit: k.lower + 0.25 * k.step,
                                                   every: max(1, pointsLeft / searches))
        }
        guard var plan = plans[variant], plan.readings.count < searches else { return }
        plan.sinceLast += 1
        if plan.sinceLast >= plan.every {
            plan.sinceLast = 0
            plan.readings.append(try searchOnce(region, plan))
        }
        plans[variant] = plan
    }

    /// After the sweep: the searches not run yet (the plan from the whole curve if none was set up).
    func finishSearches(_ variant: String, _ region: PageRegion) throws -> ReachVote? {
        guard packed != nil else { return nil }
        if plans[variant] == nil {
            let (x, y) = TLBAnalysis.extra(rows, variant: variant)
            guard let k = KneeDetector.knees(x: x, y: y, maxKnees: 1).first else { return nil }
            plans[variant] = TLBHarness.SearchPlan(bracket: TLBHarness.searchBracket(k), limit: k.lower + 0.25 * k.step, every: 1)
        }
        guard var plan = plans[variant] else { return nil }
        while plan.readings.count < searches { plan.readings.append(try searchOnce(region, plan)) }
        plans[variant] = plan
        return ReachVote(plan.readings)
    }
}
