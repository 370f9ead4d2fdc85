import Foundation

/// The per hand-off latency rows (RingLatency.swift) in results.md, notes.md and their plot.
extension TokenRingHarness {
    static let latencyPlotName = "hand-off-latency.svg"
    static func latencyPlotTitle(_ lang: Language) -> String {
        lang.t("One hand-off at a time: share slower than the time on the x axis (log scales)", "逐次交接：慢于横轴所示时间的交接所占比例（对数坐标）")
    }

    static func taskKindName(_ h: String, _ lang: Language) -> String {
        h == "process" ? lang.t("process", "进程") : (h == "thread" ? lang.t("thread", "线程") : h)
    }

    static func latencyRows(_ run: RunResult) -> [Record] {
        run.records.filter { ($0.harness == "process" || $0.harness == "thread") && $0.latency != nil }
    }

    static func direction(_ metric: String, _ lang: Language) -> String {
        switch metric {
        case "hand_off_ab": return "A→B"
        case "hand_off_ba": return "B→A"
        default: return lang.t("round trip", "往返")
        }
    }

    /// A cause's name for people (task and interrupt names stay as the kernel spells them, in code).
    static func causeName(_ c: String, _ lang: Language) -> String {
        switch c {
        case "timer tick": return lang.t("timer tick", "时钟中断")
        case TailCauses.noneTraced: return lang.t("nothing traced", "没有记录到事件")
        case "IPI function call": return lang.t("IPI (function call)", "处理器间中断（函数调用）")
        default:
            for (prefix, zh) in [("task ", "任务"), ("irq ", "中断"), ("softirq ", "软中断")] where c.hasPrefix(prefix) {
                let name = "`\(c.dropFirst(prefix.count))`"
                return lang == .en ? prefix + name : zh + " " + name
            }
            return "`\(c)`"
        }
    }

    static func causesText(_ c: TailCauses?, _ lang: Language) -> String {
        guard let c else { return "–" }
        if let why = c.unavailable { return lang.t("n/a: \(why)", "无法得知：`\(why)`") }
        let list = c.ranked.map { lang == .en ? "\($0.1) \(causeName($0.0, lang))" : "\(causeName($0.0, lang)) \($0.1) 次" }
        return lang.t("\(c.examined) of \(c.traced) traced, ≥ \(Format.value(c.thresholdNs, unit: "ns")): ",
                      "跟踪的 \(c.traced) 次中 \(c.examined) 次不短于 \(Format.value(c.thresholdNs, unit: "ns"))：")
            + list.joined(separator: lang.t(", ", "，"))
    }

    /// "1.23 µs [1.22, 1.24] (>100)": a percentile with its interval and the count above it.
    static func percentileText(_ p: Percentile?, _ lang: Language) -> String {
        guard let p else { return "–" }
        let ci = (p.ci95Low != nil && p.ci95High != nil)
            ? " [\(Format.value(p.ci95Low, unit: "ns")), \(Format.value(p.ci95High, unit: "ns"))]" : ""
        return Format.value(p.ns, unit: "ns") + ci + " (>\(p.above))"
    }

    /// The batch row the p50 is another measurement of: per_switch for one way, round_trip for the lap.
    static func batchRow(_ r: Record, _ run: RunResult) -> Record? {
        var k = r.key
        k.metric = r.metric == "hand_off_round_trip" ? "round_trip" : "per_switch"
        return run.records.first { $0.key == k }
    }

    static func latencySection(_ run: RunResult, lang: Language) -> String? {
        let rows = latencyRows(run)
        guard !rows.isEmpty else { return nil }
        var t = MarkdownTable(lang == .en
            ? ["task", "mechanism", "placement", "direction", "hand-offs", "p50", "p90", "p99", "p99.9", "p99.99", "max",
               "batch median", "p50 ÷ batch median", "mean ÷ batch median", "involuntary switches per hand-off",
               "clock skew bound", "the tail's causes", "valid"]
            : ["任务", "机制", "放置", "方向", "交接次数", "p50", "p90", "p99", "p99.9", "p99.99", "最大值",
               "批量中位数", "p50 ÷ 批量中位数", "平均值 ÷ 批量中位数", "每次交接的非自愿切换", "时钟偏差范围", "尾部的原因", "有效"])
        for r in rows {
            let l = r.latency!
            let batch = batchRow(r, run)
            // Unpinned, the scheduler may place the batch's tasks and the stamped ones differently.
            let comparable = r.placement != Placement.unpinned.rawValue
            let skew: String
            if let lo = r.factNumber("clock_skew_low_ns"), let hi = r.factNumber("clock_skew_high_ns") {
                skew = "\(Format.value(lo, unit: "ns")) … \(Format.value(hi, unit: "ns"))"
            } else {
                skew = r.placement == Placement.sameCPU.rawValue ? lang.t("0 (one CPU)", "0（同一处理器）")
                    : lang.t("not bounded: the CPUs change", "无法界定：处理器会变")
            }
            t.add([taskKindName(r.harness, lang), "`\(r.mechanism)`", Terms.placement(r.placement, lang), direction(r.metric, lang),
                   String(l.count), percentileText(l.percentile("p50"), lang), percentileText(l.percentile("p90"), lang),
                   percentileText(l.percentile("p99"), lang), percentileText(l.percentile("p99.9"), lang),
                   percentileText(l.percentile("p99.99"), lang), Format.value(l.maxNs, unit: "ns"),
                   Format.median(batch), comparable ? Format.ratio(l.percentile("p50")?.ns, batch?.stats?.median) : "–",
                   comparable ? Format.ratio(r.stats?.mean, batch?.stats?.median) : "–",
                   r.factNumber("involuntary_per_hand_off").map { String(format: "%.2f", $0) } ?? "–", skew, causesText(l.causes, lang),
                   Format.valid(r.valid, lang: lang)])
        }
        let clock = rows.first?.fact("stamp_clock") ?? "?"
        let cost = rows.first?.factNumber("stamp_cost_ns")
        let intro = lang.t("""
        **One hand-off at a time.** Between its batches, the same ring passes a stamped token: the waker reads \
        the clock (`\(clock)`) right before it wakes the next task, the wakee right after its wait returns. \
        A→B is task 0 to task 1, B→A the way back, round trip from task 0's send to its receipt. Each percentile \
        has its 95 % interval (order statistics; none where too few hand-offs lie beyond it) and, after `>`, how \
        many hand-offs were slower. A stamp costs \
        \(Format.value(cost, unit: "ns")) (two back-to-back reads), not subtracted. The stamped laps run in chunks \
        between the batch samples, so both see the same seconds of the host. *p50 ÷ batch median* and *mean ÷ \
        batch median*: the one-way p50 and mean over the batch rows' per-switch median (the round trip's over the \
        batch round trip), two measurements of one thing on one CPU. A batch is a mean, so the mean ratio is the \
        like-for-like one (the tail pulls the mean up on a busy machine); the p50 ratio falls below it when the \
        one-way times have two peaks. Across CPUs the batch samples spread widely (see their interval in the \
        rows below), so the ratios there are loose; unpinned, the scheduler may place the batch and the stamps \
        differently, so no ratio is given. The table after this one times the traced hand-offs by the path they \
        took; what makes the second peak is not measured: compare the share of its slowest path (the woken task \
        runs only once its waker slept) with the share of the untraced hand-offs in the second peak (the \
        `latency_histogram` column), and note that the trace slows every hand-off. *Involuntary switches per hand-off* counts, over the \
        stamped laps, the ring's tasks switched out while still runnable. The causes come from a second, shorter run with the kernel's tracepoints on \
        (sched_switch to another task, interrupts, softirqs, timer ticks): each of its hand-offs slower than \
        the row's p99.9 (at least its 10 slowest) is given the first-ranked event between its stamps; *nothing traced* means the kernel recorded none there (a \
        wait \
        on the run queue, or the host not running this virtual CPU, are not told apart).
        """, """
        **逐次交接。** 在批量测量的样本之间，同一个环还传递一个打时间戳的令牌：唤醒方在唤醒下一个任务之前读一次时钟（`\(clock)`），\
        被唤醒方在等待返回之后立刻再读一次。A→B 是任务 0 交给任务 1，B→A 是交回来，往返是从任务 0 发出到它收回。\
        每个百分位数都给出 95 % 置信区间（由次序统计量得出；比它慢的交接太少时没有区间），`>` 后面是比它更慢的交接次数。读一次时钟要 \
        \(Format.value(cost, unit: "ns"))（连续读两次测得），没有减去。打时间戳的几轮分成小段，穿插在批量样本之间，\
        两者经历宿主机的同一段时间。“p50 ÷ 批量中位数”和“平均值 ÷ 批量中位数”是单程 p50 和单程平均值除以批量测量的每次切换中位数\
        （往返则除以批量的往返中位数），在同一处理器上两者测的是同一件事。批量值本身是平均值，所以平均值之比才是同类相比\
        （机器繁忙时尾部会把平均值拉高）；单程时间有两个峰时 p50 之比会低于它。跨处理器时批量样本分散得很开（见下面各行的置信区间），\
        所以那里的比值只是粗略的；不绑定处理器时，调度器可能把批量和打时间戳的任务放在不同的位置，所以不给比值。\
        下一张表按交接走的路径给出跟踪时的时间；第二个峰由什么形成，这里没有测：可以把最慢路径（被唤醒的任务等唤醒方睡下后才运行）\
        所占的比例，与未跟踪的交接落在第二个峰里的比例（`latency_histogram` 列）对照，并注意跟踪本身会让每次交接变慢。\
        “每次交接的非自愿切换”统计打时间戳的几轮里，环中任务在仍可运行时被换下的次数。原因来自第二次、较短的运行，\
        运行时打开内核的跟踪点（切换到别的任务、硬中断、软中断、时钟中断）：其中比本行 p99.9 慢的每次交接（至少取最慢的 10 次）\
        取两次时间戳之间排在最前的事件；\
        “没有记录到事件”表示内核在那段时间里什么也没记下（在运行队列里等待，或者宿主机没有运行这个虚拟处理器，两者分不开）。
        """)
        return intro + "\n\n" + t.text
    }

    /// notes.md: "a switch usually takes X; one in a thousand takes over Y, mostly because Z" from the
    /// same-cpu futex process ring (the class table's process switch), A→B.
    static func latencySentence(_ run: RunResult, lang: Language) -> String? {
        let rows = latencyRows(run).filter { $0.placement == Placement.sameCPU.rawValue && $0.metric == "hand_off_ab" }
        let valid = rows.filter(\.valid)
        // Only a valid row is quoted: an invalid one (busy neighbours …) is named as such, with no number.
        guard let r = valid.first(where: { $0.harness == "process" && $0.mechanism == "futex" }) ?? valid.first else {
            guard !rows.isEmpty else { return nil }
            return lang.t("""
                The hand-offs timed one at a time on one CPU were measured, but their rows are invalid (results.csv's `note` column says why), so this page \
                quotes none of their numbers.
                """,
                          "在同一处理器上逐次计时的交接测了，但这些数据行无效（原因见 results.csv 的 `note` 列），本页不引用它们的数。")
        }
        guard let l = r.latency, let p50 = l.percentile("p50"), let p999 = l.percentile("p99.9") else { return nil }
        let (x, y) = (Format.value(p50.ns, unit: "ns"), Format.value(p999.ns, unit: "ns"))
        let (kind, n) = (taskKindName(r.harness, .zh), ManyFormat.count(l.count))
        let head = lang.t("""
            Handing a token from one \(r.harness) to another on one CPU (`\(r.mechanism)`, A→B): half the hand-offs take \
            under \(x); one in a thousand takes over \(y)
            """, "在同一处理器上，一个\(kind)把令牌交给另一个（`\(r.mechanism)`，A→B）：一半的交接不到 \(x)；一千次里有一次超过 \(y)")
        return head + tailText(l.causes, lang) + lang.t(" (\(n) hand-offs, results.md).", "（共 \(n) 次交接，见 results.md）。")
            + policy(r, lang)
    }

    /// What the trace recorded between the stamps of the slowest traced hand-offs: the first-ranked event
    /// that most of them had (said as what was there, not as a cause proved), and how many had none.
    static func tailText(_ causes: TailCauses?, _ lang: Language) -> String {
        guard let c = causes, c.unavailable == nil else {
            return lang.t("; what was between their stamps was not measured (\(causesText(causes, .en)))",
                          "；两个时间戳之间发生了什么没有测到（\(causesText(causes, .zh))）")
        }
        let none = c.counts[TailCauses.noneTraced] ?? 0
        let t = Format.value(c.thresholdNs, unit: "ns")
        guard let top = c.ranked.first(where: { $0.0 != TailCauses.noneTraced }) else {
            return lang.t("; the kernel recorded nothing between the stamps of the \(c.examined) slowest traced hand-offs (≥ \(t))",
                          "；跟踪到的最慢 \(c.examined) 次交接（≥ \(t)）的两个时间戳之间，内核什么也没记下")
        }
        let (en, zh) = (causeName(top.0, .en), causeName(top.0, .zh))
        return lang.t("""
            ; of the \(c.examined) slowest traced hand-offs (≥ \(t)), \(top.1) had \(en) between their stamps as the \
            first-ranked event\(none > 0 ? " and \(none) had nothing recorded" : "")
            """, "；跟踪到的最慢 \(c.examined) 次交接（≥ \(t)）中，有 \(top.1) 次在两个时间戳之间排在最前的事件是\(zh)\(none > 0 ? "，\(none) 次什么也没记下" : "")")
    }

    /// Which ring the sentence quotes, beside the two-step table's hand-off (another policy, another row).
    static func policy(_ r: Record, _ lang: Language) -> String {
        lang.t("""
             These are the `\(r.harness)` harness's two-task ring under the default policy `SCHED_OTHER`; the futex hand-off of the two-step table runs its \
            tasks under `SCHED_BATCH`, so that every hand-off sleeps, and is a separate measurement.
            """,
               "这是 `\(r.harness)` 测试的两任务环，用默认调度策略 `SCHED_OTHER`；两步表里的 futex 交接让任务用 `SCHED_BATCH`，每次交接都进入睡眠，是另一项测量。")
    }

    /// One panel per placement: for each ring and direction, the share of hand-offs slower than x
    /// (1 − CDF from the histogram's buckets), both axes logarithmic, so the tail is visible.
    static func latencyPlot(_ run: RunResult, lang: Language) -> String? {
        let rows = latencyRows(run).filter { $0.metric != "hand_off_round_trip" }
        guard !rows.isEmpty else { return nil }
        let placements = Placement.allCases.map(\.rawValue).filter { p in rows.contains { $0.placement == p } }
        let (w, panelH, left, top) = (760.0, 230.0, 70.0, 40.0)
        var svg = SVGDocument(width: w, height: top + Double(placements.count) * (panelH + 50) + 40)
        svg.text(latencyPlotTitle(lang), w / 2, 22, size: 14, anchor: .middle, weight: "bold")
        let xs = rows.flatMap { r in r.latency!.histogram.buckets.map(\.midpoint) }.filter { $0 > 0 }
        let lo = pow(10, floor(log10(xs.min() ?? 100))), hi = pow(10, ceil(log10(xs.max() ?? 1e6)))
        let plotW = w - left - 200
        func x(_ v: Double) -> Double { left + (log10(max(v, lo)) - log10(lo)) / (log10(hi) - log10(lo)) * plotW }
        let series = Array(Set(rows.map { "\($0.harness) \($0.mechanism)" })).sorted()
        for (pi, p) in placements.enumerated() {
            let y0 = top + Double(pi) * (panelH + 50)
            let minY = 1e-5
            func y(_ f: Double) -> Double { y0 + (log10(1) - log10(max(f, minY))) / (0 - log10(minY)) * panelH }
            svg.text(Terms.placement(p, lang), left, y0 - 6, size: 12, weight: "bold")
            svg.line(left, y0 + panelH, left + plotW, y0 + panelH)
            svg.line(left, y0, left, y0 + panelH)
            var d = lo
            while d <= hi * 1.001 {
                svg.line(x(d), y0, x(d), y0 + panelH, stroke: "#ddd")
                svg.text(SVGPlots.timeTick(d), x(d), y0 + panelH + 14, size: 10, anchor: .middle)
                d *= 10
            }
            for e in 0...5 {
                let f = pow(10, -Double(e))
                svg.line(left, y(f), left + plotW, y(f), stroke: "#eee")
                svg.text(["100 %", "10 %", "1 %", "0.1 %", "0.01 %", "0.001 %"][e], left - 4, y(f) + 4, size: 10, anchor: .end)
            }
            for r in rows where r.placement == p {
                let l = r.latency!
                var above = l.count
                var pts: [(Double, Double)] = []
                for b in l.histogram.buckets {
                    above -= b.count
                    if above > 0 { pts.append((x(b.midpoint), y(Double(above) / Double(l.count)))) }
                }
                let si = series.firstIndex(of: "\(r.harness) \(r.mechanism)") ?? 0
                svg.polyline(pts, stroke: SVGPlots.palette[si % SVGPlots.palette.count], width: 1.5,
                             dash: r.metric == "hand_off_ba" ? "4 3" : nil)
            }
        }
        for (si, s) in series.enumerated() {
            let parts = s.split(separator: " ")
            let ly = top + 10 + Double(si) * 18
            svg.line(w - 190, ly, w - 165, ly, stroke: SVGPlots.palette[si % SVGPlots.palette.count], width: 2)
            svg.text("\(taskKindName(String(parts[0]), lang)) \(parts[1])", w - 160, ly + 4, size: 11)
        }
        let ly = top + 10 + Double(series.count) * 18
        svg.text(lang.t("solid A→B, dashed B→A", "实线 A→B，虚线 B→A"), w - 190, ly + 4, size: 11)
        // Invalid rows (busy neighbours) are drawn, but the legend says they are no finding.
        let invalid = rows.filter { !$0.valid }.count
        if invalid > 0 {
            svg.text(invalid == rows.count ? lang.t("all rows invalid: no finding", "这些行全部无效，不作结论")
                                           : lang.t("\(invalid) of \(rows.count) rows invalid (results.md)", "\(rows.count) 行中 \(invalid) 行无效（见 results.md）"),
                     w - 190, ly + 22, size: 11, weight: "bold")
        }
        svg.text(lang.t("one hand-off (log scale)", "一次交接（对数坐标）"), left + plotW / 2, svg.height - 8, size: 11, anchor: .middle)
        return svg.text
    }
}
