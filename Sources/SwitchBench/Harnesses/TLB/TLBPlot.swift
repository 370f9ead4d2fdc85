import Foundation

/// tlb.svg: ns per access against the working set, both axes logarithmic (the L1 knee, a step of a
/// few ns, shows beside page walks of 100 ns and more), with the knees the sweep found.
public enum TLBPlot {
    static func lines(_ lang: Language) -> [(String, String)] {
        [("4k", lang.t("4 KiB pages", "4 KiB 页")), ("2m", lang.t("2 MiB pages", "2 MiB 大页")),
         ("control", lang.t("cache-only control", "只有缓存缺失的对照"))]
    }

    /// A knee's short tag on the plot: the TLB level for the first two (L1, L2), then W1, W2 … for
    /// each point where page walks slow further (the legend says which is which): short tags, so
    /// that two of them near the top right do not repeat one long phrase over each other.
    static func tag(_ level: Int, _ lang: Language) -> String {
        level <= 2 ? "L\(level)" : "W\(level - 2)"
    }

    typealias Knee = (pages: Double, legend: String, color: String, tag: String, variant: String)

    /// The knees the sweep found: the tlb harness's valid reach rows (metric reach_pages, level in tlb_level), at that
    /// many 4 KiB strides; a knee of an invalid reach row (a flagged vote) is not drawn.
    static func knees(_ tlb: [Record], _ lang: Language) -> [Knee] {
        let lines = lines(lang)
        return tlb.filter { $0.metric == TLBAnalysis.reachPages && $0.unit == "pages" }.compactMap { r -> Knee? in
            guard r.valid, let pages = r.stats?.median ?? r.workingSetPages.map(Double.init), pages > 0,
                  let level = r.parameter(.tlbLevel) else { return nil }
            let color = SVGPlots.palette[lines.firstIndex { $0.0 == r.mechanism } ?? 3]
            let n = ManyFormat.count(Int(pages.rounded()))
            let name = lines.first { $0.0 == r.mechanism }?.1 ?? r.mechanism
            let legend = level <= 2
                ? lang.t("\(name): L\(level) TLB reach \(n) × 4 KiB", "\(name)：L\(level) 快表覆盖 \(n) × 4 KiB")
                : lang.t("\(name): W\(level - 2), walks slow past \(n) × 4 KiB", "\(name)：W\(level - 2)，超过 \(n) × 4 KiB 后查页表变慢")
            return (pages, legend, color, tag(level, lang), r.mechanism)
        }
    }

    struct Frame {
        var lx: Double, hx: Double, ly: Double, hy: Double
        let left = 70.0, right = 270.0, top = 50.0, plotW = 560.0, plotH = 330.0
        var bottom: Double { top + plotH }
        func x(_ pages: Double) -> Double { left + (log2(pages) - lx) / (hx - lx) * plotW }
        func y(_ ns: Double) -> Double { top + plotH - (log10(ns) - ly) / (hy - ly) * plotH }
    }

    public static func render(_ run: RunResult, lang: Language = .en) -> String? {
        let tlb = run.records(harness: "tlb")
        let points = lines(lang).map { line -> (String, [(Double, Record)]) in
            let pts = tlb.filter { $0.mechanism == line.0 && $0.metric == "ns_per_access" && ($0.stats?.median ?? 0) > 0 }
                .compactMap { r in r.workingSetPages.map { (Double($0), r) } }
                .filter { $0.0 > 0 }
                .sorted { $0.0 < $1.0 }
            return (line.1, pts)
        }
        let all = points.flatMap { $0.1 }
        guard !all.isEmpty else { return nil }
        let knees = knees(tlb, lang)
        let xs = all.map(\.0) + knees.map(\.pages)
        let lx = floor(log2(xs.min()!)), hx = max(ceil(log2(xs.max()!)), lx + 1)
        let ys = all.compactMap { $0.1.stats?.median }
        // The y axis ends a little past the data (never above 2× its maximum), ticks 1-2-5 inside.
        let yAxis = SwitchCostPlot.logAxis(ys.min()!, ys.max()!)
        let f = Frame(lx: lx, hx: hx, ly: log10(yAxis.lo), hy: log10(yAxis.hi))
        var svg = SVGDocument(width: f.left + f.plotW + f.right, height: f.top + f.plotH + 80)
        svg.text(lang.t("TLB: time per access vs working set (one access per 4 KiB)",
                        "快表：每次访问的时间随工作集的变化（每 4 KiB 访问一次）"),
                 f.left + f.plotW / 2, 24, size: 15, anchor: .middle, weight: "bold")
        axes(&svg, f, yAxis.ticks, lang)
        tags(&svg, f, knees, lang)
        for (i, line) in points.enumerated() where !line.1.isEmpty {
            let color = SVGPlots.palette[i]
            svg.polyline(line.1.map { (f.x($0.0), f.y($0.1.stats!.median)) }, stroke: color, dash: i == 2 ? "6,3" : nil)
            for (pages, r) in line.1 {
                svg.circle(f.x(pages), f.y(r.stats!.median), r: 2.5, fill: r.valid ? color : "#bbbbbb",
                           title: lang.t("\(line.0), \(Int(pages)) × 4 KiB: \(String(format: "%.2f", r.stats!.median)) ns/access",
                                         "\(line.0)，\(Int(pages)) × 4 KiB：每次访问 \(String(format: "%.2f", r.stats!.median)) ns"))
            }
        }
        legend(&svg, f, points.map { ($0.0, $0.1.isEmpty) }, knees, lang)
        svg.text(EnvironmentText.short(run.environment, lang: lang), 8, f.top + f.plotH + 70, size: 10, fill: "#555")
        return svg.text
    }

    /// The grid, ticks and axis titles. The x axis counts 4 KiB strides: for the 4 KiB pages that is the
    /// pages touched; with 2 MiB pages the same bytes are touched, one access per 4 KiB.
    static func axes(_ svg: inout SVGDocument, _ f: Frame, _ yTicks: [Double], _ lang: Language) {
        let step = Int(f.hx - f.lx) > 12 ? 2 : 1   // label every other octave when crowded
        var e = Int(f.lx)
        while e <= Int(f.hx) {
            let px = f.x(pow(2, Double(e)))
            svg.line(px, f.top, px, f.bottom, stroke: "#eee")
            if (e - Int(f.lx)) % step == 0 { svg.text("\(1 << e)", px, f.bottom + 16, size: 10, anchor: .middle) }
            e += 1
        }
        svg.text(lang.t("working set: 4 KiB strides touched, one access each (= 4 KiB pages; with 2 MiB pages the same bytes) (log2 scale)",
                        """
                        工作集：访问的 4 KiB 步数，每步访问一次（即 4 KiB 页数；用 2 MiB 大页时是同样多的字节）（\
                        以 2 为底的对数坐标）
                        """),
                 f.left + f.plotW / 2, f.bottom + 38, size: 11, anchor: .middle)
        for v in yTicks {
            svg.line(f.left, f.y(v), f.left + f.plotW, f.y(v), stroke: v == pow(10, floor(log10(v))) ? "#ccc" : "#eee")
            svg.text(String(format: "%g", v), f.left - 6, f.y(v) + 4, size: 11, anchor: .end)
        }
        svg.text(lang.t("time per access, ns (log scale)", "每次访问的时间（ns，对数坐标）"), 18, f.top + f.plotH / 2, size: 12,
                 anchor: .middle, rotate: -90)
        svg.line(f.left, f.top, f.left, f.bottom, stroke: "#333")
        svg.line(f.left, f.bottom, f.left + f.plotW, f.bottom, stroke: "#333")
    }

    /// A dashed line and a short tag per knee; a tag goes one row down while it would overprint one
    /// already placed (either side, with a margin), so L1 and L2 of two page sizes never overlap.
    static func tags(_ svg: inout SVGDocument, _ f: Frame, _ knees: [Knee], _ lang: Language) {
        var placed: [(x: Double, width: Double, row: Int)] = []
        for k in knees.sorted(by: { $0.pages < $1.pages }) {
            let px = f.x(k.pages)
            let width = k.tag.unicodeScalars.reduce(12.0) { $0 + ($1.value >= 0x2E80 ? 10.5 : 6.5) }
            var row = 0
            while placed.contains(where: { $0.row == row && px - 2 < $0.x + $0.width && $0.x - 2 < px + width }) { row += 1 }
            placed.append((px, width, row))
            svg.line(px, f.top, px, f.bottom, stroke: k.color, width: 1, dash: "5,4")
            svg.text(k.tag, px + 3, f.top + 11 + Double(row) * 13, size: 10, fill: k.color)
        }
    }

    /// The legend: a line per curve, then what the tags mean (L1, L2: a TLB level's reach; W1, W2 …:
    /// further points where page walks slow) and each knee.
    static func legend(_ svg: inout SVGDocument, _ f: Frame, _ curves: [(String, Bool)], _ knees: [Knee], _ lang: Language) {
        var legendY = f.top + 10
        let lxp = f.left + f.plotW + 14
        for (i, line) in curves.enumerated() {
            svg.line(lxp, legendY, lxp + 22, legendY, stroke: SVGPlots.palette[i], width: 2, dash: i == 2 ? "6,3" : nil)
            svg.text(line.0 + (line.1 ? lang.t(" (not measured)", "（未测量）") : ""), lxp + 28, legendY + 4, size: 11)
            legendY += 18
        }
        guard !knees.isEmpty else { return }
        svg.line(lxp, legendY, lxp + 22, legendY, stroke: "#555", width: 1, dash: "5,4")
        svg.text(lang.t("knee of (pages − control)", "（页 − 对照）的拐点"), lxp + 28, legendY + 4, size: 11)
        legendY += 18
        for line in [lang.t("L1, L2: where that TLB level runs out", "L1、L2：该级快表装不下的地方"),
                     lang.t("W1, W2: further points where walks slow", "W1、W2：查页表进一步变慢的地方")] {
            svg.text(line, lxp, legendY, size: 10, fill: "#444")
            legendY += 14
        }
        legendY += 4
        for k in knees {
            svg.text(k.legend, lxp, legendY, size: 10, fill: k.color)
            legendY += 14
        }
    }
}
