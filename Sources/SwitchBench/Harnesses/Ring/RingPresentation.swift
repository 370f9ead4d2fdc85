import Foundation

/// The process and thread rings' section (process vs thread switch), claim C1 and their compare rule.
extension TokenRingHarness {
    public var presentationID: String { "ring" }

    /// yes, or **no** with the invalid rows' notes (English only: notes are English commentary).
    static func validity(_ rs: [Record?], _ lang: Language) -> String {
        let present = rs.compactMap { $0 }
        if present.isEmpty { return "n/a" }
        let bad = present.filter { !$0.valid }
        guard !bad.isEmpty else { return Format.valid(true, lang: lang) }
        return Format.valid(false, lang: lang) + (lang == .en ? ": " + bad.map { "\($0.harness): \($0.note)" }.joined(separator: "; ") : "")
    }

    public func markdownSection(_ run: RunResult, lang: Language) -> String? {
        let procs = run.records(harness: "process").filter { $0.metric == "round_trip" }
        let threads = run.records(harness: "thread").filter { $0.metric == "round_trip" }
        guard !procs.isEmpty || !threads.isEmpty else { return nil }
        let keys = (procs + threads).map { r -> CaseKey in
            var k = r.key
            k.harness = ""
            return k
        }.orderedUnique()
        func get(_ k: CaseKey, _ h: String, _ metric: String) -> Record? {
            var key = k
            key.harness = h
            key.metric = metric
            return run.records.first { $0.key == key }
        }
        func spo(_ r: Record?) -> String { Format.number(r?.switchesPerOp) }
        // Switch cost: every task on one CPU (or unpinned), each hand-off a context switch.
        var t = MarkdownTable(lang == .en
            ? ["mechanism", "placement", "tasks", "footprint", "process round trip", "thread round trip",
               "process per switch", "thread per switch", "process ÷ thread", "process net", "thread net",
               "context switches per round trip, kernel's count (process, thread)", "valid"]
            : ["机制", "放置", "任务数", "每次接触的内存", "进程往返", "线程往返",
               "进程每次切换", "线程每次切换", "进程 ÷ 线程", "进程净值", "线程净值",
               "每次往返的上下文切换次数（内核统计；进程，线程）", "有效"])
        // Wake-up latency: each hand-off wakes another, idle CPU — not switch cost.
        var w = MarkdownTable(lang == .en
            ? ["mechanism", "CPUs", "tasks", "process: one hand-off", "thread: one hand-off", "valid"]
            : ["机制", "处理器", "任务数", "进程：一次交接", "线程：一次交接", "有效"])
        for k in keys {
            let pr = get(k, "process", "round_trip"), tr = get(k, "thread", "round_trip")
            let ps = get(k, "process", "per_switch"), ts = get(k, "thread", "per_switch")
            if k.placement == Placement.crossCPU.rawValue {
                w.add(["`\(k.mechanism)`", k.cpusText, String(k.tasks), Format.median(ps), Format.median(ts), Self.validity([pr, tr], lang)])
                continue
            }
            t.add(["`\(k.mechanism)`", Terms.placement(k.placement, lang),
                   String(k.tasks), k.footprintBytes == 0 ? "0" : Format.bytes(Double(k.footprintBytes)),
                   Format.median(pr), Format.median(tr), Format.median(ps), Format.median(ts),
                   Format.ratio(ps?.stats?.median, ts?.stats?.median),
                   Format.median(get(k, "process", "net_switch")), Format.median(get(k, "thread", "net_switch")),
                   "\(spo(pr)), \(spo(tr))", Self.validity([pr, tr], lang)])
        }
        let intro = lang.t("""
        One round trip passes a token through every task once (two tasks: there and back). On one CPU
        each hand-off is a context switch, so per switch = round trip ÷ tasks; *net* also subtracts
        the cost of the same IPC in one task with no switch. The process column includes what changing the
        address space adds, but the two columns also differ in their IPC: a futex shared between processes
        takes the kernel's shared-futex path, a futex between threads the private one, so the gap is not the
        page-table step alone — compare it across mechanisms (the `anatomy` harness measures the step on its own).
        The context switch counts are the kernel's own. Unpinned rows leave the placement to the scheduler:
        when it puts the two tasks on two CPUs, each hand-off is a cross-CPU wake-up, and the row's time is that
        latency rather than a switch's (compare it with the cross-CPU table below).
        """, """
        一次往返让令牌在每个任务手里走一遍（两个任务就是去一次、回一次）。在同一处理器上，
        每次交接都是一次上下文切换，所以每次切换的代价 = 往返时间 ÷ 任务数；“净值”再减去同样的进程间通信在单个任务里、
        不发生切换时的开销。进程列包含了切换地址空间多出来的代价，但两列的进程间通信也不一样：进程之间共享的 futex
        走内核里共享 futex 的路径，线程之间的 futex 走私有的路径，所以两列之差不只是切换页表这一步，要对照不同机制来看
        （`anatomy` 测试单独测量这一步）。上下文切换次数是内核自己统计的。“不绑定处理器”的行把放置交给调度器：
        两个任务被放到两个处理器上时，每次交接都要唤醒另一个处理器上的任务，这一行的时间就是唤醒延迟，而不是切换的代价（可与下面的唤醒延迟表对照）。
        """)
        var blocks = [intro, t.rows.isEmpty ? "" : t.text]
        if !w.rows.isEmpty {
            blocks.append(lang.t("""
            **Cross-CPU wake-up latency (not switch cost).** Each task on its own CPU: no task waits for another's
            CPU, almost every hand-off wakes an idle CPU (in a VM: an idle virtual CPU, through the hypervisor; the split below
            counts those that did). One hand-off = round trip ÷ tasks.
            """, """
            **跨处理器唤醒延迟（不是切换的代价）。** 每个任务各占一个处理器：没有任务要等别人让出处理器，
            几乎每次交接都要唤醒一个空闲的处理器（在虚拟机里是唤醒一个空闲的虚拟处理器，要经过虚拟机管理程序；下面的拆分数出了有多少次是这样）。一次交接 = 往返时间 ÷ 任务数。
            """))
            blocks.append(w.text)
        }
        if let l = Self.latencySection(run, lang: lang) { blocks.append(l) }
        if let s = Self.splitSection(run, lang: lang) { blocks.append(s) }
        return Claims.section(lang.t("## Process vs thread switch (claim C1)", "## 进程切换与线程切换（说法 C1）"), blocks, run, lang)
    }

    public func plots(_ run: RunResult, lang: Language) -> [Plot] {
        guard let s = Self.latencyPlot(run, lang: lang) else { return [] }
        return [Plot(name: Self.latencyPlotName, title: Self.latencyPlotTitle(lang), contents: s)]
    }

    /// notes.md: one sentence on the tail, per run (a line per run when several), after the two-step
    /// parts and their table (the sentence is about another ring: `policy`).
    public func notesSection(_ runs: [RunResult], lang: Language) -> String? {
        let lines = runs.compactMap { Self.latencySentence($0, lang: lang) }
        guard !lines.isEmpty else { return nil }
        let lead = lang.t("**One hand-off at a time.** ", "**逐次交接。**")
        return lines.count == 1 ? lead + lines[0] : lead + "\n\n" + lines.map { "- " + $0 }.joined(separator: "\n")
    }

    public var notesOrder: Int { 1 }

    // Claim C1 is judged by the anatomy harness, from process and thread switches timed in
    // alternating pairs (AnatomyPresentation.swift): these rings are timed one after the other,
    // minutes apart in `--all`, so their ratio carries the host's phases.


    /// Metrics computed from another row of the same case, and that row's metric.
    public static let derivedFrom = ["net_switch": "ipc_overhead", "per_switch": "round_trip"]

    /// A derived row never counts by itself; the rows it is computed from are compared and carry the
    /// evidence. per_switch is round trip ÷ tasks, the same samples: gating both counted one change
    /// twice. net_switch (round trip ÷ tasks − IPC hop) is the difference of two noisy medians: a few
    /// % of drift in either moves it by more (measured: +10.9 % on a net_switch whose round trip and
    /// IPC rows each moved less than the threshold).
    public func compareExemption(_ c: Comparison.Case, baseline: [CaseKey: Record], current: [CaseKey: Record]) -> (en: String, zh: String)? {
        guard let sibling = Self.derivedFrom[c.metric] else { return nil }
        let formula = c.metric == "per_switch" ? ("round trip ÷ tasks", "往返时间 ÷ 任务数")
                                               : ("round trip ÷ tasks − \(sibling)", "往返时间 ÷ 任务数 − \(sibling)")
        return Comparison.derived(c, from: sibling, formula: formula, baseline: baseline, current: current)
    }
}
