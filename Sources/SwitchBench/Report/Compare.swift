import Foundation

/// Two-sided Mann–Whitney U (Wilcoxon rank-sum) test, normal approximation with tie correction and
/// continuity correction. Distribution-free: it asks whether one sample tends to be larger.
public enum MannWhitney {
    public struct Result: Sendable, Equatable {
        public var u: Double
        public var z: Double
        public var p: Double
    }

    /// nil when either sample has fewer than 3 values (too few for the approximation to mean anything).
    public static func test(_ a: [Double], _ b: [Double]) -> Result? {
        let n1 = a.count, n2 = b.count
        guard n1 >= 3, n2 >= 3 else { return nil }
        let all = (a.map { ($0, 0) } + b.map { ($0, 1) }).sorted { $0.0 < $1.0 }
        let n = all.count
        var ranks = [Double](repeating: 0, count: n)
        var tieTerm = 0.0
        var i = 0
        while i < n {
            var j = i
            while j + 1 < n && all[j + 1].0 == all[i].0 { j += 1 }
            let avg = Double(i + j + 2) / 2   // ranks are 1-based
            for k in i...j { ranks[k] = avg }
            let t = Double(j - i + 1)
            tieTerm += t * t * t - t
            i = j + 1
        }
        var r1 = 0.0
        for k in 0..<n where all[k].1 == 0 { r1 += ranks[k] }
        let u1 = r1 - Double(n1 * (n1 + 1)) / 2
        let mu = Double(n1 * n2) / 2
        let nn = Double(n)
        let variance = Double(n1 * n2) / 12 * ((nn + 1) - tieTerm / (nn * (nn - 1)))
        guard variance > 0 else { return Result(u: u1, z: 0, p: 1) }   // every value equal
        let diff = u1 - mu
        let corrected = diff == 0 ? 0 : (abs(diff) - 0.5) * (diff > 0 ? 1 : -1)
        let z = corrected / variance.squareRoot()
        let p = min(1, erfc(abs(z) / 2.0.squareRoot()))
        return Result(u: u1, z: z, p: p)
    }
}

/// `switchbench compare`: the cases of two runs matched by key, each classed by whether it changed
/// beyond the threshold *and* beyond noise.
public struct Comparison: Sendable {
    public enum Class: String, Sendable, Codable, CaseIterable {
        case regression, improvement, unchanged, new, missing
        /// Moved beyond threshold and noise, but a side's samples spread with CV above
        /// `Statistics.noisyCV`: the row cannot establish a change (cross-CPU and unpinned rows on a
        /// small guest are bimodal run to run), or the row is `unpinned` (the scheduler's choice of
        /// CPUs differs run to run), or a fact row with fewer than 3 samples (a knee position, a counter
        /// total). Shown, never gated.
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

    /// The environment changes that make the runs not comparable: another CPU model, another number
    /// of online CPUs, another virtualization. A kernel, mitigation or build change is not one (tracking
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

    public static let importantFacts: Set<String> = ["kernel", "cpu_model", "online_cpus", "virtualization", "mitigations", "build"]
    static let facts = ["kernel", "cpu_model", "online_cpus", "virtualization", "mitigations", "build", "pcid", "thp", "host",
                        "suite_version", "git_commit"]

    /// Compares two loaded runs. Throws `.usage` when they have no case in common.
    public static func make(baseline: (run: RunResult, fields: [[String: String]]), baselineSource: String,
                            current: (run: RunResult, fields: [[String: String]]), currentSource: String,
                            threshold: Double = 0.10, alpha: Double = 0.01, acrossMachines: Bool = false) throws -> Comparison {
        var duplicates: [String] = []
        func index(_ records: [Record], _ source: String) -> [CaseKey: Record] {
            var d: [CaseKey: Record] = [:]
            for r in records {
                if d[r.key] == nil { d[r.key] = r } else { duplicates.append("\(source): \(r.label)") }
            }
            return d
        }
        // A baseline may hold several runs (CSVs concatenated): every row of a key is one run of it,
        // and their spread is the run-to-run noise that one run's CI cannot show.
        var baseRuns: [CaseKey: [Record]] = [:]
        for r in baseline.run.records { baseRuns[r.key, default: []].append(r) }
        let base = baseRuns.mapValues { $0[0] }
        let cur = index(current.run.records, currentSource)
        let common = Set(base.keys).intersection(cur.keys)
        guard !common.isEmpty else {
            throw SwitchBenchError.usage("\(baselineSource) and \(currentSource) have no case in common (matched on harness…metric); nothing to compare")
        }
        var order: [CaseKey] = []
        var seen = Set<CaseKey>()
        for r in baseline.run.records + current.run.records where !seen.contains(r.key) {
            seen.insert(r.key)
            order.append(r.key)
        }
        // Run-to-run noise, pooled per (harness, placement): the spread of log run medians around each
        // case's mean, summed over every case of the group that has ≥ 2 runs (a pooled variance, as in
        // a one-way ANOVA). Many cases give many degrees of freedom even from 3 runs.
        // Robust: the median of the cases' variances (a few wild cases — a Swift task on the global
        // executor, a huge working set — must not widen everyone's interval), scaled to a variance
        // estimate by the median of χ²(k−1)/(k−1).
        var variances: [String: (vars: [Double], df: Int)] = [:]
        for runs in baseRuns.values where runs.count >= 2 {
            let logs = runs.compactMap { $0.stats?.median }.filter { $0 > 0 }.map { log($0) }
            guard logs.count >= 2 else { continue }
            let mean = logs.reduce(0, +) / Double(logs.count)
            let g = group(runs[0].harness, runs[0].placement)
            variances[g, default: ([], 0)].vars.append(logs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(logs.count - 1))
            variances[g, default: ([], 0)].df += logs.count - 1
        }
        let noise = variances.compactMapValues { v -> RunNoise? in
            guard v.df > 0, !v.vars.isEmpty else { return nil }
            let k = max(1, v.df / v.vars.count)   // runs − 1 of a typical case
            let chiMedianOverDF = [0.455, 0.693, 0.789, 0.839, 0.870, 0.891, 0.907, 0.918, 0.927, 0.934][min(k, 10) - 1]
            let sorted = v.vars.sorted()
            let med = Statistics.quantile(sorted, 0.5)
            return RunNoise(sdLog: (med / chiMedianOverDF).squareRoot(), df: v.df)
        }
        var cases = order.map { key -> Case in
            let any = (cur[key] ?? base[key])!
            return classify(key: key, baseRuns: baseRuns[key] ?? [], cur: cur[key], threshold: threshold, alpha: alpha,
                            runNoise: noise[group(any.harness, any.placement)])
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
        // One baseline run: the within-run CIs above cannot see run-to-run drift, which on a shared
        // machine moves single cases by 10–20 % (measured: 2–3 false regressions in each of 5 pairs of
        // back-to-back `--all --quick` runs without this). Estimate that drift from the run itself: the
        // spread (MAD) of the log ratios of every case of the same harness and placement, most of which
        // did not change. A case counts only when its change stands out from that spread. The test is
        // against no change, not against the group's median, so a shift of a whole harness (a new
        // kernel) still shows when its cases move together.
        if runsPerCase == 1 {
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
        var comparison = Comparison(baselineSource: baselineSource, currentSource: currentSource, baselineRuns: runsPerCase, threshold: threshold,
                                    alpha: alpha, cases: cases,
                                    environmentChanges: environmentChanges(baseline.fields, current.fields),
                                    duplicates: duplicates, acrossMachines: acrossMachines)
        // What the baseline's own run-to-run noise lets it gate, per group (a typical case of the group:
        // the group's pooled spread, as `classify` uses it): a noisy baseline must say so, or the gate
        // silently stops working.
        if runsPerCase > 1 {
            var seenGroups = Set<String>()
            // Unpinned rows are never gated (the scheduler picks the CPUs), so they have no limit to show.
            for r in baseline.run.records where r.placement != Placement.unpinned.rawValue {
                let g = group(r.harness, r.placement)
                guard seenGroups.insert(g).inserted, let rn = noise[g] else { continue }
                let half = predictionHalfWidth(sdLog: rn.sdLog, runs: runsPerCase, priorDF: min(Self.priorDF, rn.df))
                comparison.gateLimits.append(GateLimit(harness: r.harness, placement: r.placement, smallestChange: max(exp(half) - 1, threshold)))
            }
        }
        return comparison
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
                    cases[i].demote((String(format: "not confirmed: the reruns read %@, but this run and its reruns differ by %.0f %% among themselves, more than the smallest change (%.0f %%); not counted", reads(.en), spread, change),
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

    /// Run-to-run noise of a group of cases: the pooled standard deviation of log run medians.
    public struct RunNoise: Sendable {
        public var sdLog: Double
        public var df: Int
    }

    /// Single-run baselines: a change must exceed this many robust standard deviations (1.4826 × MAD)
    /// of the log ratios of its group's cases, when the group has at least `driftMinCases` cases.
    public static let driftZ = 5.0
    public static let driftMinCases = 8

    /// Weight, in runs, of the group's pooled run-to-run variance in each case's moderated variance.
    public static let priorDF = 4

    /// Half-width, in log units, of the 99 % prediction interval for a new run's median from `runs` baseline
    /// runs with spread `sdLog` (moderated with `priorDF` degrees of freedom of the group's spread).
    static func predictionHalfWidth(sdLog: Double, runs: Int, priorDF: Int) -> Double {
        t995(df: runs - 1 + priorDF) * sdLog * (1 + 1 / Double(runs)).squareRoot()
    }

    static func t995(df: Int) -> Double { df >= 1 && df <= t995.count ? t995[df - 1] : 2.576 }

    static func classify(key: CaseKey, baseRuns: [Record], cur: Record?, threshold: Double, alpha: Double,
                         runNoise: RunNoise? = nil) -> Case {
        let base = baseRuns.first
        let any = (cur ?? base)!
        var c = Case(key: key, unit: any.unit,
                     baselineMedian: base?.stats?.median, currentMedian: cur?.stats?.median, ratio: nil,
                     ciOverlap: nil, pValue: nil, beyondThreshold: false, beyondNoise: false,
                     classification: .unchanged, baselineValid: base?.valid, currentValid: cur?.valid, note: "")
        var notes: [(String, String)] = []
        func finish() {
            c.note = notes.map(\.0).joined(separator: "; ")
            c.noteZh = notes.map(\.1).joined(separator: "；")
        }
        guard let base else { c.classification = .new; return c }
        guard let cur else { c.classification = .missing; return c }
        if !base.valid { notes.append(("baseline row invalid", "基线这一行无效")) }
        if !cur.valid { notes.append(("current row invalid", "本次这一行无效")) }
        guard let bs = base.stats, let cs = cur.stats else {
            notes.append(("no timing on one side", "有一边没有计时"))
            finish()
            return c
        }
        let overlap: Bool
        let runs = baseRuns.compactMap(\.stats)
        if runs.count >= 2 {
            // Several baseline runs: the median of their medians, and noise = the envelope of all
            // their CIs (the current CI must lie outside every run's); no rank test on pooled samples,
            // which would mistake run-to-run shifts for a change.
            let medians = runs.map(\.median).sorted()
            let center = Statistics.quantile(medians, 0.5)
            c.baselineMedian = center
            if center != 0 { c.ratio = cs.median / center }
            let lo = runs.map(\.ci95Low).min()!, hi = runs.map(\.ci95High).max()!
            overlap = !(cs.ci95Low > hi || cs.ci95High < lo)
            c.baselineValid = baseRuns.allSatisfy(\.valid)
            let logs = runs.map(\.median).filter { $0 > 0 }.map { log($0) }
            if let rn = runNoise, logs.count == runs.count, cs.median > 0 {
                // Where a new run's median falls with 99 % probability, on a log scale, from the
                // group's pooled run-to-run spread (Student t with the pooled degrees of freedom).
                let center = logs.reduce(0, +) / Double(logs.count)
                // Moderated variance (empirical Bayes, as limma does): the case's own spread of run
                // medians shrunk toward the group's pooled one, which counts as `priorDF` runs; a case
                // that wanders more than its group (a large TLB working set) keeps its wider spread.
                let ownDF = logs.count - 1
                let ownVar = logs.reduce(0) { $0 + ($1 - center) * ($1 - center) } / Double(ownDF)
                let priorDF = min(Self.priorDF, rn.df)
                let sd = ((Double(ownDF) * ownVar + Double(priorDF) * rn.sdLog * rn.sdLog) / Double(ownDF + priorDF)).squareRoot()
                let half = Self.predictionHalfWidth(sdLog: sd, runs: logs.count, priorDF: priorDF)
                c.beyondNoise = abs(log(cs.median) - center) > half
                let (lo, hi) = (Self.fmt(medians.first, unit: cur.unit), Self.fmt(medians.last, unit: cur.unit))
                let (plo, phi) = (Self.fmt(exp(center - half), unit: cur.unit), Self.fmt(exp(center + half), unit: cur.unit))
                notes.append((String(format: "baseline: %d runs, medians %@ – %@; run-to-run noise ±%.1f %% (group ±%.1f %%): 99 %% prediction %@ – %@",
                                     runs.count, lo, hi, (exp(sd) - 1) * 100, (exp(rn.sdLog) - 1) * 100, plo, phi),
                              String(format: "基线 %d 次运行，中位数 %@ – %@；运行间噪声 ±%.1f %%（同组 ±%.1f %%）：99 %% 预测区间 %@ – %@",
                                     runs.count, lo, hi, (exp(sd) - 1) * 100, (exp(rn.sdLog) - 1) * 100, plo, phi)))
            } else {
                c.beyondNoise = !overlap
                let (lo, hi) = (Self.fmt(medians.first, unit: cur.unit), Self.fmt(medians.last, unit: cur.unit))
                notes.append(("baseline: \(runs.count) runs, medians \(lo) – \(hi), CI envelope", "基线 \(runs.count) 次运行，中位数 \(lo) – \(hi)，取各次置信区间的包络"))
            }
        } else {
            if bs.median != 0 { c.ratio = cs.median / bs.median }
            overlap = !(cs.ci95Low > bs.ci95High || bs.ci95Low > cs.ci95High)
            c.pValue = MannWhitney.test(base.sampleValues, cur.sampleValues)?.p
            c.beyondNoise = !overlap || (c.pValue.map { $0 < alpha } ?? false)
        }
        c.ciOverlap = overlap
        if let r = c.ratio { c.beyondThreshold = abs(r - 1) > threshold }
        if c.beyondThreshold && c.beyondNoise, let r = c.ratio {
            let worse = higherIsWorse(unit: cur.unit, metric: cur.metric) ? r > 1 : r < 1
            let pct = (r - 1) * 100
            let zhDir = worse ? "变差" : "变好"
            if base.sampleValues.count < 3 || cur.sampleValues.count < 3 || cur.opsPerSample == 0 {
                c.classification = .noisy
                notes.append((String(format: "%@ by %+.0f %% but a derived fact or single value (%d → %d samples): no noise estimate; not counted",
                                     worse ? "worse" : "better", pct, base.sampleValues.count, cur.sampleValues.count),
                              String(format: "%@ %+.0f %%，但这是推导出的事实或单个值（%d → %d 个样本），无法估计噪声，不计入",
                                     zhDir, pct, base.sampleValues.count, cur.sampleValues.count)))
            } else if Neighbours.invalidatedByNeighbours(base) || Neighbours.invalidatedByNeighbours(cur) {
                // Invalid because other tasks kept the CPUs busy and the row's time depends on them: the change may be theirs.
                c.classification = .noisy
                notes.append((String(format: "%@ by %+.0f %% but invalid: other tasks kept the CPUs busy (%@) and this row's time depends on them (see its note); not counted",
                                     worse ? "slower" : "faster", pct, Neighbours.rules(.en)),
                              String(format: "%@ %+.0f %%，但这一行无效：别的程序当时让 CPU 很忙（%@），而这一行的耗时受它们影响（见该行的说明），不计入",
                                     zhDir, pct, Neighbours.rules(.zh))))
            } else if cur.placement == Placement.unpinned.rawValue {
                c.classification = .noisy
                notes.append((String(format: "%@ by %+.0f %% but unpinned: the scheduler picks the CPUs, so runs differ by placement; not counted",
                                     worse ? "slower" : "faster", pct),
                              String(format: "%@ %+.0f %%，但没有绑核：CPU 由调度器挑选，每次运行的位置都不同，不计入", zhDir, pct)))
            } else if (runs.count >= 2 ? runs.filter(\.isNoisy).count * 2 > runs.count : bs.isNoisy) || cs.isNoisy {
                c.classification = .noisy
                let (cv0, cv1, limit) = (Statistics.quantile(runs.map(\.cv).sorted(), 0.5) * 100, cs.cv * 100, Statistics.noisyCV * 100)
                notes.append((String(format: "%@ by %+.0f %% but CV %.0f %% → %.0f %% (> %.0f %%): not counted", worse ? "slower" : "faster", pct, cv0, cv1, limit),
                              String(format: "%@ %+.0f %%，但 CV %.0f %% → %.0f %%（超过 %.0f %%），不计入", zhDir, pct, cv0, cv1, limit)))
            } else {
                c.classification = worse ? .regression : .improvement
            }
        } else if c.beyondThreshold {
            notes.append(("beyond threshold but within noise", "超过阈值，但在噪声之内"))
        }
        finish()
        return c
    }

    /// Two-sided 99 % Student t quantiles t(0.995, df), df = 1…30.
    static let t995: [Double] = [63.657, 9.925, 5.841, 4.604, 4.032, 3.707, 3.499, 3.355, 3.250, 3.169, 3.106, 3.055,
                                 3.012, 2.977, 2.947, 2.921, 2.898, 2.878, 2.861, 2.845, 2.831, 2.819, 2.807, 2.797,
                                 2.787, 2.779, 2.771, 2.763, 2.756, 2.750]

    static func environmentChanges(_ a: [[String: String]], _ b: [[String: String]]) -> [EnvironmentChange] {
        func values(_ rows: [[String: String]], _ k: String) -> String {
            var seen: [String] = []
            for r in rows { if let v = r[k], !seen.contains(v) { seen.append(v) } }
            return seen.joined(separator: " | ")
        }
        return facts.compactMap { k in
            let x = values(a, k), y = values(b, k)
            // online_cpus is empty or absent in runs written before the column: unknown, not a difference.
            return !Environment.differs(k, x, y) ? nil : EnvironmentChange(fact: k, baseline: x, current: y, important: importantFacts.contains(k))
        }
    }

    // MARK: Rendering

    static func fmt(_ v: Double?, unit: String) -> String { Format.value(v, unit: unit) }

    static func pct(_ r: Double?) -> String {
        guard let r else { return "–" }
        return String(format: "%+.1f %%", (r - 1) * 100)
    }

    /// Warnings a reader must see before the table: environment changes, invalid rows, duplicates.
    /// Warnings a reader must see before the table, in English (stderr, JSON).
    public var warnings: [String] { warnings(.en) }

    public func warnings(_ lang: Language) -> [String] {
        var w: [String] = []
        if !comparable {
            let (tick, q) = lang == .en ? ("", "'") : ("`", "`")   // identifiers as code in Chinese prose
            let diff = machineChanges.map { "\(tick)\($0.fact)\(tick) \(q)\($0.baseline)\(q) → \(q)\($0.current)\(q)" }.joined(separator: "; ")
            w.append(acrossMachines
                ? lang.t("DIFFERENT MACHINES (\(diff)); gated anyway (--across-machines): a change may be the hardware's, not the code's.",
                         "不同机器（\(diff)）；按 `--across-machines` 照样判定：变化可能来自硬件，而不是代码。")
                : lang.t("NOT COMPARABLE — the runs come from different machines (\(diff)): nothing is gated (exit 3). " +
                         "Compare against a baseline made on this machine (results/baselines/<machine id>.csv; `switchbench env --machine-id`), or pass --across-machines to gate anyway.",
                         "不可比——两次运行来自不同机器（\(diff)）：不作任何判定（退出码 3）。" +
                         "请与本机做的基线比较（`results/baselines/<machine id>.csv`，见 `switchbench env --machine-id`），或加 `--across-machines` 照样判定。"))
        }
        let important = environmentChanges.filter(\.important)
        if !important.isEmpty {
            let tick = lang == .en ? "" : "`"   // identifiers as code in Chinese prose
            let q = lang == .en ? "'" : "`"
            let list = important.map { "\(tick)\($0.fact)\(tick) \(q)\($0.baseline)\(q) → \(q)\($0.current)\(q)" }.joined(separator: "; ")
            let kernel = important.contains { $0.fact == "kernel" }
            w.append(lang.t("ENVIRONMENT DIFFERS — these numbers may have moved for that reason, not because of the code: " + list
                                + (kernel ? ". A kernel change is news, not noise." : "."),
                            "环境不同——这些数字的变化可能来自环境，而不是代码：" + list + (kernel ? "。换了内核本身就是新闻，不是噪声。" : "。")))
        }
        let loose = gateLimits.filter { $0.smallestChange > Self.noisyBaselineLimit }
        if !loose.isEmpty {
            let list = loose.map { String(format: "%@ %@ +%.0f %%", lang == .en ? $0.harness : "`\($0.harness)`", lang == .en ? $0.placement : "`\($0.placement)`", $0.smallestChange * 100) }
                .joined(separator: lang.t(", ", "，"))
            w.append(lang.t("NOISY BASELINE — its \(baselineRuns) runs disagree, so in these groups only a slowdown larger than shown can be gated: \(list). Make it again in a quieter minute (scripts/ci-regression.sh --refresh) or with more runs (RUNS=5).",
                            "基线噪声大——它的 \(baselineRuns) 次运行彼此不一致，这些组里只有超过下列幅度的变慢才能被判定：\(list)。请在机器更安静时重做基线（`scripts/ci-regression.sh --refresh`），或多跑几次（`RUNS=5`）。"))
        }
        let inv = invalidChanges
        if !inv.isEmpty {
            let list = inv.map { lang == .en ? $0.label : "`\($0.label)`" }.joined(separator: "; ")
            w.append(lang.t("\(inv.count) regression/improvement(s) involve a row marked valid=false (its switch count or setup was off): " + list + ". Check the row's note before trusting the change.",
                            "有 \(inv.count) 个变慢/变快涉及标为 valid=false 的行（切换次数或设置不对）：" + list + "。相信这个变化之前，先看看那一行的说明。"))
        }
        let otherInvalid = invalidRows.count - inv.count
        if otherInvalid > 0 {
            w.append(lang.t("\(otherInvalid) other case(s) have a row marked valid=false; see the note column.", "另有 \(otherInvalid) 个用例有标为 valid=false 的行，见说明列。"))
        }
        if !duplicates.isEmpty {
            w.append(lang.t("\(duplicates.count) duplicate case key(s) within one input; the first row of each was used.", "同一个输入里有 \(duplicates.count) 个重复的用例键，各取了第一行。"))
        }
        return w
    }

    /// The counts and the rule, in English (stderr).
    public var summaryLine: String { summaryLine(.en) }

    public func summaryLine(_ lang: Language) -> String {
        let parts = Class.allCases.map { "\(count($0)) " + Self.className($0, lang) }
        let (th, cv, a) = (String(format: "%g", threshold * 100), String(format: "%g", Statistics.noisyCV * 100), String(format: "%g", alpha))
        let noise = baselineRuns > 1
            ? lang.t("outside the 99 % prediction interval from the baseline's \(baselineRuns) runs", "落在基线 \(baselineRuns) 次运行给出的 99 % 预测区间之外")
            : lang.t("CIs disjoint or Mann–Whitney p < \(a)", "置信区间不重叠，或 Mann–Whitney p < \(a)")
        let gate = comparable || acrossMachines ? "" : lang.t("not comparable (different machines), nothing gated: ", "不可比（不同机器），不作判定：")
        let reruns = confirmedBy.isEmpty ? "" : lang.t("; a change counts only when each of \(confirmedBy.count) rerun(s) shows it too",
                                                       "；只有 \(confirmedBy.count) 次重测都再次出现的变化才算数")
        return gate + lang.t("\(parts.joined(separator: ", ")) (a change counts when beyond ±\(th) % and beyond noise — \(noise) — on pinned rows with CV ≤ \(cv) %\(reruns))",
                      "\(parts.joined(separator: "，"))（只有绑核、CV ≤ \(cv) % 的行，变化超过 ±\(th) % 且超出噪声——\(noise)——才算数\(reruns)）")
    }

    /// The first line of the Markdown (a CI job summary's first line): which groups cannot gate a slowdown
    /// of `gateSize` and from what size each can, or, under `--require-gate`, that every group can. nil when
    /// nothing is required and no group is blind at the NOISY BASELINE limit.
    public func gateLine(_ lang: Language) -> String? {
        let size = String(format: "+%.0f %%", gateSize * 100)
        let exit = exitCode == Self.cannotGateExit ? lang.t(" (exit 4)", "（退出码 4）") : ""
        let flag = requiredGate == nil ? "" : lang.t(" (`--require-gate`)", "（`--require-gate`）")
        if requiredGate != nil && gateLimits.isEmpty {
            return lang.t("🚫 **CANNOT SAY WHAT IT GATES:** the baseline has \(baselineRuns) run(s) of each case, so its run-to-run spread is unknown and no group can be shown to gate a \(size) slowdown\(flag)\(exit). Make it from several runs: `scripts/ci-regression.sh --refresh` (`RUNS=3`).",
                          "🚫 **无法说明能判定什么：** 基线每个用例只有 \(baselineRuns) 次运行，看不出运行之间的离散程度，没有哪一组能证明可以判定 \(size) 的变慢\(flag)\(exit)。请用多次运行做基线：`scripts/ci-regression.sh --refresh`（`RUNS=3`）。")
        }
        let blind = blindGroups
        if blind.isEmpty {
            guard requiredGate != nil else { return nil }
            let worst = gateLimits.max { $0.smallestChange < $1.smallestChange }
            let most = worst.map { String(format: "`%@ %@` +%.0f %%", $0.harness, $0.placement, $0.smallestChange * 100) } ?? ""
            return lang.t("✅ **Every group can gate a \(size) slowdown**\(flag): the widest limit is \(most).",
                          "✅ **每一组都能判定 \(size) 的变慢**\(flag)：最宽的界限是 \(most)。")
        }
        let list = blind.map { String(format: "`%@ %@` ", $0.harness, $0.placement) + lang.t("from ", "要 ") + String(format: "+%.0f %%", $0.smallestChange * 100) + lang.t("", " 以上") }
            .joined(separator: lang.t(", ", "，"))
        let others = gateLimits.count - blind.count
        let rest = others == 0 ? lang.t("; no group can.", "；没有一组能判定。") : lang.t("; the other \(others) group(s) can.", "；其余 \(others) 组可以。")
        return lang.t("🚫 **CANNOT GATE a \(size) slowdown\(flag)\(exit)** in \(blind.count) group(s), the baseline's runs disagree too much: \(list)\(rest)",
                      "🚫 **无法判定 \(size) 的变慢\(flag)\(exit)**：基线各次运行分歧太大，共 \(blind.count) 组：\(list)\(rest)")
    }

    /// A Markdown diff table, pasteable into a pull request, in a language (notes, warnings, summary too).
    /// Its first line is `gateLine` when there is one.
    public func markdown(lang: Language = .en) -> String {
        var out = gateLine(lang).map { $0 + "\n\n" } ?? ""
        out += lang.t("## switchbench compare\n\n", "## switchbench 对比\n\n")
        let runs = baselineRuns > 1
            ? lang.t(" (\(baselineRuns) runs per case: noise = the 99 % prediction interval from the run-to-run spread, pooled per harness and placement)",
                     "（每个用例 \(baselineRuns) 次运行：噪声取各次运行之间离散程度给出的 99 % 预测区间，按 harness 和 placement 合并估计）")
            : ""
        let reruns = confirmedBy.map { "`\($0)`" }.joined(separator: ", ")
        let confirm = confirmedBy.isEmpty ? "" : lang.t(" Reruns that a change had to show again: \(reruns).", "变化必须在重测中再次出现：\(reruns)。")
        out += lang.t("Baseline `\(baselineSource)`\(runs) → current `\(currentSource)`.\(confirm)\n\n", "基线 `\(baselineSource)`\(runs) → 本次 `\(currentSource)`。\(confirm)\n\n")
        if !gateLimits.isEmpty {
            let list = gateLimits.map { "`\($0.harness) \($0.placement)` +" + String(format: "%.0f %%", $0.smallestChange * 100) }.joined(separator: lang.t(", ", "，"))
            out += lang.t("Smallest slowdown this baseline can gate, per harness and placement (its run-to-run spread, for a typical case; at least the threshold): \(list).\n\n",
                          "这份基线按 harness 和 placement 分组能判定的最小变慢幅度（由各次运行之间的离散程度得出，按典型用例计；不低于阈值）：\(list)。\n\n")
        }
        let warnings = warnings(lang)
        for w in warnings { out += "> **⚠️ \(w)**\n>\n" }
        if !warnings.isEmpty { out += "\n" }
        let other = environmentChanges.filter { !$0.important }
        var t = MarkdownTable(lang == .en
            ? ["class", "case", "baseline", "current", "change", "95 % CIs", "Mann–Whitney p", "note"]
            : ["类别", "用例", "基线", "本次", "变化", "95 % 置信区间", "Mann–Whitney p", "说明"])
        let rank: [Class: Int] = [.regression: 0, .improvement: 1, .noisy: 2, .new: 3, .missing: 4, .unchanged: 5]
        for c in cases.enumerated().sorted(by: { (rank[$0.element.classification]!, $0.offset) < (rank[$1.element.classification]!, $1.offset) }).map(\.element) {
            let cls: String
            switch c.classification {
            case .regression: cls = lang.t("🔴 **regression**", "🔴 **变慢**")
            case .improvement: cls = lang.t("🟢 **improvement**", "🟢 **变快**")
            case .noisy: cls = lang.t("noisy", "噪声")
            case .new: cls = lang.t("new", "新增")
            case .missing: cls = lang.t("missing", "缺失")
            case .unchanged: cls = lang.t("unchanged", "不变")
            }
            var note = c.note(lang)
            if c.isChange, c.baselineValid == false || c.currentValid == false { note = "⚠️ " + note }
            t.add([cls, "`\(c.label)`", Self.fmt(c.baselineMedian, unit: c.unit), Self.fmt(c.currentMedian, unit: c.unit),
                   Self.pct(c.ratio), c.ciOverlap.map { $0 ? lang.t("overlap", "重叠") : lang.t("disjoint", "不重叠") } ?? "–",
                   c.pValue.map { String(format: "%.2g", $0) } ?? "–", note])
        }
        out += t.text + lang.t("\n\n**Summary:** ", "\n\n**小结：**") + summaryLine(lang) + "\n"
        if !other.isEmpty {
            out += lang.t("\n_Other differences: ", "\n_其他不同：") + other.map { "\($0.fact) \($0.baseline) → \($0.current)" }.joined(separator: "; ") + lang.t("._\n", "。_\n")
        }
        return out
    }

    public static let csvColumns = [
        "class", "harness", "mechanism", "placement", "cpus", "tasks", "footprint_bytes", "page_size_bytes",
        "working_set_pages", "metric", "unit", "baseline_median", "current_median", "ratio", "ci_overlap",
        "mann_whitney_p", "beyond_threshold", "beyond_noise", "baseline_valid", "current_valid", "note",
    ]

    public func csv() -> String {
        func n(_ v: Double?) -> String { v.map { String(format: "%.6g", $0) } ?? "" }
        func b(_ v: Bool?) -> String { v.map { $0 ? "true" : "false" } ?? "" }
        var out = CSV.line(Self.csvColumns) + "\n"
        for c in cases {
            let k = c.key
            let keyCells = [k.harness, k.mechanism, k.placement, k.cpus, String(k.tasks), String(k.footprintBytes),
                            k.pageSizeBytes.map(String.init) ?? "", k.workingSetPages.map(String.init) ?? "", k.metric]
            let cells = [n(c.baselineMedian), n(c.currentMedian), n(c.ratio), b(c.ciOverlap), n(c.pValue),
                         b(c.beyondThreshold), b(c.beyondNoise), b(c.baselineValid), b(c.currentValid), c.note]
            out += CSV.line([c.classification.rawValue] + keyCells + [c.unit] + cells) + "\n"
        }
        return out
    }

    struct JSONForm: Codable {
        var baseline: String
        var current: String
        var baselineRuns: Int
        var threshold: Double
        var alpha: Double
        var summary: [String: Int]
        var warnings: [String]
        var environmentChanges: [EnvironmentChange]
        /// false: the runs come from different machines (exit 3 unless --across-machines).
        var comparable: Bool
        /// Reruns a change had to appear in again (`compare --confirm`); empty when none.
        var confirmedBy: [String]
        /// Multi-run baselines: the smallest change each (harness, placement) group can gate.
        var gateLimits: [GateLimit]
        /// `--require-gate` as a fraction (absent when not given), and whether it was not met (exit 4).
        var requiredGate: Double?
        var cannotGate: Bool
        /// The groups that cannot gate `requiredGate` (else the NOISY BASELINE limit, +50 %).
        var blindGroups: [GateLimit]
        var cases: [Case]
    }

    public func json() -> String {
        let form = JSONForm(baseline: baselineSource, current: currentSource, baselineRuns: baselineRuns, threshold: threshold, alpha: alpha,
                            summary: Dictionary(uniqueKeysWithValues: Class.allCases.map { ($0.rawValue, count($0)) }),
                            warnings: warnings, environmentChanges: environmentChanges, comparable: comparable, confirmedBy: confirmedBy, gateLimits: gateLimits,
                            requiredGate: requiredGate, cannotGate: cannotGate, blindGroups: blindGroups, cases: cases)
        return JSONText.encode(form)
    }
}

/// Pretty, key-sorted JSON; non-finite numbers as strings (JSON has none).
enum JSONText {
    static func encode<T: Encodable>(_ value: T) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        guard let data = try? e.encode(value) else { return "{}\n" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
