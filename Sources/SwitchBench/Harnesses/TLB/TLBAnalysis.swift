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
            case .noReachGain: return """
                huge pages granted, no reach gain: likely host-side 4 KiB backing (the TLB holds 4 KiB translations whatever the guest maps)
                """
            case .reachGain(let f): return f.isInfinite ? """
                huge pages granted and they extend the TLB reach beyond the sweep (no first-level knee up to \(TLBHarness.maxPages) pages)
                """
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

    /// The fact rows' metrics; the knee (1 = the first-level TLB) is the row's `tlb_level` parameter.
    public static let reachPages = "reach_pages", reachBytes = "reach_bytes", missExtraNs = "miss_extra_ns"

    /// Fact rows: reach_pages / reach_bytes / miss_extra_ns per knee (`tlb_level`) of 4k and 2m,
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
            func fact(_ metric: String, level: Int, _ unit: String, _ value: Double, _ pages: Int?, _ note: String) -> Record {
                var r = Record(harness: "tlb", mechanism: variant, placement: Placement.sameCPU.rawValue, cpus: [cpu],
                               tasks: 1, pageSizeBytes: pageSize, workingSetPages: pages,
                               parameters: [CaseParameter(.tlbLevel, level)], metric: metric, unit: unit,
                               samples: [value], opsPerSample: 0)
                r.addNote(note)
                return r
            }
            if knees.isEmpty {
                var r = Record(harness: "tlb", mechanism: variant, placement: Placement.sameCPU.rawValue, cpus: [cpu],
                               tasks: 1, pageSizeBytes: pageSize, parameters: [CaseParameter(.tlbLevel, 1)], metric: reachPages,
                               unit: "pages", samples: [], opsPerSample: 0)
                r.addNote("no knee found in \(variant) − control over the sweep")
                out.append(r)
            }
            for (i, k) in knees.enumerated() {
                let level = i + 1
                let name = levelName(i)
                let pages = Int(k.lastBelow)
                let searched = i == 0 && vote?.reach != nil
                let bracket: String
                if searched, let vote {
                    bracket = "reach from repeated searches on \(variant) − control: " + vote.summary
                        + "; the sweep's own curve: \(sweepReach.map { "\($0) pages" } ?? "no knee")"
                } else if k.fullAt > k.firstAbove {
                    bracket = """
                        soft knee of \(variant) − control: under a quarter of the step up to \(Int(k.lastBelow)) pages, past it at \
                        \(Int(k.firstAbove)), three quarters by \(Int(k.fullAt))
                        """
                } else {
                    bracket = "knee of \(variant) − control between \(Int(k.lastBelow)) and \(Int(k.firstAbove)) pages"
                }
                var level3 = [fact(reachPages, level: level, "pages", k.lastBelow, pages, "\(name): \(bracket)"),
                              fact(reachBytes, level: level, "bytes", k.lastBelow * Double(PageRegion.smallPage), pages,
                                   "\(name): reach in 4 KiB-strided bytes"),
                              fact(missExtraNs, level: level, "ns", k.step, pages,
                                   String(format: "\(name): extra ns per access beyond the reach (level %.2f → %.2f ns over control)", k.lower, k.upper))]
                if searched, let vote {
                    for j in level3.indices where level3[j].metric != missExtraNs {
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
            out.append(hugeRatioRecord(knees4k: k4, knees2m: k2, granted: granted, cpu: cpu))
        }
        return out
    }

    /// The huge_page_reach_ratio row: 2 MiB first-level reach ÷ 4 KiB's, with the 2 MiB verdict in its
    /// `outcome` fact and note.
    static func hugeRatioRecord(knees4k k4: [Knee], knees2m k2: [Knee], granted: Bool, cpu: Int) -> Record {
        let outcome = hugeOutcome(granted: granted, knees4k: k4, knees2m: k2)
        let ratio: Double? = {
            guard let a = k4.first else { return nil }
            guard let b = k2.first else { return Double(TLBHarness.maxPages) / a.lastBelow }
            return b.lastBelow / a.lastBelow
        }()
        var r = Record(harness: "tlb", mechanism: "2m", placement: Placement.sameCPU.rawValue, cpus: [cpu], tasks: 1,
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
        return r
    }
}
