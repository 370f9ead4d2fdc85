import Foundation

/// tlb.svg: ns per access against the working set, both axes logarithmic (the L1 knee, a step of a
/// few ns, shows beside page walks of 100 ns and more), with the knees the sweep found.
public enum TLBPlot {
    static func lines(_ lang: Language) -> [(String, String)] {
        [("4k", lang.t("4 KiB pages", "4 KiB 页")), ("2m", lang.t("2 MiB pages", "2 MiB 大页")), ("control", lang.t("cache-only control", "只有缓存缺失的对照"))]
    }

    /// A knee's short tag on the plot: the TLB level for the first two (L1, L2), then W1, W2 … for
    /// each point where page walks slow further (the legend says which is which): short tags, so
    /// that two of them near the top right do not repeat one long phrase over each other.
    static func tag(_ level: Int, _ lang: Language) -> String {
        level <= 2 ? "L\(level)" : "W\(level - 2)"
    }

    public static func render(_ run: RunResult, lang: Language = .en) -> String? {
        let tlb = run.records(harness: "tlb")
        let lines = lines(lang)
        let points = lines.map { line -> (String, [(Double, Record)]) in
            let pts = tlb.filter { $0.mechanism == line.0 && $0.metric == "ns_per_access" && ($0.stats?.median ?? 0) > 0 }
                .compactMap { r in r.workingSetPages.map { (Double($0), r) } }
                .filter { $0.0 > 0 }
                .sorted { $0.0 < $1.0 }
            return (line.1, pts)
        }
        let all = points.flatMap { $0.1 }
        guard !all.isEmpty else { return nil }
        // Knees: the tlb harness's reach rows (metric reach_pages, level in tlb_level), at that many pages.
        let knees = tlb.filter { $0.metric == TLBAnalysis.reachPages && $0.unit == "pages" }
            .compactMap { r -> (pages: Double, legend: String, color: String, tag: String, variant: String)? in
                // a knee from an invalid reach row (a flagged vote) is not drawn
                guard r.valid, let pages = r.stats?.median ?? r.workingSetPages.map(Double.init), pages > 0,
                      let level = r.parameter(.tlbLevel) else { return nil }
                let color = SVGPlots.palette[lines.firstIndex { $0.0 == r.mechanism } ?? 3]
                let n = Int(pages.rounded())
                let name = lines.first { $0.0 == r.mechanism }?.1 ?? r.mechanism
                let legend = level <= 2
                    ? lang.t("\(name): L\(level) TLB reach \(n) pages", "\(name)：L\(level) 快表覆盖 \(n) 页")
                    : lang.t("\(name): W\(level - 2), walks slow past \(n) pages", "\(name)：W\(level - 2)，超过 \(n) 页查页表变慢")
                return (pages, legend, color, tag(level, lang), r.mechanism)
            }
        let xs = all.map(\.0) + knees.map(\.pages)
        let lx = floor(log2(xs.min()!)), hx = max(ceil(log2(xs.max()!)), lx + 1)
        let ys = all.compactMap { $0.1.stats?.median }
        // The y axis ends a little past the data (never above 2× its maximum), ticks 1-2-5 inside.
        let yAxis = SwitchCostPlot.logAxis(ys.min()!, ys.max()!)
        let ly = log10(yAxis.lo), hy = log10(yAxis.hi)
        let left = 70.0, right = 250.0, top = 50.0, plotW = 560.0, plotH = 330.0
        var svg = SVGDocument(width: left + plotW + right, height: top + plotH + 80)
        svg.text(lang.t("TLB: time per access vs working set (one access per page)", "快表：每次访问的时间随工作集的变化（每页访问一次）"),
                 left + plotW / 2, 24, size: 15, anchor: .middle, weight: "bold")
        func x(_ pages: Double) -> Double { left + (log2(pages) - lx) / (hx - lx) * plotW }
        func y(_ ns: Double) -> Double { top + plotH - (log10(ns) - ly) / (hy - ly) * plotH }
        let bottom = top + plotH
        // x ticks every octave (label every other one when crowded)
        let step = Int(hx - lx) > 12 ? 2 : 1
        var e = Int(lx)
        while e <= Int(hx) {
            let px = x(pow(2, Double(e)))
            svg.line(px, top, px, bottom, stroke: "#eee")
            if (e - Int(lx)) % step == 0 {
                svg.text("\(1 << e)", px, bottom + 16, size: 10, anchor: .middle)
            }
            e += 1
        }
        svg.text(lang.t("working set: number of pages touched, one access per page (log2 scale)", "工作集：访问的页数，每页访问一次（以 2 为底的对数坐标）"), left + plotW / 2, bottom + 38, size: 12, anchor: .middle)
        for v in yAxis.ticks {
            svg.line(left, y(v), left + plotW, y(v), stroke: v == pow(10, floor(log10(v))) ? "#ccc" : "#eee")
            svg.text(String(format: "%g", v), left - 6, y(v) + 4, size: 11, anchor: .end)
        }
        svg.text(lang.t("time per access, ns (log scale)", "每次访问的时间（ns，对数坐标）"), 18, top + plotH / 2, size: 12, anchor: .middle, rotate: -90)
        svg.line(left, top, left, bottom, stroke: "#333")
        svg.line(left, bottom, left + plotW, bottom, stroke: "#333")
        // A dashed line and a short tag per knee (one row of tags per page size, so coinciding knees
        // do not overprint); the full list sits under the legend.
        // A tag goes one row down when it would overprint one already placed in its row.
        var placed: [(x: Double, width: Double, row: Int)] = []
        for k in knees.sorted(by: { $0.pages < $1.pages }) {
            let px = x(k.pages)
            // the tag's width at 10 px: wide for CJK characters
            let width = k.tag.unicodeScalars.reduce(8.0) { $0 + ($1.value >= 0x2E80 ? 10.5 : 6.2) }
            var row = lines.firstIndex { $0.0 == k.variant } ?? 0
            // overlap either way: a tag to the left of one already placed can run into it too
            while placed.contains(where: { $0.row == row && px < $0.x + $0.width && $0.x < px + width }) { row += 1 }
            placed.append((px, width, row))
            svg.line(px, top, px, bottom, stroke: k.color, width: 1, dash: "5,4")
            svg.text(k.tag, px + 3, top + 11 + Double(row) * 12, size: 10, fill: k.color)
        }
        for (i, line) in points.enumerated() where !line.1.isEmpty {
            let color = SVGPlots.palette[i]
            svg.polyline(line.1.map { (x($0.0), y($0.1.stats!.median)) }, stroke: color, dash: i == 2 ? "6,3" : nil)
            for (pages, r) in line.1 {
                svg.circle(x(pages), y(r.stats!.median), r: 2.5, fill: r.valid ? color : "#bbbbbb",
                           title: "\(line.0), \(Int(pages)) pages: \(String(format: "%.2f", r.stats!.median)) ns/access")
            }
        }
        var legendY = top + 10
        let lxp = left + plotW + 14
        for (i, line) in points.enumerated() {
            svg.line(lxp, legendY, lxp + 22, legendY, stroke: SVGPlots.palette[i], width: 2, dash: i == 2 ? "6,3" : nil)
            svg.text(line.0 + (line.1.isEmpty ? lang.t(" (not measured)", "（未测量）") : ""), lxp + 28, legendY + 4, size: 11)
            legendY += 18
        }
        if !knees.isEmpty {
            svg.line(lxp, legendY, lxp + 22, legendY, stroke: "#555", width: 1, dash: "5,4")
            svg.text(lang.t("knee of (pages − control)", "（页 − 对照）的拐点"), lxp + 28, legendY + 4, size: 11)
            legendY += 22
            for k in knees {
                svg.text(k.legend, lxp, legendY, size: 10, fill: k.color)
                legendY += 14
            }
        }
        svg.text(EnvironmentText.short(run.environment, lang: lang), 8, top + plotH + 70, size: 10, fill: "#555")
        return svg.text
    }
}
