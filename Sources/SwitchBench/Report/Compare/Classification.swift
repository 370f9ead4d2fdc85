import Foundation

/// How `compare` classes one case: the noise model (run-to-run spread of a multi-run baseline, drift of
/// a single-run one) and the rule that turns a change into regression, improvement, unchanged or noisy.
extension Comparison {
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

    /// Two-sided 99 % Student t quantiles t(0.995, df), df = 1…30.
    static let t995: [Double] = [63.657, 9.925, 5.841, 4.604, 4.032, 3.707, 3.499, 3.355, 3.250, 3.169, 3.106, 3.055,
                                 3.012, 2.977, 2.947, 2.921, 2.898, 2.878, 2.861, 2.845, 2.831, 2.819, 2.807, 2.797,
                                 2.787, 2.779, 2.771, 2.763, 2.756, 2.750]

    /// A reason not to count a change, with the largest change its noise could produce: `bound`, a factor in
    /// log units (|ln ratio| ≤ bound is within it); nil when it has no estimate of its noise (a single value
    /// against a one-run baseline), which waves off any size (docs/compare.md, "Vetoes").
    struct Veto {
        var bound: Double?
        var en: String
        var zh: String
    }

    /// A within-run CV above `Statistics.noisyCV` moves a median by at most this many CVs (docs/compare.md).
    public static let cvVetoZ = 3.0

    /// The pinned rows of an unpinned case (same key, placement same-cpu and cross-cpu), baseline and current:
    /// the times between which the scheduler's choice of CPUs can put it.
    struct PinnedSiblings {
        var medians: [(same: Double, cross: Double)] = []
    }

    static func classify(key: CaseKey, baseRuns: [Record], cur: Record?, threshold: Double, alpha: Double,
                         runNoise: RunNoise? = nil, siblings: PinnedSiblings = PinnedSiblings()) -> Case {
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
        guard base.stats != nil, cur.stats != nil else {
            notes.append(("no timing on one side", "有一边没有计时"))
            finish()
            return c
        }
        let predicted = judgeNoise(&c, baseRuns: baseRuns, cur: cur, alpha: alpha, runNoise: runNoise, notes: &notes)
        if let r = c.ratio { c.beyondThreshold = abs(r - 1) > threshold }
        if c.beyondThreshold && c.beyondNoise, let r = c.ratio {
            let worse = higherIsWorse(unit: cur.unit, metric: cur.metric) ? r > 1 : r < 1
            let v = vetoes(baseRuns: baseRuns, cur: cur, predicted: predicted, siblings: siblings)
            let (cls, note) = decide(ratio: r, worse: worse, vetoes: v)
            c.classification = cls
            if let note { notes.append(note) }
        } else if c.beyondThreshold {
            notes.append(("beyond threshold but within noise", "超过阈值，但在噪声之内"))
        }
        finish()
        return c
    }

    /// Sets the ratio, CI overlap, p value and whether the change is beyond noise. Returns true when noise was
    /// the run-to-run spread of a multi-run baseline (a prediction interval), which is then every row's noise
    /// estimate, single values included.
    static func judgeNoise(_ c: inout Case, baseRuns: [Record], cur: Record, alpha: Double, runNoise: RunNoise?,
                           notes: inout [(String, String)]) -> Bool {
        let (base, cs) = (baseRuns[0], cur.stats!)
        let runs = baseRuns.compactMap(\.stats)
        guard runs.count >= 2 else {
            let bs = base.stats!
            if bs.median != 0 { c.ratio = cs.median / bs.median }
            let overlap = !(cs.ci95Low > bs.ci95High || bs.ci95Low > cs.ci95High)
            c.ciOverlap = overlap
            c.pValue = MannWhitney.test(base.sampleValues, cur.sampleValues)?.p
            c.beyondNoise = !overlap || (c.pValue.map { $0 < alpha } ?? false)
            return false
        }
        // Several baseline runs: the median of their medians, and noise = the envelope of all
        // their CIs (the current CI must lie outside every run's); no rank test on pooled samples,
        // which would mistake run-to-run shifts for a change.
        let medians = runs.map(\.median).sorted()
        let center = Statistics.quantile(medians, 0.5)
        c.baselineMedian = center
        if center != 0 { c.ratio = cs.median / center }
        let lo = runs.map(\.ci95Low).min()!, hi = runs.map(\.ci95High).max()!
        let overlap = !(cs.ci95Low > hi || cs.ci95High < lo)
        c.ciOverlap = overlap
        c.baselineValid = baseRuns.allSatisfy(\.valid)
        let (mlo, mhi) = (fmt(medians.first, unit: cur.unit), fmt(medians.last, unit: cur.unit))
        let logs = runs.map(\.median).filter { $0 > 0 }.map { log($0) }
        guard let rn = runNoise, logs.count == runs.count, cs.median > 0 else {
            c.beyondNoise = !overlap
            notes.append(("baseline: \(runs.count) runs, medians \(mlo) – \(mhi), CI envelope", "基线 \(runs.count) 次运行，中位数 \(mlo) – \(mhi)，取各次置信区间的包络"))
            return false
        }
        // Where a new run's median falls with 99 % probability, on a log scale, from the
        // group's pooled run-to-run spread (Student t with the pooled degrees of freedom).
        let mean = logs.reduce(0, +) / Double(logs.count)
        // Moderated variance (empirical Bayes, as limma does): the case's own spread of run
        // medians shrunk toward the group's pooled one, which counts as `priorDF` runs; a case
        // that wanders more than its group (a large TLB working set) keeps its wider spread.
        let ownDF = logs.count - 1
        let ownVar = logs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(ownDF)
        let priorDF = min(Self.priorDF, rn.df)
        let sd = ((Double(ownDF) * ownVar + Double(priorDF) * rn.sdLog * rn.sdLog) / Double(ownDF + priorDF)).squareRoot()
        let half = Self.predictionHalfWidth(sdLog: sd, runs: logs.count, priorDF: priorDF)
        c.beyondNoise = abs(log(cs.median) - mean) > half
        let (plo, phi) = (fmt(exp(mean - half), unit: cur.unit), fmt(exp(mean + half), unit: cur.unit))
        notes.append((String(format: "baseline: %d runs, medians %@ – %@; run-to-run noise ±%.1f %% (group ±%.1f %%): 99 %% prediction %@ – %@",
                             runs.count, mlo, mhi, (exp(sd) - 1) * 100, (exp(rn.sdLog) - 1) * 100, plo, phi),
                      String(format: "基线 %d 次运行，中位数 %@ – %@；运行间噪声 ±%.1f %%（同组 ±%.1f %%）：99 %% 预测区间 %@ – %@",
                             runs.count, mlo, mhi, (exp(sd) - 1) * 100, (exp(rn.sdLog) - 1) * 100, plo, phi)))
        return true
    }

    /// Every reason that applies not to count this change, each with the change its noise could produce.
    static func vetoes(baseRuns: [Record], cur: Record, predicted: Bool, siblings: PinnedSiblings) -> [Veto] {
        let base = baseRuns[0]
        let runs = baseRuns.compactMap(\.stats)
        let cs = cur.stats!
        var v: [Veto] = []
        // A single value has no spread of its own; a multi-run baseline's runs are its noise (the prediction
        // interval it already left), a one-run baseline has none.
        if !predicted && (base.sampleValues.count < 3 || cur.sampleValues.count < 3 || cur.opsPerSample == 0) {
            v.append(Veto(bound: nil,
                          en: String(format: "a derived fact or single value (%d → %d samples): a one-run baseline has no noise estimate for it",
                                     base.sampleValues.count, cur.sampleValues.count),
                          zh: String(format: "这是推导出的事实或单个值（%d → %d 个样本）：单次运行的基线无法估计它的噪声", base.sampleValues.count, cur.sampleValues.count)))
        }
        if baseRuns.contains(where: Neighbours.invalidatedByNeighbours) || Neighbours.invalidatedByNeighbours(cur) {
            // Other tasks used a share b of the CPUs: a row that got only 1 − b of them stretches by at most 1/(1 − b).
            let b = (baseRuns + [cur]).compactMap(\.neighbourBusy).max()
            let bound = b.map { -log(1 - min($0, 0.99)) }
            let share = b.map { String(format: "up to %.0f %% of them", $0 * 100) } ?? "their share not recorded"
            let shareZh = b.map { String(format: "最多占用 %.0f %%", $0 * 100) } ?? "占用比例没有记录"
            v.append(Veto(bound: bound,
                          en: "invalid: other tasks kept the CPUs busy (\(Neighbours.rules(.en)); \(share)) and this row's time depends on them (see its note)",
                          zh: "这一行无效：别的程序当时让 CPU 很忙（\(Neighbours.rules(.zh))；\(shareZh)），而这一行的耗时受它们影响（见该行的说明）"))
        }
        if cur.placement == Placement.unpinned.rawValue {
            // The scheduler may put the tasks on one CPU or on two: anywhere between the pinned rows' times.
            let factor = siblings.medians.filter { $0.same > 0 && $0.cross > 0 }.map { abs(log($0.cross / $0.same)) }.max()
            let span = factor.map { String(format: ": same-cpu and cross-cpu differ by a factor of %.2f", exp($0)) } ?? ": no pinned row of this case bounds it"
            let spanZh = factor.map { String(format: "：绑在同一处理器与跨处理器相差 %.2f 倍", exp($0)) } ?? "：没有同一用例的绑核行可以界定它"
            v.append(Veto(bound: factor, en: "unpinned: the scheduler picks the CPUs, so runs differ by placement" + span,
                          zh: "没有绑核：CPU 由调度器挑选，每次运行的位置都不同" + spanZh))
        }
        let baseNoisy = runs.count >= 2 ? runs.filter(\.isNoisy).count * 2 > runs.count : runs[0].isNoisy
        if baseNoisy || cs.isNoisy {
            // A spread of CV moves a median by at most `cvVetoZ` × CV (the larger of the two sides' CVs).
            let (cv0, cv1) = (Statistics.quantile(runs.map(\.cv).sorted(), 0.5), cs.cv)
            let limit = Statistics.noisyCV * 100
            v.append(Veto(bound: log(1 + Self.cvVetoZ * max(cv0, cv1)),
                          en: String(format: "CV %.0f %% → %.0f %% (> %.0f %%)", cv0 * 100, cv1 * 100, limit),
                          zh: String(format: "CV %.0f %% → %.0f %%（超过 %.0f %%）", cv0 * 100, cv1 * 100, limit)))
        }
        return v
    }

    /// Regression (or improvement) unless the change is one the vetoes' noise could have produced: |ln ratio|
    /// within the sum of their bounds (their noises can add up), or a veto without a bound. The note says
    /// both the change and the noise.
    static func decide(ratio r: Double, worse: Bool, vetoes: [Veto]) -> (Class, (String, String)?) {
        let cls: Class = worse ? .regression : .improvement
        guard !vetoes.isEmpty else { return (cls, nil) }
        let pct = (r - 1) * 100
        let (reasons, reasonsZh) = (vetoes.map(\.en).joined(separator: "; "), vetoes.map(\.zh).joined(separator: "；"))
        let (dir, dirZh) = (worse ? "worse" : "better", worse ? "变差" : "变好")
        let bounds = vetoes.compactMap(\.bound)
        guard bounds.count == vetoes.count else {
            return (.noisy, (String(format: "%@ by %+.0f %% but %@: not counted", dir, pct, reasons),
                             String(format: "%@ %+.0f %%，但%@，不计入", dirZh, pct, reasonsZh)))
        }
        let total = bounds.reduce(0, +)
        let factor = exp(total)
        if abs(log(r)) <= total {
            return (.noisy, (String(format: "%@ by %+.0f %% but %@: noise that can move it by a factor of up to %.2f; not counted", dir, pct, reasons, factor),
                             String(format: "%@ %+.0f %%，但%@：这样的噪声最多能让它变 %.2f 倍，不计入", dirZh, pct, reasonsZh, factor)))
        }
        return (cls, (String(format: "%+.0f %%, beyond any noise the baseline or this run shows (%@: a factor of up to %.2f): %@", pct, reasons, factor,
                             cls.rawValue),
                      String(format: "%+.0f %%，超出基线和本次运行可能有的任何噪声（%@：最多 %.2f 倍）：%@", pct, reasonsZh, factor, className(cls, .zh))))
    }
}
