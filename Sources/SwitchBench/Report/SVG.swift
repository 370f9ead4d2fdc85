import Foundation

/// A minimal SVG writer: elements appended as text, every attribute and text escaped.
public struct SVGDocument {
    public var width: Double
    public var height: Double
    var body: [String] = []

    public init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    public static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(c)
            }
        }
        return out
    }

    static func n(_ v: Double) -> String { String(format: "%.1f", v) }

    public mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String = "#333",
                              width: Double = 1, dash: String? = nil) {
        body.append("<line x1=\"\(Self.n(x1))\" y1=\"\(Self.n(y1))\" x2=\"\(Self.n(x2))\" y2=\"\(Self.n(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(Self.n(width))\"\(dash.map { " stroke-dasharray=\"\($0)\"" } ?? "")/>")
    }

    public mutating func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, fill: String, title: String? = nil) {
        let t = title.map { "<title>\(Self.escape($0))</title>" } ?? ""
        body.append("<rect x=\"\(Self.n(x))\" y=\"\(Self.n(y))\" width=\"\(Self.n(max(w, 0)))\" height=\"\(Self.n(max(h, 0)))\" fill=\"\(fill)\">\(t)</rect>")
    }

    public mutating func circle(_ x: Double, _ y: Double, r: Double, fill: String, title: String? = nil) {
        let t = title.map { "<title>\(Self.escape($0))</title>" } ?? ""
        body.append("<circle cx=\"\(Self.n(x))\" cy=\"\(Self.n(y))\" r=\"\(Self.n(r))\" fill=\"\(fill)\">\(t)</circle>")
    }

    public mutating func polyline(_ points: [(Double, Double)], stroke: String, width: Double = 2, dash: String? = nil) {
        let p = points.map { "\(Self.n($0.0)),\(Self.n($0.1))" }.joined(separator: " ")
        body.append("<polyline points=\"\(p)\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(Self.n(width))\"\(dash.map { " stroke-dasharray=\"\($0)\"" } ?? "")/>")
    }

    public enum Anchor: String { case start, middle, end }

    public mutating func text(_ s: String, _ x: Double, _ y: Double, size: Double = 12, anchor: Anchor = .start,
                              weight: String = "normal", fill: String = "#222", rotate: Double? = nil) {
        let r = rotate.map { " transform=\"rotate(\(Self.n($0)) \(Self.n(x)) \(Self.n(y)))\"" } ?? ""
        body.append("<text x=\"\(Self.n(x))\" y=\"\(Self.n(y))\" font-size=\"\(Self.n(size))\" text-anchor=\"\(anchor.rawValue)\" font-weight=\"\(weight)\" fill=\"\(fill)\"\(r)>\(Self.escape(s))</text>")
    }

    public var text: String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Self.n(width))" height="\(Self.n(height))" viewBox="0 0 \(Self.n(width)) \(Self.n(height))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">
        <rect x="0" y="0" width="\(Self.n(width))" height="\(Self.n(height))" fill="#ffffff"/>
        \(body.joined(separator: "\n"))
        </svg>

        """
    }
}

/// The plots written with every run that has their rows, and embedded in the Markdown by relative path.
public enum SVGPlots {
    public static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]

    /// (file name, alt text, SVG) for each plot this run has data for.
    public static func files(for run: RunResult) -> [(name: String, title: String, contents: String)] {
        var out: [(String, String, String)] = []
        if let s = switchCost(run) { out.append(("switch-cost.svg", "Switch cost by kind (log scale)", s)) }
        if let s = tlbCurve(run) { out.append(("tlb.svg", "TLB curve: ns per access vs working set", s)) }
        return out
    }

    /// A "nice" tick label for a time on a log axis.
    static func timeTick(_ ns: Double) -> String {
        switch ns {
        case ..<1000: return String(format: "%g ns", ns)
        case ..<1_000_000: return String(format: "%g µs", ns / 1e3)
        default: return String(format: "%g ms", ns / 1e6)
        }
    }

    // MARK: Switch cost by kind

    /// The rows of the switch-cost plot, cheapest kind first: (label, harness, mechanism, metric).
    static let kinds: [(String, String, String, String)] = [
        ("coroutine (asm)", "coroutine", "asm", "per_switch"),
        ("coroutine (ucontext)", "coroutine", "ucontext", "per_switch"),
        ("Swift task", "coroutine", "swift-task", "per_switch"),
        ("system call (getppid)", "syscall", "getppid", "per_call"),
        ("thread (futex)", "thread", "futex", "per_switch"),
        ("thread (pipe)", "thread", "pipe", "per_switch"),
        ("process (futex)", "process", "futex", "per_switch"),
        ("process (pipe)", "process", "pipe", "per_switch"),
    ]

    public static func switchCost(_ run: RunResult) -> String? {
        let placements: [Placement] = [.sameCPU, .crossCPU]
        let rows = kinds.compactMap { k -> (String, [Record?])? in
            let rs = placements.map { Claims.row(run, k.1, k.2, k.3, placement: $0) }
            return rs.contains { $0 != nil } ? (k.0, rs) : nil
        }
        guard !rows.isEmpty else { return nil }
        let values = rows.flatMap { $0.1.compactMap { $0?.stats?.median } }.filter { $0 > 0 }
        guard let lo = values.min(), let hi = values.max() else { return nil }
        let minDecade = floor(log10(lo)), maxDecade = max(ceil(log10(hi)), minDecade + 1)
        let left = 175.0, right = 90.0, top = 56.0, barH = 13.0, gap = 10.0
        let rowH = barH * 2 + gap
        let plotW = 520.0
        let height = top + Double(rows.count) * rowH + 70
        var svg = SVGDocument(width: left + plotW + right, height: height)
        svg.text("Switch cost by kind (median per switch; system call: per call)", left + plotW / 2, 22, size: 15,
                 anchor: .middle, weight: "bold")
        func x(_ v: Double) -> Double { left + (log10(v) - minDecade) / (maxDecade - minDecade) * plotW }
        let bottom = top + Double(rows.count) * rowH
        // grid and ticks per decade, minor ticks at 2 and 5
        var d = minDecade
        while d <= maxDecade {
            let v = pow(10, d)
            svg.line(x(v), top - 4, x(v), bottom, stroke: "#bbb")
            svg.text(timeTick(v), x(v), bottom + 16, size: 11, anchor: .middle)
            if d < maxDecade {
                for m in [2.0, 5.0] { svg.line(x(v * m), top, x(v * m), bottom, stroke: "#eee") }
            }
            d += 1
        }
        svg.text("time per switch (log scale)", left + plotW / 2, bottom + 36, size: 12, anchor: .middle)
        for (i, row) in rows.enumerated() {
            let y0 = top + Double(i) * rowH + gap / 2
            svg.text(row.0, left - 8, y0 + barH + 4, size: 12, anchor: .end)
            for (j, r) in row.1.enumerated() {
                let y = y0 + Double(j) * barH
                guard let r, let s = r.stats, s.median > 0 else {
                    if j == 1 {
                        // coroutines share one thread and a system call has no peer: no cross-cpu case exists
                        let label = ["coroutine", "syscall"].contains(kinds.first { $0.0 == row.0 }?.1 ?? "")
                            ? "n/a (one thread)" : "not measured"
                        svg.text(label, left + 4, y + barH - 3, size: 10, fill: "#888")
                    }
                    continue
                }
                let color = palette[j]
                svg.rect(left, y, x(s.median) - left, barH - 2, fill: r.valid ? color : "#bbbbbb",
                         title: "\(row.0) \(placements[j].rawValue): \(humanTime(s.median)) (95 % CI \(humanTime(s.ci95Low)) – \(humanTime(s.ci95High)))")
                // CI whisker
                if s.ci95High > s.ci95Low {
                    svg.line(x(max(s.ci95Low, pow(10, minDecade))), y + (barH - 2) / 2, x(s.ci95High), y + (barH - 2) / 2, stroke: "#000", width: 1)
                }
                svg.text(humanTime(s.median) + (r.valid ? "" : " (invalid)"), x(max(s.median, s.ci95High)) + 4,
                         y + barH - 3, size: 10)
            }
        }
        svg.line(left, top - 4, left, bottom, stroke: "#333")
        svg.line(left, bottom, left + plotW, bottom, stroke: "#333")
        // legend
        for (j, p) in placements.enumerated() {
            let lx = left + Double(j) * 130
            svg.rect(lx, 34, 14, 10, fill: palette[j])
            svg.text(p.rawValue, lx + 19, 43, size: 12)
        }
        svg.text("whisker: 95 % CI of the median; grey bar: row invalid", left + 265, 43, size: 10, fill: "#555")
        svg.text("Environment: \(run.environment.cpuModel), \(run.environment.virtualization), Linux \(run.environment.kernel)",
                 8, height - 10, size: 10, fill: "#555")
        return svg.text
    }

    // MARK: TLB curve

    static let tlbLines: [(String, String)] = [("4k", "4 KiB pages"), ("2m", "2 MiB pages"), ("control", "cache-only control")]

    public static func tlbCurve(_ run: RunResult) -> String? {
        let tlb = run.records(harness: "tlb")
        let points = tlbLines.map { line -> (String, [(Double, Record)]) in
            let pts = tlb.filter { $0.mechanism == line.0 && $0.metric == "ns_per_access" && $0.stats != nil }
                .compactMap { r in r.workingSetPages.map { (Double($0), r) } }
                .filter { $0.0 > 0 }
                .sorted { $0.0 < $1.0 }
            return (line.1, pts)
        }
        let all = points.flatMap { $0.1 }
        guard !all.isEmpty else { return nil }
        // Knees: rows whose metric names a reach (e.g. reach_pages), at their working set or median.
        // Knees: the tlb harness's reach rows (metric reach_l<i>_pages, unit pages), at that many pages.
        let knees = tlb.filter { $0.metric.hasPrefix("reach_") && $0.metric.hasSuffix("_pages") && $0.unit == "pages" }
            .compactMap { r -> (Double, String, String, String, String)? in
                guard let pages = r.stats?.median ?? r.workingSetPages.map(Double.init), pages > 0 else { return nil }
                let level = r.metric.dropFirst("reach_".count).dropLast("_pages".count).uppercased()
                let color = palette[tlbLines.firstIndex { $0.0 == r.mechanism } ?? 3]
                return (pages, "\(r.mechanism) \(level) reach: \(Int(pages.rounded())) pages", color, level, r.mechanism)
            }
        let xs = all.map(\.0) + knees.map(\.0)
        let lx = floor(log2(xs.min()!)), hx = max(ceil(log2(xs.max()!)), lx + 1)
        let ymax = all.compactMap { $0.1.stats?.median }.max()! * 1.1
        let left = 70.0, right = 185.0, top = 50.0, plotW = 560.0, plotH = 330.0
        var svg = SVGDocument(width: left + plotW + right, height: top + plotH + 80)
        svg.text("TLB: time per access vs working set (one access per page)", left + plotW / 2, 24, size: 15,
                 anchor: .middle, weight: "bold")
        func x(_ pages: Double) -> Double { left + (log2(pages) - lx) / (hx - lx) * plotW }
        func y(_ ns: Double) -> Double { top + plotH - ns / ymax * plotH }
        let bottom = top + plotH
        // x ticks every octave (label every other one when crowded)
        let octaves = Int(hx - lx)
        let step = octaves > 12 ? 2 : 1
        var e = Int(lx)
        while e <= Int(hx) {
            let px = x(pow(2, Double(e)))
            svg.line(px, top, px, bottom, stroke: "#eee")
            if (e - Int(lx)) % step == 0 {
                let pages = 1 << e
                let label = pages >= 1024 ? "\(pages / 1024)Ki" : "\(pages)"
                svg.text(label, px, bottom + 16, size: 11, anchor: .middle)
            }
            e += 1
        }
        svg.text("working set (pages, log2 scale)", left + plotW / 2, bottom + 38, size: 12, anchor: .middle)
        // y ticks: 5 divisions, nice step
        let rawStep = ymax / 5
        let mag = pow(10, floor(log10(rawStep)))
        let niceStep = [1.0, 2, 2.5, 5, 10].map { $0 * mag }.first { $0 >= rawStep } ?? rawStep
        var t = 0.0
        while t <= ymax {
            svg.line(left, y(t), left + plotW, y(t), stroke: "#eee")
            svg.text(String(format: niceStep < 1 ? "%.1f" : "%g", t), left - 6, y(t) + 4, size: 11, anchor: .end)
            t += niceStep
        }
        svg.text("ns per access", 18, top + plotH / 2, size: 12, anchor: .middle, rotate: -90)
        svg.line(left, top, left, bottom, stroke: "#333")
        svg.line(left, bottom, left + plotW, bottom, stroke: "#333")
        // On the plot a dashed line and a short level tag per knee (one row of tags per page size, so
        // coinciding knees do not overprint); the full "reach: N pages" list sits under the legend.
        for k in knees {
            let px = x(k.0)
            let row = Double(tlbLines.firstIndex { $0.0 == k.4 } ?? 0)
            svg.line(px, top, px, bottom, stroke: k.2, width: 1, dash: "5,4")
            svg.text(k.3, px + 3, top + 11 + row * 12, size: 10, fill: k.2)
        }
        for (i, line) in points.enumerated() where !line.1.isEmpty {
            let color = palette[i]
            svg.polyline(line.1.map { (x($0.0), y($0.1.stats!.median)) }, stroke: color, dash: i == 2 ? "6,3" : nil)
            for (pages, r) in line.1 {
                svg.circle(x(pages), y(r.stats!.median), r: 2.5, fill: r.valid ? color : "#bbbbbb",
                           title: "\(line.0), \(Int(pages)) pages: \(String(format: "%.2f", r.stats!.median)) ns/access")
            }
        }
        // legend
        var ly = top + 10
        for (i, line) in points.enumerated() {
            let lxp = left + plotW + 14
            svg.line(lxp, ly, lxp + 22, ly, stroke: palette[i], width: 2, dash: i == 2 ? "6,3" : nil)
            svg.text(line.0 + (line.1.isEmpty ? " (not measured)" : ""), lxp + 28, ly + 4, size: 11)
            ly += 18
        }
        if !knees.isEmpty {
            let lxp = left + plotW + 14
            svg.line(lxp, ly, lxp + 22, ly, stroke: "#555", width: 1, dash: "5,4")
            svg.text("TLB reach (knee)", lxp + 28, ly + 4, size: 11)
            ly += 22
            for k in knees {
                svg.text(k.1, lxp, ly, size: 10, fill: k.2)
                ly += 14
            }
        }
        svg.text("Environment: \(run.environment.cpuModel), \(run.environment.virtualization), THP \(run.environment.thp), Linux \(run.environment.kernel)",
                 8, top + plotH + 70, size: 10, fill: "#555")
        return svg.text
    }
}
