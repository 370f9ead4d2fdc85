/// A knee of a cost curve: where the curve steps from one level to the next.
public struct Knee: Sendable, Equatable {
    /// The largest x still on the lower level (a TLB level's reach) and the first x on the upper one.
    public var lastBelow: Double
    public var firstAbove: Double
    /// Median y of the two levels (ns per access) and the step between them.
    public var lower: Double
    public var upper: Double
    /// The first x at or above three quarters of the step (a soft knee spreads from lastBelow to here).
    public var fullAt: Double
    public var step: Double { upper - lower }

    public init(lastBelow: Double, firstAbove: Double, lower: Double, upper: Double, fullAt: Double? = nil) {
        self.lastBelow = lastBelow
        self.firstAbove = firstAbove
        self.lower = lower
        self.upper = upper
        self.fullAt = fullAt ?? firstAbove
    }
}

/// Knee detection on a curve sampled at increasing x (working-set pages), by binary segmentation:
/// the curve is smoothed with a running median of three; the split into two constant levels
/// (least absolute deviations about each side's median, so one bad point cannot pull a level)
/// that fits best is a knee when the step up is at least `minStep` (ns), four times the noise of
/// that stretch and `relativeStep` of the lower level; each side is then searched again. Big steps far right cannot hide a small one
/// at the left, as they would in one global fit. At most `maxKnees`, the leftmost, in x order.
/// A flat or falling curve has no knee.
public enum KneeDetector {
    public static func knees(x: [Double], y: [Double], maxKnees: Int = 4, minStep: Double = 1.0,
                             relativeStep: Double = 0.25) -> [Knee] {
        precondition(x.count == y.count)
        guard y.count >= 4 else { return [] }
        let s = smooth(y)
        var found: [Knee] = []
        func search(_ range: Range<Int>) {
            guard range.count >= 4 else { return }
            var bestCost = Double.infinity, bestSplit = -1
            for i in (range.lowerBound + 2)...(range.upperBound - 2) {
                let c = deviation(s[range.lowerBound..<i]) + deviation(s[i..<range.upperBound])
                if c < bestCost { bestCost = c; bestSplit = i }
            }
            guard bestSplit > 0 else { return }
            let lower = median(Array(s[range.lowerBound..<bestSplit])), upper = median(Array(s[bestSplit..<range.upperBound]))
            let noise = 1.4826 * median(range.map { abs(y[$0] - s[$0]) })
            guard upper - lower >= max(minStep, 4 * noise, relativeStep * abs(lower)) else { return }
            found.append(Knee(lastBelow: x[bestSplit - 1], firstAbove: x[bestSplit], lower: lower, upper: upper))
            search(range.lowerBound..<bestSplit)
            search(bestSplit..<range.upperBound)
        }
        search(0..<y.count)
        return merge(found.sorted { $0.lastBelow < $1.lastBelow }, x: x, s: s, maxKnees: maxKnees)
    }

    /// Knees whose level between them spans less than `narrow` (a factor in x) are one transition
    /// (a soft knee: set conflicts, pseudo-LRU); each transition's levels are the medians of the
    /// stretches around it, and its reach is the last x before the curve first rises a quarter of
    /// the step above the lower level. The leftmost maxKnees are kept (TLB levels come first; far right the page
    /// walks just keep slowing).
    static func merge(_ knees: [Knee], x: [Double], s: [Double], maxKnees: Int, narrow: Double = 1.5) -> [Knee] {
        var zones: [(start: Double, end: Double)] = []
        for k in knees {
            if let last = zones.last, k.lastBelow / last.end < narrow {
                zones[zones.count - 1].end = k.firstAbove
            } else {
                zones.append((k.lastBelow, k.firstAbove))
            }
        }
        zones = Array(zones.prefix(maxKnees))
        func level(after lo: Double?, upTo hi: Double?) -> Double {
            median(zip(x, s).filter { (lo == nil || $0.0 >= lo!) && (hi == nil || $0.0 <= hi!) }.map(\.1))
        }
        var result: [Knee] = []
        for (i, z) in zones.enumerated() {
            let lower = level(after: i == 0 ? nil : zones[i - 1].end, upTo: z.start)
            let upper = level(after: z.end, upTo: i + 1 < zones.count ? zones[i + 1].start : nil)
            let limit = lower + 0.25 * (upper - lower)
            // The reach: the last point before the (smoothed) curve first crosses a quarter of the
            // step, looking from the end of the previous transition.
            let from = i == 0 ? 0 : (x.firstIndex(of: zones[i - 1].end) ?? 0)
            let cross = (from..<x.count).first { s[$0] > limit && x[$0] <= z.end } ?? x.firstIndex(of: z.end)!
            let reachIndex = max(from, cross - 1)
            let full = (reachIndex..<x.count).first { s[$0] >= lower + 0.75 * (upper - lower) } ?? x.count - 1
            result.append(Knee(lastBelow: x[reachIndex], firstAbove: x[min(reachIndex + 1, x.count - 1)],
                               lower: lower, upper: upper, fullAt: x[full]))
        }
        return result
    }

    static func deviation(_ v: ArraySlice<Double>) -> Double {
        let m = median(Array(v))
        return v.reduce(0) { $0 + abs($1 - m) }
    }

    /// Running median of three (the ends kept).
    public static func smooth(_ y: [Double]) -> [Double] {
        guard y.count >= 3 else { return y }
        var out = y
        for i in 1..<(y.count - 1) { out[i] = median([y[i - 1], y[i], y[i + 1]]) }
        return out
    }

    public static func median(_ v: [Double]) -> Double {
        guard !v.isEmpty else { return .nan }
        return Statistics.quantile(v.sorted(), 0.5)
    }
}

/// The first-level reach from repeated searches: each search (a bisection on `variant − control`
/// between a working set inside the level and one past it, `TLBHarness`) reads one reach, at a
/// different time. The host slows or crowds this guest in phases (a phase in which this thread holds
/// fewer first-level entries reads a smaller reach, and one search meets one phase), so the reach is
/// what most searches agree on, never one search's reading:
///
/// - searches *agree* when they read within `tolerance` of each other (at least one page: the
///   bisection's resolution: ±1 page up to 74 pages). Tight on purpose: readings in crowded phases
///   scatter over a few pages and must not pool into a false majority;
/// - the reach is the most frequent reading of the largest agreeing group (ties, of groups and of
///   readings: the larger reach, since a crowded phase only ever lowers a reach);
/// - the vote holds (`agreed`) when that group has at least two searches and at least `quorum` of all
///   of them, and no reading lies above the group: a crowded phase only lowers a reading, so a higher
///   one means the level holds more and the group agrees on a phase that crowded the TLB steadily
///   (seen here: 7 of 12 on 62–64 pages while one search read 72). Otherwise the reach is reported
///   with the searches' readings and flagged.
public struct ReachVote: Sendable, Equatable {
    /// Each search's reading, in the order they ran.
    public var readings: [Int]
    /// The reach: the most frequent reading of the largest agreeing group; nil when no search ran.
    public var reach: Int?
    /// Searches in that group.
    public var agreeing: Int
    public var agreed: Bool
    public var searches: Int { readings.count }

    public static let tolerance = 0.02
    public static let quorum = 0.5

    public init(_ readings: [Int], tolerance: Double = ReachVote.tolerance, quorum: Double = ReachVote.quorum) {
        self.readings = readings
        func near(_ a: Int, _ b: Int) -> Bool {
            abs(a - b) <= max(1, Int((tolerance * Double(max(a, b))).rounded()))
        }
        var best: [Int] = []
        for v in Set(readings).sorted() {
            let group = readings.filter { near($0, v) }
            if group.count >= best.count { best = group }   // ascending v: a tie goes to the larger reach
        }
        var counts: [Int: Int] = [:]
        for v in best { counts[v, default: 0] += 1 }
        reach = counts.max { ($0.value, $0.key) < ($1.value, $1.key) }?.key
        agreeing = best.count
        let top = best.max() ?? Int.max
        above = readings.filter { $0 > top }
        agreed = agreeing >= 2 && Double(agreeing) >= quorum * Double(readings.count) && above.isEmpty
    }

    /// Readings above the agreeing group (each a search that found the level holding more).
    public var above: [Int]

    /// The readings as a fact value ("72 72 64 …", in the order they ran).
    public var readingsText: String { readings.map(String.init).joined(separator: " ") }

    /// One line for the reach row's note.
    public var summary: String {
        guard let reach else { return "no search ran" }
        return "\(agreeing) of \(searches) searches agree on \(reach) pages (agreeing: within \(Int(Self.tolerance * 100)) %, at least one page; readings in run order: \(readingsText))"
    }

    /// Why the vote does not hold; nil when it does.
    public var disagreement: String? {
        guard !agreed else { return nil }
        guard reach != nil else { return "no first-level search ran" }
        if !above.isEmpty && agreeing >= 2 && Double(agreeing) >= Self.quorum * Double(searches) {
            return "the first-level searches disagree: \(agreeing) of \(searches) agree on \(reach!) pages, but \(above.count) read more (\(above.map(String.init).joined(separator: " "))), and a crowded phase only lowers a reading; readings \(readingsText)"
        }
        return "the first-level searches disagree: the largest agreeing group holds \(agreeing) of \(searches) (needs at least 2 and \(Int(Self.quorum * 100)) %); readings \(readingsText)"
    }
}

/// From the tlb sweep's rows to facts: each TLB level's reach and extra cost, and what 2 MiB pages did.
public enum TLBAnalysis {
    /// extra(N) = variant(N) − control(N), medians, for the points both have.
    public static func extra(_ rows: [Record], variant: String) -> (x: [Double], y: [Double]) {
        var control: [Int: Double] = [:]
        var mine: [Int: Double] = [:]
        for r in rows where r.harness == "tlb" && r.metric == "ns_per_access" {
            guard let n = r.workingSetPages, let m = r.stats?.median else { continue }
            if r.mechanism == "control" { control[n] = m }
            if r.mechanism == variant { mine[n] = m }
        }
        let xs = mine.keys.filter { control[$0] != nil }.sorted()
        return (xs.map(Double.init), xs.map { mine[$0]! - control[$0]! })
    }

    public static func knees(_ rows: [Record], variant: String) -> [Knee] {
        let (x, y) = extra(rows, variant: variant)
        return KneeDetector.knees(x: x, y: y)
    }

    /// Level names for knees in order.
    public static func levelName(_ i: Int) -> String {
        switch i {
        case 0: return "L1 dTLB"
        case 1: return "L2 TLB (STLB)"
        default: return "page walks slow further (page tables leave the caches)"
        }
    }

    /// What the 2 MiB curve says against the 4 KiB one.
    public enum HugeOutcome: Equatable, Sendable {
        case notGranted
        case noReachGain        // granted, knee where the 4 KiB one is
        case reachGain(Double)  // the first knee moved right by this factor (∞: no knee in the sweep)
        case partialGain(Double)
        case unknown

        static let key = "outcome"

        /// The `outcome` fact; the factor is the row's value.
        public var token: String {
            switch self {
            case .notGranted: return "not-granted"
            case .noReachGain: return "no-reach-gain"
            case .reachGain: return "reach-gain"
            case .partialGain: return "partial-gain"
            case .unknown: return "unknown"
            }
        }

        /// The outcome of a run: its huge_page_reach_ratio row's fact, or for a CSV from before the
        /// facts column, decided again from the ratio it holds (the thresholds of `hugeOutcome`).
        /// nil: not measured.
        public static func of(_ run: RunResult) -> HugeOutcome? {
            guard let r = run.records(harness: "tlb").first(where: { $0.metric == "huge_page_reach_ratio" }) else { return nil }
            let f = r.stats?.median
            switch r.fact(key) {
            case "not-granted": return .notGranted
            case "no-reach-gain": return .noReachGain
            case "reach-gain": return .reachGain(f ?? .infinity)
            case "partial-gain": return .partialGain(f ?? .nan)
            case "unknown": return .unknown
            default:
                guard let f else { return .unknown }
                return f <= 2 ? .noReachGain : (f >= 8 ? .reachGain(f) : .partialGain(f))
            }
        }

        public var text: String {
            switch self {
            case .notGranted: return "huge pages not granted: the 2m curve is a 4 KiB curve"
            case .noReachGain: return "huge pages granted, no reach gain: likely host-side 4 KiB backing (the TLB holds 4 KiB translations whatever the guest maps)"
            case .reachGain(let f): return f.isInfinite ? "huge pages granted and they extend the TLB reach beyond the sweep (no first-level knee up to \(TLBHarness.maxPages) pages)"
                                                        : String(format: "huge pages granted and they extend the first-level TLB reach %.0f×", f)
            case .partialGain(let f): return String(format: "huge pages granted; first-level reach only %.1f× the 4 KiB one (partly small-page backed?)", f)
            case .unknown: return "no verdict: the 4 KiB curve shows no first-level knee to compare with"
            }
        }
    }

    public static func hugeOutcome(granted: Bool, knees4k: [Knee], knees2m: [Knee]) -> HugeOutcome {
        guard granted else { return .notGranted }
        guard let k4 = knees4k.first else { return .unknown }
        guard let k2 = knees2m.first else { return .reachGain(.infinity) }
        let f = k2.lastBelow / k4.lastBelow
        if f <= 2 { return .noReachGain }
        if f >= 8 { return .reachGain(f) }
        return .partialGain(f)
    }

    /// Fact keys of a first-level reach row that came from repeated searches (`ReachVote`).
    public static let searchesKey = "searches", agreeingKey = "searches_agreeing", readingsKey = "search_readings"

    /// Fact rows: reach_l<i>_pages / reach_l<i>_bytes / miss_l<i>_extra_ns per knee of 4k and 2m,
    /// and huge_page_reach_ratio with the 2 MiB verdict in its note.
    ///
    /// - votes: per variant, the first-level searches' vote. Where one is given, the first level's
    ///   reach is the vote's (the sweep's curve gives the levels and the step), its rows carry the
    ///   facts `searches`, `searches_agreeing` and `search_readings`, and a vote that does not hold makes
    ///   them invalid with the readings.
    public static func factRecords(_ rows: [Record], hugeGranted: Bool?, cpu: Int, votes: [String: ReachVote] = [:]) -> [Record] {
        var out: [Record] = []
        var kneesOf: [String: [Knee]] = [:]
        for variant in ["4k", "2m"] where rows.contains(where: { $0.mechanism == variant && $0.metric == "ns_per_access" }) {
            guard rows.contains(where: { $0.mechanism == "control" && $0.metric == "ns_per_access" }) else { break }
            var knees = knees(rows, variant: variant)
            let vote = votes[variant]
            let sweepReach = knees.first.map { Int($0.lastBelow) }
            if let vote, let reach = vote.reach, !knees.isEmpty {
                knees[0].lastBelow = Double(reach)
                knees[0].firstAbove = Double(reach + 1)
            }
            kneesOf[variant] = knees
            let pageSize = variant == "2m" ? PageRegion.hugePage : PageRegion.smallPage
            func fact(_ metric: String, _ unit: String, _ value: Double, _ pages: Int?, _ note: String) -> Record {
                var r = Record(harness: "tlb", mechanism: variant, placement: Placement.sameCPU.rawValue, cpus: String(cpu),
                               tasks: 1, pageSizeBytes: pageSize, workingSetPages: pages, metric: metric, unit: unit,
                               samples: [value], opsPerSample: 0)
                r.addNote(note)
                return r
            }
            if knees.isEmpty {
                var r = Record(harness: "tlb", mechanism: variant, placement: Placement.sameCPU.rawValue, cpus: String(cpu),
                               tasks: 1, pageSizeBytes: pageSize, metric: "reach_l1_pages", unit: "pages", samples: [], opsPerSample: 0)
                r.addNote("no knee found in \(variant) − control over the sweep")
                out.append(r)
            }
            for (i, k) in knees.enumerated() {
                let level = "l\(i + 1)"
                let name = levelName(i)
                let pages = Int(k.lastBelow)
                let searched = i == 0 && vote?.reach != nil
                let bracket: String
                if searched, let vote {
                    bracket = "reach from repeated searches on \(variant) − control: " + vote.summary
                        + "; the sweep's own curve: \(sweepReach.map { "\($0) pages" } ?? "no knee")"
                } else if k.fullAt > k.firstAbove {
                    bracket = "soft knee of \(variant) − control: under a quarter of the step up to \(Int(k.lastBelow)) pages, past it at \(Int(k.firstAbove)), three quarters by \(Int(k.fullAt))"
                } else {
                    bracket = "knee of \(variant) − control between \(Int(k.lastBelow)) and \(Int(k.firstAbove)) pages"
                }
                var level3 = [fact("reach_\(level)_pages", "pages", k.lastBelow, pages, "\(name): \(bracket)"),
                              fact("reach_\(level)_bytes", "bytes", k.lastBelow * Double(PageRegion.smallPage), pages,
                                   "\(name): reach in 4 KiB-strided bytes"),
                              fact("miss_\(level)_extra_ns", "ns", k.step, pages,
                                   String(format: "\(name): extra ns per access beyond the reach (level %.2f → %.2f ns over control)", k.lower, k.upper))]
                if searched, let vote {
                    for j in level3.indices where level3[j].metric.hasPrefix("reach_") {
                        level3[j].setFact(searchesKey, Double(vote.searches))
                        level3[j].setFact(agreeingKey, Double(vote.agreeing))
                        level3[j].setFact(readingsKey, vote.readingsText)
                        if let why = vote.disagreement { level3[j].invalidate(why) }
                    }
                }
                out += level3
            }
        }
        if let k4 = kneesOf["4k"], let k2 = kneesOf["2m"], let granted = hugeGranted {
            let outcome = hugeOutcome(granted: granted, knees4k: k4, knees2m: k2)
            let ratio: Double? = {
                guard let a = k4.first else { return nil }
                guard let b = k2.first else { return Double(TLBHarness.maxPages) / a.lastBelow }
                return b.lastBelow / a.lastBelow
            }()
            var r = Record(harness: "tlb", mechanism: "2m", placement: Placement.sameCPU.rawValue, cpus: String(cpu), tasks: 1,
                           pageSizeBytes: PageRegion.hugePage, metric: "huge_page_reach_ratio", unit: "ratio",
                           samples: ratio.map { [$0] } ?? [], opsPerSample: 0)
            r.setFact(HugeOutcome.key, outcome.token)
            r.addNote(outcome.text)
            if outcome == .noReachGain, k4.count >= 2, k2.count >= 2 {
                let (a, b) = (k2[1].step, k4[1].step)
                r.addNote(String(format: "each miss past the second level costs %.1f ns with 2 MiB pages against %.1f ns with 4 KiB",
                                 a, b) + (a < b * 0.9 ? " (a shorter page walk)" : a > b * 1.1 ? " (a longer walk with 2 MiB pages)" : " (about the same)"))
            }
            if ratio != nil && k2.isEmpty { r.addNote("lower bound: no 2m knee in the sweep") }
            out.append(r)
        }
        return out
    }
}
