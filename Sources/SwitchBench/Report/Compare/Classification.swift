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
}
