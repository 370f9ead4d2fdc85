import Foundation

/// switch-cost.svg: every kind of switch on one CPU as a dot with its 95 % CI, in panels of their own
/// scale (user-mode switches and the system call; thread and process switches) so that each panel's
/// linear axis starts at 0 and has real ticks; below them, in a panel of its own, the cross-CPU wake-up
/// latency of the thread and process rings (not switch cost: no task waits for another's CPU). No bars:
/// a bar on a log axis starts at an arbitrary base and its length means nothing. It draws the kinds
/// every harness declares (`SwitchKind.plotted`), so it belongs to the report, not to one harness.
public enum SwitchCostPlot {
    /// switch-cost.svg as a plot of the run; none when the run has no row of a plotted kind.
    public static func plot(_ run: RunResult, lang: Language) -> [Plot] {
        guard let s = render(run, lang: lang) else { return [] }
        return [Plot(name: "switch-cost.svg", title: lang.t("Switch cost by kind", "各种切换的代价"), contents: s)]
    }

    /// A linear axis from 0 to a little past `hi`: a round step (1, 2 or 5 × 10^k) giving 3 to 7 ticks.
    public static func linearAxis(_ hi: Double) -> (hi: Double, ticks: [Double]) {
        guard hi > 0 else { return (1, [0, 1]) }
        let mag = pow(10, floor(log10(hi / 4)))
        let step = [1.0, 2, 5, 10].map { $0 * mag }.first { hi / $0 <= 6 } ?? 10 * mag
        let top = ceil(hi * 1.05 / step) * step
        return (top, stride(from: 0.0, through: top + step / 2, by: step).map { $0 })
    }

    /// A log axis fitted to the data, for the line plots that span decades (tlb.svg): from a little below
    /// the minimum to a little above the maximum (never past 2× it), ticks at 1, 2, 5 × 10^k inside.
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

    typealias Row = (label: String, record: Record)
    static let left = 175.0, plotW = 520.0, rowH = 22.0

    public static func render(_ run: RunResult, lang: Language = .en) -> String? {
        func rows(_ tiers: [SwitchKind.Tier], _ p: Placement) -> [Row] {
            SwitchKind.plotted.filter { tiers.contains($0.tier) }.compactMap { k in k.row(run, placement: p).map { (k.label(lang), $0) } }
        }
        // a hand-off between tasks on two CPUs, not a switch: "thread (futex)", "线程（futex）"
        let cross = rows([.thread, .process], .crossCPU).map { r in
            (r.label.replacingOccurrences(of: " switch", with: "").replacingOccurrences(of: "切换", with: ""), r.record)
        }
        let panels: [(title: String, rows: [Row], color: String, axis: String)] = [
            (lang.t("User-mode switches and the system call, one CPU", "用户态的切换和系统调用，同一处理器"), rows([.userMode, .privilege], .sameCPU),
             SVGPlots.palette[0], lang.t("time per switch (per call for the system call)", "每次切换的时间（系统调用按每次调用计）")),
            (lang.t("Thread and process switches, one CPU", "线程切换和进程切换，同一处理器"), rows([.thread, .process], .sameCPU),
             SVGPlots.palette[0], lang.t("time per switch", "每次切换的时间")),
            (lang.t("Cross-CPU wake-up latency, each task on its own CPU (not switch cost)", "跨处理器唤醒延迟：每个任务各占一个处理器，每次交接唤醒一个空闲的处理器（不是切换的代价）"),
             cross, SVGPlots.palette[1], lang.t("time per hand-off", "每次交接的时间")),
        ].filter { !$0.rows.isEmpty }
        guard !panels.isEmpty else { return nil }
        let heights = panels.map { Double($0.rows.count) * rowH + 90 }
        let height = 56 + heights.reduce(0, +) + 20
        var svg = SVGDocument(width: left + plotW + 90, height: height)
        svg.text(lang.t("Switch cost by kind (median; line: 95 % CI; grey dot: row invalid)", "各种切换的代价（中位数；横线：95 % 置信区间；灰点：该行无效）"),
                 left + plotW / 2, 24, size: 14, anchor: .middle, weight: "bold")
        var top = 70.0
        for (i, p) in panels.enumerated() {
            svg.text(p.title, left + plotW / 2, top - 14, size: 12, anchor: .middle, weight: "bold")
            panel(&svg, p.rows, top: top, color: p.color, axisTitle: p.axis, lang)
            top += heights[i]
        }
        svg.text(EnvironmentText.short(run.environment, lang: lang), 8, height - 10, size: 10, fill: "#555")
        return svg.text
    }

    /// One panel: a linear axis from 0 with its ticks, a dot per row at its median and a line over its CI.
    static func panel(_ svg: inout SVGDocument, _ rows: [Row], top: Double, color: String, axisTitle: String, _ lang: Language) {
        guard let hi = rows.compactMap({ $0.record.stats.map { max($0.median, $0.ci95High) } }).max() else { return }
        let axis = linearAxis(hi)
        func x(_ v: Double) -> Double { left + max(v, 0) / axis.hi * plotW }
        let bottom = top + Double(rows.count) * rowH
        for v in axis.ticks {
            svg.line(x(v), top - 4, x(v), bottom, stroke: "#e4e4e4")
            svg.text(SVGPlots.timeTick(v), x(v), bottom + 16, size: 10, anchor: .middle)
        }
        svg.text(axisTitle, left + plotW / 2, bottom + 34, size: 12, anchor: .middle)
        for (i, row) in rows.enumerated() {
            let y = top + Double(i) * rowH + rowH / 2
            svg.text(row.label, left - 8, y + 4, size: 12, anchor: .end)
            guard let s = row.record.stats else { continue }
            if s.ci95High > s.ci95Low { svg.line(x(s.ci95Low), y, x(s.ci95High), y, stroke: "#000", width: 1) }
            svg.circle(x(s.median), y, r: 4, fill: row.record.valid ? color : "#bbbbbb",
                       title: row.label + lang.t(": \(humanTime(s.median)) (95 % CI \(humanTime(s.ci95Low)) – \(humanTime(s.ci95High)))",
                                                "：\(humanTime(s.median))（95 % 置信区间 \(humanTime(s.ci95Low)) – \(humanTime(s.ci95High))）"))
            svg.text(humanTime(s.median) + Format.invalidMark(row.record.valid, lang), x(max(s.median, s.ci95High)) + 8, y + 4, size: 10)
        }
        svg.line(left, top - 4, left, bottom, stroke: "#333")
        svg.line(left, bottom, left + plotW, bottom, stroke: "#333")
    }
}
