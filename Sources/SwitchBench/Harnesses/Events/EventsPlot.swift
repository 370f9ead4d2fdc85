import Foundation

/// cost-per-event.svg: time per event against N (log–log), a line per kind and burst size K.
public enum EventsPlot {
    /// Colour per kind: the thread-per-task kinds warm-cold apart from the event-loop kinds.
    static let colors = ["thread": "#1f77b4", "process": "#d62728", "asm": "#2ca02c", "swift-task": "#ff7f0e"]
    /// Line style per K, smallest K first: solid, dashed, dotted.
    static let dashes: [String?] = [nil, "7,4", "2,3"]

    /// A point: a circle for the smallest K, a square for the larger ones (a K > 1 series may be one point).
    static func marker(_ svg: inout SVGDocument, _ x: Double, _ y: Double, square: Bool, fill: String, title: String?) {
        if square { svg.rect(x - 4.5, y - 4.5, 9, 9, fill: fill, title: title) } else { svg.circle(x, y, r: 4.5, fill: fill, title: title) }
    }

    struct Series {
        var mechanism: String
        var k: Int
        var points: [(n: Int, r: Record)]
    }

    /// The plot's frame: where N and time map to on the page.
    struct Frame {
        var nLo: Double, nHi: Double, tLo: Double, tHi: Double
        let left = 78.0, top = 74.0, plotW = 440.0, plotH = 330.0
        var legendX: Double { left + plotW + 28 }
        func x(_ n: Double) -> Double { left + (log10(n) - nLo) / (nHi - nLo) * plotW }
        func y(_ t: Double) -> Double { top + plotH - (log10(t) - tLo) / (tHi - tLo) * plotH }
    }

    public static func render(_ run: RunResult, lang: Language = .en) -> String? {
        // same-cpu when measured (every switch a real one), else unpinned.
        var placement = Placement.sameCPU
        var rows = EventsHarness.eventRows(run, .sameCPU).filter { ($0.stats?.median ?? 0) > 0 }
        if rows.isEmpty {
            placement = .unpinned
            rows = EventsHarness.eventRows(run, .unpinned).filter { ($0.stats?.median ?? 0) > 0 }
        }
        guard !rows.isEmpty else { return nil }
        let ks = Set(rows.compactMap { EventsHarness.burst($0) }).sorted()
        var series: [Series] = []
        for m in EventsHarness.kinds {
            for k in ks {
                let pts = rows.filter { $0.mechanism == m && $0.metric == EventsHarness.eventMetric && $0.parameter(.burst) == k }
                    .sorted { $0.tasks < $1.tasks }.map { (n: $0.tasks, r: $0) }
                if !pts.isEmpty { series.append(Series(mechanism: m, k: k, points: pts)) }
            }
        }
        let ns = rows.map(\.tasks), times = rows.map { $0.stats!.median }
        // x: whole decades around the N measured; y: 1-2-5 ticks around the times measured.
        var nLo = floor(log10(Double(ns.min()!))), nHi = ceil(log10(Double(ns.max()!)))
        if nHi - nLo < 1 { nLo -= 0.5; nHi += 0.5 }
        let f = Frame(nLo: nLo, nHi: nHi, tLo: log10(times.min()! / 1.25), tHi: log10(times.max()! * 1.25))
        var svg = SVGDocument(width: f.legendX + 290, height: f.top + f.plotH + 104)
        let where_ = placement == .sameCPU ? lang.t("one CPU", "同一处理器") : lang.t("unpinned", "不绑核")
        svg.text(lang.t("Cost per event with N tasks waiting (\(where_), medians)", "N 个任务等待时每个事件的开销（\(where_)，中位数）"),
                 f.left + f.plotW / 2 + 60, 24, size: 15, anchor: .middle, weight: "bold")
        svg.text(lang.t("A burst makes K random tasks ready at once; time per event = burst time ÷ K.",
                        "一次突发让 K 个随机任务同时就绪；每个事件耗时 = 一次突发的时间 ÷ K。"),
                 f.left + f.plotW / 2 + 60, 44, size: 12, anchor: .middle, fill: "#444")
        axes(&svg, f, lang)
        var ly = legendAndSeries(&svg, f, series, ks, lang)
        let measured = Array(Set(ns)).sorted()
        for line in notes(run, placement, rows, ks, measured, lang) {
            svg.text(line, f.legendX, ly, size: 11, fill: "#444")
            ly += 16
        }
        svg.text(EnvironmentText.short(run.environment, lang: lang), 8, f.top + f.plotH + 94, size: 10, fill: "#555")
        return svg.text
    }

    /// The grid, the ticks and the axis titles.
    static func axes(_ svg: inout SVGDocument, _ f: Frame, _ lang: Language) {
        var d = f.nLo.rounded(.up)
        while d <= f.nHi {
            let v = pow(10, d)
            svg.line(f.x(v), f.top, f.x(v), f.top + f.plotH, stroke: "#ddd")
            svg.text(ManyFormat.count(Int(v)), f.x(v), f.top + f.plotH + 18, size: 11, anchor: .middle)
            d += 1
        }
        // 1-2-5 ticks; a narrow range (fewer than three of them) takes every whole step 1…9
        for v in Self.timeTicks(lo: f.tLo, hi: f.tHi) {
            svg.line(f.left, f.y(v), f.left + f.plotW, f.y(v), stroke: v == pow(10, floor(log10(v))) ? "#ccc" : "#eee")
            svg.text(SVGPlots.timeTick(v), f.left - 6, f.y(v) + 4, size: 11, anchor: .end)
        }
        svg.line(f.left, f.top, f.left, f.top + f.plotH, stroke: "#333")
        svg.line(f.left, f.top + f.plotH, f.left + f.plotW, f.top + f.plotH, stroke: "#333")
        svg.text(lang.t("N: tasks waiting at once (log scale)", "N：同时等待的任务数（对数坐标）"), f.left + f.plotW / 2,
                 f.top + f.plotH + 40, size: 12, anchor: .middle)
        svg.text(lang.t("time per event (log scale)", "每个事件的时间（对数坐标）"), 18, f.top + f.plotH / 2, size: 12, anchor: .middle,
                 rotate: -90)
    }

    /// Each series: a line through every N measured (in order), a marker per point, nudged sideways by
    /// series so that equal points do not hide each other, and its legend entry. Returns the legend's end.
    static func legendAndSeries(_ svg: inout SVGDocument, _ f: Frame, _ series: [Series], _ ks: [Int], _ lang: Language) -> Double {
        var ly = f.top + 4
        svg.text(lang.t("kind, K: kernel switches per event", "种类，K：每个事件的上下文切换次数（内核统计）"), f.legendX, ly,
                 size: 12, weight: "bold")
        ly += 20
        for (i, s) in series.enumerated() {
            let color = colors[s.mechanism] ?? "#555"
            let dash = dashes[min(ks.firstIndex(of: s.k) ?? 0, dashes.count - 1)]
            let nudge = (Double(i) - Double(series.count - 1) / 2) * 3
            let pts = s.points.map { (f.x(Double($0.n)) + nudge, f.y($0.r.stats!.median)) }
            if pts.count > 1 { svg.polyline(pts, stroke: color, width: 2, dash: dash) }
            let square = s.k != ks[0]
            for (p, (px, py)) in zip(s.points, pts) {
                let r = p.r
                if let st = r.stats, st.ci95High > st.ci95Low {
                    svg.line(px, f.y(max(st.ci95Low, pow(10, f.tLo))), px, f.y(min(st.ci95High, pow(10, f.tHi))), stroke: color, width: 1.2)
                }
                let sw = r.switchesPerOp.map { Format.number($0, 3) } ?? "?"
                marker(&svg, px, py, square: square, fill: r.valid ? color : "#bbbbbb",
                       title: "\(ManyFormat.kind(s.mechanism, lang)), N = \(ManyFormat.count(p.n)), K = \(s.k): \(Format.median(r)) " +
                              lang.t("per event, \(sw) kernel switches per event", "每个事件；每个事件 \(sw) 次上下文切换") +
                              Format.invalidMark(r.valid, lang))
            }
            svg.line(f.legendX, ly - 4, f.legendX + 30, ly - 4, stroke: color, width: 2, dash: dash)
            marker(&svg, f.legendX + 15, ly - 4, square: square, fill: color, title: nil)
            let switches = s.points.compactMap { $0.r.switchesPerOp }
            let sw = switches.isEmpty ? "?" : Format.number(Statistics(switches).median, 3)
            svg.text("\(ManyFormat.kind(s.mechanism, lang))\(lang.t(", ", "，"))K = \(s.k)\(lang.t(": ", "："))\(sw)", f.legendX + 38, ly, size: 12)
            ly += 19
        }
        return ly + 8
    }

    /// The notes under the legend: the expected switch counts, what the markers mean, the N measured.
    static func notes(_ run: RunResult, _ placement: Placement, _ rows: [Record], _ ks: [Int], _ measured: [Int], _ lang: Language) -> [String] {
        var notes = [lang.t("Thread or process per task: K + 1", "每任务一个线程或进程："),
                     lang.t("kernel switches per burst, (K + 1)/K per event.", "每次突发 K + 1 次上下文切换，每个事件 (K + 1)/K 次。"),
                     lang.t("Coroutines on one event-loop thread:", "一个事件循环线程上的协程："),
                     lang.t("2 per burst, 2/K per event.", "每次突发 2 次，每个事件 2/K 次。")]
        notes.append(lang.t("Vertical bar: 95 % CI of the median.", "竖线：中位数的 95 % 置信区间。"))
        let list = measured.map(ManyFormat.count).joined(separator: lang.t(", ", "、"))
        notes += [lang.t("N measured: \(list); a line joins them", "测过的 N：\(list)；线只连接"),
                  lang.t("only, nothing between was measured.", "这些点，中间没有测量。")]
        if ks.count > 1 {
            let big = ks.dropFirst().map(String.init).joined(separator: lang.t(", ", "、"))
            notes += [lang.t("Circles: K = \(ks[0]); squares: K = \(big).", "圆点：K = \(ks[0])；方块：K = \(big)。"),
                      lang.t("Each K is run only where N ≥ K.", "每个 K 只在 N ≥ K 时才测。")]
        }
        if ks == [1] {
            notes += [lang.t("Only K = 1 here: every kind switches", "这里只有 K = 1：各种方式都是"),
                      lang.t("twice per event (use --burst 1,16).", "每个事件切换 2 次（用 --burst 1,16）。")]
        }
        if EventsHarness.eventRows(run, placement).contains(where: { $0.stats == nil }) {
            notes.append(lang.t("A missing point was not run (a limit:", "缺少的点没有运行（受限制，"))
            notes.append(lang.t("the table in results.md names it).", "results.md 的表格写明了原因）。"))
        }
        if rows.contains(where: { !$0.valid }) {
            notes.append(lang.t("Grey point: row invalid (switch count off).", "灰色的点：该行无效（切换次数不对）。"))
        }
        return notes
    }

    /// Time ticks (ns) between 10^lo and 10^hi: 1-2-5 per decade, or every whole step 1…9 when that
    /// gives fewer than three, then every half step (a range inside one decade, e.g. 1.2–3.1 µs, had one tick).
    static func timeTicks(lo: Double, hi: Double) -> [Double] {
        func ticks(_ ms: [Double]) -> [Double] {
            var out: [Double] = []
            var decade = floor(lo)
            while decade <= ceil(hi) {
                for m in ms {
                    let v = m * pow(10, decade)
                    if log10(v) >= lo && log10(v) <= hi { out.append(v) }
                }
                decade += 1
            }
            return out
        }
        for ms in [[1.0, 2, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9], stride(from: 1.0, through: 9.5, by: 0.5).map { $0 }] {
            let t = ticks(ms)
            if t.count >= 3 { return t }
        }
        return ticks(stride(from: 1.0, through: 9.9, by: 0.1).map { $0 })
    }
}
