import Foundation

/// The kinds of switch the suite compares, cheapest first: one list for the switch-cost plot and the
/// side-by-side report (machines.md). Each is the two-task, no-footprint row of one case (`Claims.row`).
public enum SwitchKind: String, CaseIterable, Sendable {
    case syscall, coroutineAsm, coroutineGenerator, ucontext, swiftTask, swiftTaskYield
    case threadFutex, threadPipe, processFutex, processPipe

    public var harness: String {
        switch self {
        case .syscall: return "syscall"
        case .coroutineAsm, .coroutineGenerator, .ucontext, .swiftTask, .swiftTaskYield: return "coroutine"
        case .threadFutex, .threadPipe: return "thread"
        case .processFutex, .processPipe: return "process"
        }
    }

    public var mechanism: String {
        switch self {
        case .syscall: return "getppid"
        case .coroutineAsm: return "asm"
        case .coroutineGenerator: return "asm-generator"
        case .ucontext: return "ucontext"
        case .swiftTask: return "swift-task"
        case .swiftTaskYield: return "swift-task-yield"
        case .threadFutex, .processFutex: return "futex"
        case .threadPipe, .processPipe: return "pipe"
        }
    }

    /// per_call for the system call (no switch of task), per_switch for the others.
    public var metric: String { self == .syscall ? "per_call" : "per_switch" }

    /// The row of this kind in a run at a placement, nil when not measured.
    public func row(_ run: RunResult, placement: Placement = .sameCPU) -> Record? {
        Claims.row(run, harness, mechanism, metric, placement: placement)
    }

    /// "thread switch (futex)"; in Markdown the mechanism is a code span.
    public func label(_ lang: Language, markdown: Bool = false) -> String {
        let (en, zh, detail): (String, String, String?) = {
            switch self {
            case .syscall: return ("system call", "系统调用", "getppid")
            case .coroutineAsm: return ("coroutine", "协程", "asm")
            case .coroutineGenerator: return ("coroutine", "协程", "asm resume/yield")
            case .ucontext: return ("coroutine", "协程", "ucontext")
            case .swiftTask: return ("Swift task", "Swift 任务", nil)
            case .swiftTaskYield: return ("Swift task", "Swift 任务", "Task.yield")
            case .threadFutex, .threadPipe: return ("thread switch", "线程切换", mechanism)
            case .processFutex, .processPipe: return ("process switch", "进程切换", mechanism)
            }
        }()
        guard let detail else { return lang.t(en, zh) }
        let d = markdown ? "`\(detail)`" : detail
        return lang.t("\(en) (\(d))", "\(zh)（\(d)）")
    }

    /// The kinds switch-cost.svg draws.
    static let plotted: [SwitchKind] = [.coroutineAsm, .ucontext, .swiftTask, .syscall, .threadFutex, .threadPipe, .processFutex, .processPipe]
}

/// switch-cost.svg: every kind of switch on a log time axis, same-cpu and cross-cpu bars.
public enum SwitchCostPlot {
    public static func render(_ run: RunResult, lang: Language = .en) -> String? {
        let placements: [Placement] = [.sameCPU, .crossCPU]
        let rows = SwitchKind.plotted.compactMap { k -> (String, String, [Record?])? in
            let rs = placements.map { k.row(run, placement: $0) }
            return rs.contains { $0 != nil } ? (k.label(lang), k.harness, rs) : nil
        }
        guard !rows.isEmpty else { return nil }
        let values = rows.flatMap { $0.2.compactMap { $0?.stats?.median } }.filter { $0 > 0 }
        guard let lo = values.min(), let hi = values.max() else { return nil }
        let minDecade = floor(log10(lo)), maxDecade = max(ceil(log10(hi)), minDecade + 1)
        let left = 175.0, right = 90.0, top = 56.0, barH = 13.0, gap = 10.0
        let rowH = barH * 2 + gap
        let plotW = 520.0
        let height = top + Double(rows.count) * rowH + 70
        var svg = SVGDocument(width: left + plotW + right, height: height)
        svg.text(lang.t("Switch cost by kind (median per switch; system call: per call)", "各种切换的代价（每次切换的中位数；系统调用按每次调用）"),
                 left + plotW / 2, 22, size: 15, anchor: .middle, weight: "bold")
        func x(_ v: Double) -> Double { left + (log10(v) - minDecade) / (maxDecade - minDecade) * plotW }
        let bottom = top + Double(rows.count) * rowH
        var d = minDecade
        while d <= maxDecade {
            let v = pow(10, d)
            svg.line(x(v), top - 4, x(v), bottom, stroke: "#bbb")
            svg.text(SVGPlots.timeTick(v), x(v), bottom + 16, size: 11, anchor: .middle)
            if d < maxDecade {
                for m in [2.0, 5.0] { svg.line(x(v * m), top, x(v * m), bottom, stroke: "#eee") }
            }
            d += 1
        }
        svg.text(lang.t("time per switch (log scale)", "每次切换的时间（对数坐标）"), left + plotW / 2, bottom + 36, size: 12, anchor: .middle)
        for (i, row) in rows.enumerated() {
            let y0 = top + Double(i) * rowH + gap / 2
            svg.text(row.0, left - 8, y0 + barH + 4, size: 12, anchor: .end)
            for (j, r) in row.2.enumerated() {
                let y = y0 + Double(j) * barH
                guard let r, let s = r.stats, s.median > 0 else {
                    if j == 1 {
                        // coroutines share one thread and a system call has no peer: no cross-cpu case exists
                        let label = ["coroutine", "syscall"].contains(row.1)
                            ? lang.t("n/a (one thread)", "不适用（单线程）") : lang.t("not measured", "未测量")
                        svg.text(label, left + 4, y + barH - 3, size: 10, fill: "#888")
                    }
                    continue
                }
                let color = SVGPlots.palette[j]
                svg.rect(left, y, x(s.median) - left, barH - 2, fill: r.valid ? color : "#bbbbbb",
                         title: "\(row.0) \(placements[j].rawValue): \(humanTime(s.median)) (95 % CI \(humanTime(s.ci95Low)) – \(humanTime(s.ci95High)))")
                if s.ci95High > s.ci95Low {
                    svg.line(x(max(s.ci95Low, pow(10, minDecade))), y + (barH - 2) / 2, x(s.ci95High), y + (barH - 2) / 2, stroke: "#000", width: 1)
                }
                svg.text(humanTime(s.median) + (r.valid ? "" : lang.t(" (invalid)", "（无效）")), x(max(s.median, s.ci95High)) + 4,
                         y + barH - 3, size: 10)
            }
        }
        svg.line(left, top - 4, left, bottom, stroke: "#333")
        svg.line(left, bottom, left + plotW, bottom, stroke: "#333")
        for (j, p) in placements.enumerated() {
            let lx = left + Double(j) * 130
            svg.rect(lx, 34, 14, 10, fill: SVGPlots.palette[j])
            svg.text(p.rawValue, lx + 19, 43, size: 12)
        }
        svg.text(lang.t("whisker: 95 % CI of the median; grey bar: row invalid", "横线：中位数的 95 % 置信区间；灰色条：该行无效"), left + 265, 43, size: 10, fill: "#555")
        svg.text(EnvironmentText.short(run.environment, lang: lang), 8, height - 10, size: 10, fill: "#555")
        return svg.text
    }
}
