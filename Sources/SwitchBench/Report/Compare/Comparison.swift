import Foundation


/// `switchbench compare`: the cases of two runs matched by key, each classed by whether it changed
/// beyond the threshold *and* beyond noise.
public struct Comparison: Sendable {
    public enum Class: String, Sendable, Codable, CaseIterable {
        case regression, improvement, unchanged, new, missing
        /// Moved beyond threshold and noise, but by no more than a reason not to count it can explain
        /// (`Classification.swift`, `vetoes`/`decide`; docs/compare.md, "Vetoes"): a side's CV above
        /// `Statistics.noisyCV` (up to 1 + 3 CV), busy neighbours (up to 1/(1 − share)), `unpinned` (up to its
        /// cross-cpu ÷ same-cpu rows), or a fact row with fewer than 3 samples against a one-run baseline
        /// (no noise estimate); or a harness's own rule, the drift of a one-run baseline's group, or reruns
        /// that did not confirm it. Shown, never gated.
        case noisy
    }

    public struct Case: Sendable, Codable {
        public var key: CaseKey
        public var harness: String { key.harness }
        public var placement: String { key.placement }
        public var workingSetPages: Int? { key.workingSetPages }
        public var metric: String { key.metric }
        public var unit: String
        public var baselineMedian: Double?
        public var currentMedian: Double?
        /// current ÷ baseline.
        public var ratio: Double?
        /// Whether the 95 % CIs of the medians overlap (nil when a side is absent).
        public var ciOverlap: Bool?
        /// Mann–Whitney p on the stored samples (nil when a side has too few samples).
        public var pValue: Double?
        public var beyondThreshold: Bool
        public var beyondNoise: Bool
        public var classification: Class
        /// Validity of each side (nil when absent).
        public var baselineValid: Bool?
        public var currentValid: Bool?
        public var note: String

        public var label: String { key.label }

        /// A regression or an improvement: what the rules after classification may demote.
        public var isChange: Bool { classification == .regression || classification == .improvement }

        /// The note in Chinese, for `markdown(lang: .zh)` (never in CSV or JSON).
        public var noteZh: String = ""

        enum CodingKeys: String, CodingKey {
            case key, unit, baselineMedian, currentMedian, ratio, ciOverlap, pValue, beyondThreshold, beyondNoise,
                 classification, baselineValid, currentValid, note
        }

        /// The note in a language.
        public func note(_ lang: Language) -> String { lang == .en ? note : noteZh }

        /// Shown but never gated, with the reason added to the note.
        mutating func demote(_ why: (en: String, zh: String)) {
            classification = .noisy
            note = note.isEmpty ? why.en : note + "; " + why.en
            noteZh = noteZh.isEmpty ? why.zh : noteZh + "；" + why.zh
        }
    }

    /// A fingerprint fact that differs between the two runs.
    public struct EnvironmentChange: Sendable, Codable {
        public var fact: String
        public var baseline: String
        public var current: String
        /// kernel, CPU, virtualization, mitigations, build: changes that move numbers by themselves.
        public var important: Bool

        /// Recorded by one run only ("" on the other side: a CSV written before the column): unknown, not the same.
        public var unrecorded: Bool { baseline.isEmpty != current.isEmpty }

        /// "cpu_family '6' → '25'", or "cpu_family not recorded in the baseline (current '6')".
        public func text(_ lang: Language) -> String {
            let (tick, q) = lang == .en ? ("", "'") : ("`", "`")   // identifiers as code in Chinese prose
            let name = tick + fact + tick
            if unrecorded && baseline.isEmpty {
                return lang.t("\(name) not recorded in the baseline (current \(q)\(current)\(q)): unknown, not the same",
                              "基线没有记录 \(name)（本次为 \(q)\(current)\(q)）：未知，不算相同")
            }
            if unrecorded {
                return lang.t("\(name) not recorded in the current run (baseline \(q)\(baseline)\(q)): unknown, not the same",
                              "本次没有记录 \(name)（基线为 \(q)\(baseline)\(q)）：未知，不算相同")
            }
            return "\(name) \(q)\(baseline)\(q) → \(q)\(current)\(q)"
        }
    }

    public var baselineSource: String
    public var currentSource: String
    /// Runs of each case in the baseline (the most of any case): 1, or k when k CSVs were concatenated.
    public var baselineRuns: Int = 1
    public var threshold: Double
    public var alpha: Double
    public var cases: [Case]
    public var environmentChanges: [EnvironmentChange]
    /// Duplicate keys seen within one input (the first row of a key is used).
    public var duplicates: [String]
    /// Gate even when the runs come from different machines (`compare --across-machines`).
    public var acrossMachines = false
    /// The reruns a change had to appear in again to count (`confirm(by:)`; `compare --confirm`).
    public var confirmedBy: [String] = []
    /// With a multi-run baseline: the smallest change it can gate, per (harness, placement), in baseline order.
    public var gateLimits: [GateLimit] = []
    /// `compare --require-gate`: the slowdown (a fraction, 0.25 = +25 %) every gated group must be able to
    /// see; when one cannot, the exit status is `cannotGateExit`. nil: nothing required.
    public var requiredGate: Double? = nil

    /// Facts that make two runs different machines (`Environment.machineColumns`, the parts of
    /// `Environment.machineID`): a difference in any of them means the numbers measure the hardware, not the code.
    public static let machineFacts = Set(Environment.machineColumns)

    /// The environment changes that make the runs not comparable: another CPU model, vendor, family, model,
    /// stepping or caches, another number of online CPUs, another virtualization, or one of them recorded by
    /// one run only (unknown is not the same). A kernel, mitigation or build change is not one (tracking
    /// a kernel upgrade is a main use of compare): it gates, with the warning.
    public var machineChanges: [EnvironmentChange] { environmentChanges.filter { Self.machineFacts.contains($0.fact) } }
    public var comparable: Bool { machineChanges.isEmpty }

    public var regressions: [Case] { cases.filter { $0.classification == .regression } }
    public func count(_ c: Class) -> Int { cases.filter { $0.classification == c }.count }
    /// Regressions or improvements whose row is invalid on either side.
    public var invalidChanges: [Case] {
        cases.filter { $0.isChange &&
            ($0.baselineValid == false || $0.currentValid == false) }
    }
    public var invalidRows: [Case] { cases.filter { $0.baselineValid == false || $0.currentValid == false } }

    /// Exit status: 3 when the runs come from different machines (nothing gated) unless
    /// `acrossMachines`; else 1 when a regression was found; else 4 when `requiredGate` is set and the
    /// baseline cannot gate it (`cannotGate`); else 0 (bad input never gets this far: it throws).
    public var exitCode: Int32 {
        if !comparable && !acrossMachines { return Self.notComparableExit }
        if !regressions.isEmpty { return 1 }
        return cannotGate ? Self.cannotGateExit : 0
    }
    public static let notComparableExit: Int32 = 3
    /// `--require-gate` not met: a gated group (or the whole baseline) cannot see the required slowdown.
    public static let cannotGateExit: Int32 = 4

    /// The size the first line of the Markdown measures the groups against: `requiredGate`, else the
    /// NOISY BASELINE limit (+50 %).
    public var gateSize: Double { requiredGate ?? Self.noisyBaselineLimit }

    /// The groups whose smallest gated change is larger than `gateSize`: a slowdown of that size there
    /// would pass as "unchanged".
    public var blindGroups: [GateLimit] { gateLimits.filter { $0.smallestChange > gateSize } }

    /// `requiredGate` is set and not met: a group is blind to it, or the baseline has no group with a
    /// known limit (one run: its run-to-run spread, hence what it can gate, is unknown).
    public var cannotGate: Bool {
        guard requiredGate != nil else { return false }
        return gateLimits.isEmpty || !blindGroups.isEmpty
    }

    /// Time-like units: higher is worse. Rates (`/s`, `per second`, `ops`) are higher-is-better.
    public static func higherIsWorse(unit: String, metric: String) -> Bool {
        let u = unit.lowercased()
        if u.contains("/s") || u.contains("per second") || u.contains("ops") || metric.lowercased().contains("throughput") {
            return false
        }
        return true
    }

    public static let importantFacts: Set<String> = Set(Environment.machineColumns + ["kernel", "mitigations", "build"])
    static let facts = ["kernel"] + Environment.machineColumns + ["mitigations", "build", "pcid", "thp", "host", "suite_version", "git_commit"]

    /// Compares two loaded runs. Throws `.usage` when they have no case in common.
    public static func make(baseline: (run: RunResult, fields: [[String: String]]), baselineSource: String,
                            current: (run: RunResult, fields: [[String: String]]), currentSource: String,
                            threshold: Double = 0.10, alpha: Double = 0.01, acrossMachines: Bool = false) throws -> Comparison {
        var duplicates: [String] = []
        // A baseline may hold several runs (CSVs concatenated): every row of a key is one run of it,
        // and their spread is the run-to-run noise that one run's CI cannot show.
        var baseRuns: [CaseKey: [Record]] = [:]
        for r in baseline.run.records { baseRuns[r.key, default: []].append(r) }
        let base = baseRuns.mapValues { $0[0] }
        var cur: [CaseKey: Record] = [:]
        for r in current.run.records {
            if cur[r.key] == nil { cur[r.key] = r } else { duplicates.append("\(currentSource): \(r.label)") }
        }
        guard !Set(base.keys).isDisjoint(with: cur.keys) else {
            throw SwitchBenchError.usage("\(baselineSource) and \(currentSource) have no case in common (matched on harness…metric); nothing to compare")
        }
        let order = (baseline.run.records + current.run.records).map(\.key).orderedUnique()
        let noise = runNoise(baseRuns)
        var cases = order.map { key -> Case in
            let any = (cur[key] ?? base[key])!
            return classify(key: key, baseRuns: baseRuns[key] ?? [], cur: cur[key], threshold: threshold, alpha: alpha,
                            runNoise: noise[group(any.harness, any.placement)],
                            siblings: pinnedSiblings(key, baseline: baseline.run.records, current: current.run.records))
        }
        // Rules of the harness that owns a case (a derived row, a page-walk-bound TLB point): such
        // changes are shown, never counted; the harness says why.
        for i in cases.indices where cases[i].isChange {
            let owners = Registry.harnesses.filter { $0.id == cases[i].harness }
            if let why = owners.lazy.compactMap({ $0.compareExemption(cases[i], baseline: base, current: cur) }).first {
                cases[i].demote(why)
            }
        }
        let runsPerCase = baseRuns.values.map(\.count).max() ?? 1
        if runsPerCase == 1 { demoteDrift(&cases) }
        var comparison = Comparison(baselineSource: baselineSource, currentSource: currentSource, baselineRuns: runsPerCase, threshold: threshold,
                                    alpha: alpha, cases: cases,
                                    environmentChanges: environmentChanges(baseline.fields, current.fields),
                                    duplicates: duplicates, acrossMachines: acrossMachines)
        if runsPerCase > 1 {
            comparison.gateLimits = gateLimits(baseline.run.records, noise: noise, runs: runsPerCase, threshold: threshold)
        }
        return comparison
    }

    /// Run-to-run noise, pooled per (harness, placement): the spread of log run medians around each
    /// case's mean, summed over every case of the group that has ≥ 2 runs (a pooled variance, as in
    /// a one-way ANOVA). Many cases give many degrees of freedom even from 3 runs.
    /// Robust: the median of the cases' variances (a few wild cases — a Swift task on the global
    /// executor, a huge working set — must not widen everyone's interval), scaled to a variance
    /// estimate by the median of χ²(k−1)/(k−1).
    static func runNoise(_ baseRuns: [CaseKey: [Record]]) -> [String: RunNoise] {
        var variances: [String: (vars: [Double], df: Int)] = [:]
        for runs in baseRuns.values where runs.count >= 2 {
            let logs = runs.compactMap { $0.stats?.median }.filter { $0 > 0 }.map { log($0) }
            guard logs.count >= 2 else { continue }
            let mean = logs.reduce(0, +) / Double(logs.count)
            let g = group(runs[0].harness, runs[0].placement)
            variances[g, default: ([], 0)].vars.append(logs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(logs.count - 1))
            variances[g, default: ([], 0)].df += logs.count - 1
        }
        return variances.compactMapValues { v -> RunNoise? in
            guard v.df > 0, !v.vars.isEmpty else { return nil }
            let k = max(1, v.df / v.vars.count)   // runs − 1 of a typical case
            let chiMedianOverDF = [0.455, 0.693, 0.789, 0.839, 0.870, 0.891, 0.907, 0.918, 0.927, 0.934][min(k, 10) - 1]
            let med = Statistics.quantile(v.vars.sorted(), 0.5)
            return RunNoise(sdLog: (med / chiMedianOverDF).squareRoot(), df: v.df)
        }
    }

    /// The same-cpu and cross-cpu medians of an unpinned case (the same key but its placement and CPUs), in
    /// each run that has both: what the scheduler's choice of CPUs can make of it. Empty for a pinned case.
    static func pinnedSiblings(_ key: CaseKey, baseline: [Record], current: [Record]) -> PinnedSiblings {
        guard key.placement == Placement.unpinned.rawValue else { return PinnedSiblings() }
        func median(_ records: [Record], _ placement: Placement) -> Double? {
            records.first { r in
                let k = r.key
                return k.placement == placement.rawValue && k.harness == key.harness && k.mechanism == key.mechanism
                    && k.tasks == key.tasks && k.footprintBytes == key.footprintBytes && k.pageSizeBytes == key.pageSizeBytes
                    && k.workingSetPages == key.workingSetPages && k.metric == key.metric
            }?.stats?.median
        }
        var s = PinnedSiblings()
        for records in [baseline, current] {
            if let same = median(records, .sameCPU), let cross = median(records, .crossCPU) { s.medians.append((same, cross)) }
        }
        return s
    }

    /// One baseline run: the within-run CIs cannot see run-to-run drift, which on a shared machine moves
    /// single cases by 10–20 % (measured: 2–3 false regressions in each of 5 pairs of back-to-back
    /// `--all --quick` runs without this). Estimate that drift from the run itself: the spread (MAD) of the
    /// log ratios of every case of the same harness and placement, most of which did not change. A case
    /// counts only when its change stands out from that spread. The test is against no change, not against
    /// the group's median, so a shift of a whole harness (a new kernel) still shows when its cases move together.
    static func demoteDrift(_ cases: inout [Case]) {
        var groups: [String: [Double]] = [:]
        for c in cases {
            guard let r = c.ratio, r > 0, c.baselineMedian != nil, c.currentMedian != nil else { continue }
            groups[group(c.harness, c.placement), default: []].append(log(r))
        }
        for i in cases.indices where cases[i].isChange {
            guard let r = cases[i].ratio, let logs = groups[group(cases[i].harness, cases[i].placement)],
                  logs.count >= Self.driftMinCases else { continue }
            let center = Statistics.quantile(logs.sorted(), 0.5)
            let mad = Statistics.quantile(logs.map { abs($0 - center) }.sorted(), 0.5)
            let bound = Self.driftZ * 1.4826 * mad
            if abs(log(r)) <= bound {
                let (pct, width) = ((r - 1) * 100, (exp(bound) - 1) * 100)
                cases[i].demote((String(format: "%+.0f %% is within the run-to-run drift of the %d %@ %@ cases (±%.0f %%: %g × their MAD); not counted",
                                        pct, logs.count, cases[i].harness, cases[i].placement, width, Self.driftZ),
                                 String(format: "%+.0f %% 落在同组 %d 个用例（%@ %@）的运行间漂移之内（±%.0f %%，即 %g 倍 MAD），不计入",
                                        pct, logs.count, cases[i].harness, cases[i].placement, width, Self.driftZ)))
            }
        }
    }

    /// What the baseline's own run-to-run noise lets it gate, per group (a typical case of the group: the
    /// group's pooled spread, as `classify` uses it): a noisy baseline must say so, or the gate silently
    /// stops working. Unpinned rows are never gated (the scheduler picks the CPUs), so they have no limit.
    static func gateLimits(_ records: [Record], noise: [String: RunNoise], runs: Int, threshold: Double) -> [GateLimit] {
        var limits: [GateLimit] = []
        let pinned = records.filter { $0.placement != Placement.unpinned.rawValue }
        for r in pinned.orderedUnique(by: { group($0.harness, $0.placement) }) {
            guard let rn = noise[group(r.harness, r.placement)] else { continue }
            let half = predictionHalfWidth(sdLog: rn.sdLog, runs: runs, priorDF: min(Self.priorDF, rn.df))
            limits.append(GateLimit(harness: r.harness, placement: r.placement, smallestChange: max(exp(half) - 1, threshold)))
        }
        return limits
    }

    /// The key of a (harness, placement) group: the cases whose run-to-run noise and drift are pooled.
    static func group(_ harness: String, _ placement: String) -> String { harness + "|" + placement }

    /// The smallest change a multi-run baseline can gate in one (harness, placement) group.
    public struct GateLimit: Sendable, Codable, Equatable {
        public var harness: String
        public var placement: String
        /// As a fraction (0.25 = a change must exceed +25 %), never below the threshold.
        public var smallestChange: Double
    }

    /// A group whose smallest gated change is above this is named in a warning: its baseline runs disagree.
    public static let noisyBaselineLimit = 0.5

    /// A change counts only when every rerun shows it again (`compare --confirm RUN`).
    ///
    /// On a shared guest the host slows this vCPU by up to 1.4× in phases of 0.05 s to tens of seconds that
    /// nothing inside the guest reports (docs/busy-machines.md, "Slow phases of the host"); one case of one
    /// run can sit wholly inside one, so a regression of one run is a suspicion. Each rerun — a fresh
    /// measurement of the case, compared with the same baseline — must classify the case the same way;
    /// otherwise the change is shown, not counted, with what the reruns read. A real regression (a slower
    /// kernel, slower code) is slower in every rerun and still counts, provided the change is larger than
    /// the runs' spread among themselves (below). A rerun that lacks the case leaves it as it is: a rerun
    /// cannot clear what it did not measure.
    public mutating func confirm(by reruns: [Comparison]) {
        guard !reruns.isEmpty else { return }
        confirmedBy = reruns.map(\.currentSource)
        let byKey = reruns.map { r in Dictionary(r.cases.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a }) }
        for i in cases.indices where cases[i].isChange {
            let seen = byKey.compactMap { $0[cases[i].key] }.filter { $0.classification != .missing }
            guard !seen.isEmpty else { continue }
            func reads(_ lang: Language) -> String {
                seen.map { Self.pct($0.ratio) + " (" + Self.className($0.classification, lang) + ")" }.joined(separator: lang.t(", ", "，"))
            }
            guard seen.allSatisfy({ $0.classification == cases[i].classification }) else {
                cases[i].demote(("not confirmed: the rerun(s) read \(reads(.en)); a change that does not persist is not counted",
                                 "重测没有确认：重测结果 \(reads(.zh))；不能重现的变化不计入"))
                continue
            }
            // The current run and its reruns also show how far this case moves from run to run here: the
            // change must be larger than that spread (the smallest of the runs' changes, against the
            // ratio of their highest to lowest median). Creation rows moved 1.3–1.6× between
            // back-to-back runs with 2–5 % CVs inside each: every run can differ from one baseline run
            // by more than the threshold while the runs differ as much among themselves.
            let medians = ([cases[i].currentMedian] + seen.map(\.currentMedian)).compactMap { $0 }.filter { $0 > 0 }
            if let b = cases[i].baselineMedian, b > 0, let lo = medians.min(), let hi = medians.max() {
                let least = cases[i].ratio.map { $0 > 1 } == true ? lo / b : b / hi   // the run closest to the baseline
                if least <= hi / lo {
                    let (spread, change) = ((hi / lo - 1) * 100, (least - 1) * 100)
                    cases[i].demote((String(format: """
                        not confirmed: the reruns read %@, but this run and its reruns differ by %.0f %% among themselves, more than the smallest change (%.0f \
                        %%); not counted
                        """, reads(.en), spread, change),
                                     String(format: "重测没有确认：重测结果 %@，但本次和重测之间就相差 %.0f %%，比最小的变化（%.0f %%）还大，不计入", reads(.zh), spread, change)))
                    continue
                }
            }
            cases[i].note += (cases[i].note.isEmpty ? "" : "; ") + "confirmed by \(seen.count) rerun(s): \(reads(.en))"
            cases[i].noteZh += (cases[i].noteZh.isEmpty ? "" : "；") + "\(seen.count) 次重测都确认：\(reads(.zh))"
        }
    }

    /// Why a derived row (computed from the `sibling` metric of the same case, by `formula`) is shown and not
    /// counted, with how far the sibling moved: a harness's `compareExemption` for such rows.
    public static func derived(_ c: Case, from sibling: String, formula: (en: String, zh: String),
                               baseline: [CaseKey: Record], current: [CaseKey: Record]) -> (en: String, zh: String) {
        let k = c.key.with(metric: sibling)
        var moved = ("", "")
        if let bs = baseline[k]?.stats, let cs = current[k]?.stats, bs.median > 0 {
            let (pct, cv0, cv1) = ((cs.median / bs.median - 1) * 100, bs.cv * 100, cs.cv * 100)
            moved = (String(format: ", which moved %+.0f %% (CV %.0f %% → %.0f %%)", pct, cv0, cv1),
                     String(format: "（它变了 %+.0f %%，CV %.0f %% → %.0f %%）", pct, cv0, cv1))
        }
        return ("derived: \(formula.en) (the \(sibling) row\(moved.0)); judged through that row, not counted",
                "推导值：\(formula.zh)（\(sibling) 行\(moved.1)）；通过那一行来判断，本行不计入")
    }

    /// A class's name in a language (the summary line, rerun notes).
    static func className(_ c: Class, _ lang: Language) -> String {
        let zh: [Class: String] = [.regression: "变慢", .improvement: "变快", .unchanged: "不变", .new: "新增", .missing: "缺失", .noisy: "噪声"]
        return lang.t(c.rawValue, zh[c]!)
    }

    static func environmentChanges(_ a: [[String: String]], _ b: [[String: String]]) -> [EnvironmentChange] {
        func values(_ rows: [[String: String]], _ k: String) -> String {
            rows.compactMap { $0[k] }.orderedUnique().joined(separator: " | ")
        }
        return facts.compactMap { k in
            let x = values(a, k), y = values(b, k)
            // A machine column empty or absent in one run (written before the column) differs: unknown, not the same.
            return !Environment.differs(k, x, y) ? nil : EnvironmentChange(fact: k, baseline: x, current: y, important: importantFacts.contains(k))
        }
    }
}
