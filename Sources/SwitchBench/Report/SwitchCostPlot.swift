import Foundation

/// switch-cost.svg: every kind of switch on one CPU on a log time axis, and below it, in a panel of
/// its own, the cross-CPU wake-up latency of the thread and process rings (not switch cost: no task
/// waits for another's CPU). Each axis ends a little past its data's maximum. It draws the kinds every
/// harness declares (`SwitchKind.plotted`), so it belongs to the report, not to one harness.
public enum SwitchCostPlot {
    /// switch-cost.svg as a plot of the run; none when the run has no row of a plotted kind.
    public static func plot(_ run: RunResult, lang: Language) -> [Plot] {
        guard let s = render(run, lang: lang) else { return [] }
        return [Plot(name: "switch-cost.svg", title: lang.t("Switch cost by kind (log scale)", "各种切换的代价（对数坐标）"), contents: s)]
    }

    /// A log axis fitted to the data: from a little below the minimum to a little above the maximum
    /// (never past 2× it), ticks at 1, 2, 5 × 10^k inside.
    public static func logAxis(_ lo: Double, _ hi: Double) -> (lo: Double, hi: Double, ticks: [Double]) {
        var a = lo / 1.3, b = hi * 1.3
        if b / a < 10 { let mid = (a * b).squareRoot(); a = min(a, mid / 3.2); b = max(b, min(mid * 3.2, hi * 2)) }
        var ticks: [Double] = []
        var d = floor(log10(a))
        while pow(10, d) <= b {
            for m in [1.0, 2, 5] where m * pow(10, d) >= a && m * pow(10, d) <= b { ticks.append(m * pow(10, d)) }
            d += 1
        }
        return (a, b, ticks)
    }

    public static func render(_ run: RunResult, lang: Language = .en) -> String? {
        let same = SwitchKind.plotted.compactMap { k -> (String, String, Record)? in
            k.row(run, placement: .sameCPU).map { (k.label(lang), k.harness, $0) }
        }
        let cross = SwitchKind.plotted.filter { $0.tier == .thread || $0.tier == .process }.compactMap { k -> (String, String, Record)? in
            // a hand-off between tasks on two CPUs, not a switch: "thread (futex)", "线程（futex）"
            k.row(run, placement: .crossCPU).map { (k.label(lang).replacingOccurrences(of: " switch", with: "").replacingOccurrences(of: "切换", with: ""), k.harness, $0) }
        }
        guard !same.isEmpty || !cross.isEmpty else { return nil }
        let left = 175.0, right = 90.0, barH = 16.0, gap = 6.0, plotW = 520.0
        let rowH = barH + gap
        let panelGap = 110.0
        let top1 = 56.0
        let top2 = top1 + Double(same.count) * rowH + (same.isEmpty ? 0 : panelGap)
        let height = top2 + Double(cross.count) * rowH + 80
        var svg = SVGDocument(width: left + plotW + right, height: height)
        svg.text(lang.t("Switch cost by kind, all tasks on one CPU (median per switch; system call: per call)", "各种切换的代价，所有任务在同一处理器上（每次切换的中位数；系统调用按每次调用计）"),
                 left + plotW / 2, 22, size: 14, anchor: .middle, weight: "bold")
        svg.text(lang.t("whisker: 95 % CI of the median; grey bar: row invalid", "横线：中位数的 95 % 置信区间；灰色条：该行无效"), left + plotW / 2, 40, size: 10, anchor: .middle, fill: "#555")
        func panel(_ rows: [(String, String, Record)], top: Double, color: String, axisTitle: String) {
            let values = rows.compactMap { $0.2.stats?.median }.filter { $0 > 0 }
            guard let lo = values.min(), let hi = rows.compactMap({ $0.2.stats.map { max($0.median, $0.ci95High) } }).max() else { return }
            let axis = logAxis(lo, hi)
            func x(_ v: Double) -> Double { left + (log10(max(v, axis.lo)) - log10(axis.lo)) / (log10(axis.hi) - log10(axis.lo)) * plotW }
            let bottom = top + Double(rows.count) * rowH
            for v in axis.ticks {
                svg.line(x(v), top - 4, x(v), bottom, stroke: v == pow(10, floor(log10(v))) ? "#bbb" : "#eee")
                svg.text(SVGPlots.timeTick(v), x(v), bottom + 16, size: 10, anchor: .middle)
            }
            svg.text(axisTitle, left + plotW / 2, bottom + 34, size: 12, anchor: .middle)
            for (i, row) in rows.enumerated() {
                let y = top + Double(i) * rowH + gap / 2
                svg.text(row.0, left - 8, y + barH - 4, size: 12, anchor: .end)
                guard let s = row.2.stats, s.median > 0 else { continue }
                let r = row.2
                svg.rect(left, y, x(s.median) - left, barH - 2, fill: r.valid ? color : "#bbbbbb",
                         title: row.0 + lang.t(": \(humanTime(s.median)) (95 % CI \(humanTime(s.ci95Low)) – \(humanTime(s.ci95High)))",
                                              "：\(humanTime(s.median))（95 % 置信区间 \(humanTime(s.ci95Low)) – \(humanTime(s.ci95High))）"))
                if s.ci95High > s.ci95Low {
                    svg.line(x(s.ci95Low), y + (barH - 2) / 2, x(s.ci95High), y + (barH - 2) / 2, stroke: "#000", width: 1)
                }
                svg.text(humanTime(s.median) + Format.invalidMark(r.valid, lang), x(max(s.median, s.ci95High)) + 4, y + barH - 4, size: 10)
            }
            svg.line(left, top - 4, left, bottom, stroke: "#333")
            svg.line(left, bottom, left + plotW, bottom, stroke: "#333")
        }
        if !same.isEmpty {
            panel(same, top: top1, color: SVGPlots.palette[0], axisTitle: lang.t("time per switch (log scale)", "每次切换的时间（对数坐标）"))
        }
        if !cross.isEmpty {
            svg.text(lang.t("Cross-CPU wake-up latency, each task on its own CPU (not switch cost)",
                            "跨处理器唤醒延迟：每个任务各占一个处理器，每次交接唤醒一个空闲的处理器（不是切换的代价）"),
                     left + plotW / 2, top2 - 14, size: 12, anchor: .middle, weight: "bold")
            panel(cross, top: top2, color: SVGPlots.palette[1], axisTitle: lang.t("time per hand-off (log scale)", "每次交接的时间（对数坐标）"))
        }
        svg.text(EnvironmentText.short(run.environment, lang: lang), 8, height - 10, size: 10, fill: "#555")
        return svg.text
    }
}
