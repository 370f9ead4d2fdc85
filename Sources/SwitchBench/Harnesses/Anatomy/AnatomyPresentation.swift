import Foundation

/// A process switch taken apart (the anatomy harness's rows, one run): each part in ns per switch,
/// nil where a row it needs is missing or invalid. Parts defined as differences add up by
/// construction; the predictions of the futex and pipe hand-offs from parts timed alone
/// (`handOffs`) are the check that does not.
public struct SwitchAnatomy: Sendable, Equatable {
    /// getppid: one kernel entry and exit.
    public var privilege: Double?
    /// sched_yield() alone − getppid: the scheduler's pass that finds nothing else to run.
    public var scheduler: Double?
    /// thread yield switch − sched_yield() alone: the switch proper (step 2: kernel stack, registers).
    public var switchProper: Double?
    /// process − thread yield switch, median of paired differences (step 1: the address space).
    public var addressSpace: Double?
    /// The measured process yield switch (the sum of the four, up to pairing).
    public var processSwitch: Double?
    /// The measured thread yield switch.
    public var threadSwitch: Double?
    /// `wake-sleep process_sleep` − the process yield switch: what going to sleep in FUTEX_WAIT (until
    /// the woken task runs) costs beyond a switch by sched_yield(), both timed on their own.
    public var sleepOverYield: Double?
    /// `wake-sleep process_wake_none`: a FUTEX_WAKE that finds no waiter.
    public var wakeNone: Double?
    /// `wake-sleep process_wake_path`: FUTEX_WAKE of a sleeper − FUTEX_WAKE with none (try_to_wake_up).
    public var wakePath: Double?
    /// Predicted futex process switch: the yield switch + the three parts above (= the sleep + a
    /// FUTEX_WAKE with no waiter + the wake-up path, all timed alone).
    public var predictedFutex: Double?
    /// The futex process switch measured in its ring.
    public var measuredFutex: Double?
    /// The futex and pipe hand-offs, process and thread, each predicted from parts timed alone.
    public var handOffs: [HandOff] = []
    /// Step 2's hardware context: the XSAVE area (bytes, CPUID 0xD: compacted where XSAVES is there,
    /// as the kernel saves it, else standard) and what AVX-512 registers in use add per switch (paired).
    public var xsaveBytes: Double?
    public var vectorState: Double?
    /// The AVX-512 difference's 95 % interval contains 0: no difference beyond noise (said beside the number).
    public var vectorStateWithinNoise = false
    /// The note's 异常处理: the first write to a fresh 4 KiB page, per fault (not part of a switch).
    public var pageFault: Double?
    /// The rows left out because they are invalid, as `mechanism metric`.
    public var invalid: [String] = []

    /// One hand-off predicted from parts timed alone and measured in its ring (per switch).
    public struct HandOff: Sendable, Equatable {
        public var ipc: String
        public var kind: TaskKind
        public var predicted: Double?
        public var measured: Double?
        public var ratio: Double? {
            guard let p = predicted, let m = measured, m > 0 else { return nil }
            return p / m
        }
    }

    static func row(_ run: RunResult, _ mechanism: String, _ metric: String) -> Record? {
        run.records.first { $0.harness == "anatomy" && $0.mechanism == mechanism && $0.metric == metric && $0.stats != nil }
    }

    /// The anatomy of a run, nil when it has no anatomy rows of the yield pair.
    public static func of(_ run: RunResult) -> SwitchAnatomy? {
        guard row(run, "yield", "process_switch") != nil else { return nil }
        var a = SwitchAnatomy()
        func med(_ m: String, _ metric: String) -> Double? {
            guard let r = row(run, m, metric) else { return nil }
            guard r.valid else { a.invalid.append("`\(m) \(metric)`"); return nil }
            return r.stats!.median
        }
        func minus(_ x: Double?, _ y: Double?) -> Double? { x.flatMap { x in y.map { x - $0 } } }
        func sum(_ xs: Double?...) -> Double? { xs.contains { $0 == nil } ? nil : xs.reduce(0) { $0 + $1! } }
        let call = med("getppid", "per_call"), lone = med("sched-yield", "per_call")
        let thread = med("yield", "thread_switch"), process = med("yield", "process_switch")
        a.privilege = call
        a.scheduler = minus(lone, call)
        a.switchProper = minus(thread, lone)
        a.addressSpace = med("yield", "process_minus_thread")
        a.processSwitch = process
        a.threadSwitch = thread
        let ipc = (futex: med("futex", "ipc_alone"), pipe: med("pipe", "ipc_alone"))
        for kind in [TaskKind.process, .thread] {
            let k = kind.rawValue
            let sleep = med("wake-sleep", "\(k)_sleep"), none = med("wake-sleep", "\(k)_wake_none"), path = med("wake-sleep", "\(k)_wake_path")
            let futex = sum(sleep, none, path)
            a.handOffs.append(HandOff(ipc: "futex", kind: kind, predicted: futex, measured: med("futex", "\(k)_switch")))
            a.handOffs.append(HandOff(ipc: "pipe", kind: kind, predicted: minus(futex, ipc.futex).flatMap { x in ipc.pipe.map { x + $0 } },
                                      measured: med("pipe", "\(k)_switch")))
            if kind == .process {
                a.sleepOverYield = minus(sleep, process)
                (a.wakeNone, a.wakePath) = (none, path)
                a.predictedFutex = futex
            }
        }
        a.pageFault = med("page-fault", "per_fault")
        a.vectorState = med("avx512", "dirty_minus_clean")
        if a.vectorState != nil, let st = row(run, "avx512", "dirty_minus_clean")?.stats { a.vectorStateWithinNoise = st.ci95Low <= 0 && st.ci95High >= 0 }
        if let x = run.records.first(where: { $0.harness == "anatomy" && $0.factNumber(AnatomyHarness.xsaveBytesKey) != nil }) {
            let compacted = x.factNumber(AnatomyHarness.xsavesBytesKey) ?? 0
            a.xsaveBytes = compacted > 0 ? compacted : x.factNumber(AnatomyHarness.xsaveBytesKey)
        }
        a.handOffs.sort { ($0.ipc, $0.kind.rawValue) < ($1.ipc, $1.kind.rawValue) }
        a.measuredFutex = a.handOffs.first { $0.ipc == "futex" && $0.kind == .process }?.measured
        return a
    }

    /// predicted ÷ measured futex process switch.
    public var predictionRatio: Double? {
        guard let p = predictedFutex, let m = measuredFutex, m > 0 else { return nil }
        return p / m
    }

    /// The parts in order, with their names: what the stacked bars and the tables show. The first
    /// four make the yield switch; all seven the predicted futex hand-off.
    public func parts(_ lang: Language) -> [(name: String, ns: Double?)] {
        [(lang.t("privilege switch (user ↔ kernel)", "特权级切换（用户态 ↔ 内核态）"), privilege),
         (lang.t("scheduler pass", "调度器运行一次，无任务可换"), scheduler),
         (lang.t("switch proper: kernel stack and registers (step 2)", "切换本身：内核栈和硬件上下文（第二步）"), switchProper),
         (lang.t("address space: page table (step 1)", "地址空间：页表（第一步）"), addressSpace),
         (lang.t("going to sleep in FUTEX_WAIT instead of yielding (timed alone: sleep − yield switch)", "在 FUTEX_WAIT 里进入睡眠、而不是让出（单独计时：进入睡眠 − yield 切换）"),
          sleepOverYield),
         (lang.t("FUTEX_WAKE with no waiter (timed alone)", "没有等待者的 FUTEX_WAKE（单独计时）"), wakeNone),
         (lang.t("the wake-up path: waking a sleeper − FUTEX_WAKE with none (timed alone)", "唤醒路径：唤醒一个睡着的任务 − 没有等待者的 FUTEX_WAKE（单独计时）"), wakePath)]
    }
}

/// The anatomy harness's section, its stacked bar, its block of notes.md and claim C1.
extension AnatomyHarness {
    /// The parts named by their mechanism (any metric), for people.
    static let partNamesByMechanism: [String: (en: String, zh: String)] = [
        "getppid": ("privilege switch: `getppid` round trip", "特权级切换：一次 `getppid` 往返"),
        "page-fault": ("exception path: first touch of a fresh 4 KiB page", "异常处理：第一次写一个新的 4 KiB 页（缺页）"),
        "sched-yield": ("scheduler pass, nothing else to run: `sched_yield()`", "调度器运行一次、没有别的任务可换：`sched_yield()`"),
    ]

    /// The paired parts for people (`paired` names its rows `<a>_switch`, `<b>_switch`, `<a>_minus_<b>`,
    /// `<a>_over_<b>` after its two sides): each side's switch, then a − b and a ÷ b (said to be paired).
    static let pairedPartNames: [(a: String, b: String, names: [(en: String, zh: String)])] = [
        ("process", "thread", [("process switch (steps 1 + 2)", "进程切换（第一步 + 第二步）"),
                               ("thread switch (privilege switch + scheduler + step 2)", "线程切换（特权级切换 + 调度器 + 第二步）"),
                               ("step 1 = process − thread", "第一步 = 进程 − 线程"), ("process ÷ thread", "进程 ÷ 线程")]),
        ("dirty", "clean", [("thread switch, vector registers in use", "线程切换，向量寄存器正在使用"),
                            ("thread switch, vector registers clean", "线程切换，向量寄存器未使用"),
                            ("what the vector state adds", "向量寄存器状态多出的代价"), ("in use ÷ clean", "使用 ÷ 未使用")]),
        ("barrier", "plain", [("process switch with a forced IBPB", "强制 IBPB 的进程切换"), ("process switch without", "不强制 IBPB 的进程切换"),
                              ("what the barrier adds", "屏障多出的代价"), ("with ÷ without", "有 ÷ 无")]),
    ]

    /// The parts named by their metric (of any mechanism), for people: the paired rows, the hand-off alone
    /// and a part this machine cannot measure.
    static let partNamesByMetric: [String: (en: String, zh: String)] = {
        var names: [String: (en: String, zh: String)] = [
            "ipc_alone": ("the IPC calls alone, no switch", "只做进程间通信的调用、不切换"),
            "process_hand_off": ("one process hand-off at a time (`SCHED_BATCH`, stamped after the paired samples), p50; percentiles in results.csv",
                                 "逐次计时的一次进程交接（`SCHED_BATCH`，在成对样本之后打时间戳），p50；百分位数见 results.csv"),
            "thread_hand_off": ("one thread hand-off at a time (`SCHED_BATCH`, stamped after the paired samples), p50; percentiles in results.csv",
                                "逐次计时的一次线程交接（`SCHED_BATCH`，在成对样本之后打时间戳），p50；百分位数见 results.csv"),
            "not_available": ("not measured here", "这台机器上无法测量"),
        ]
        for p in pairedPartNames {
            let metrics = ["\(p.a)_switch", "\(p.b)_switch", "\(p.a)_minus_\(p.b)", "\(p.a)_over_\(p.b)"]
            for (i, (metric, name)) in zip(metrics, p.names).enumerated() {
                names[metric] = i < 2 ? name : (name.en + ", paired", name.zh + "（成对测量）")
            }
        }
        return names
    }()

    /// What a part is, for people: by its mechanism, else by its metric, else (wake-sleep) by the
    /// metric's kind and suffix; an unknown part is its metric in a code span.
    static func partName(_ mechanism: String, _ metric: String, _ lang: Language) -> String {
        if let name = partNamesByMechanism[mechanism] ?? partNamesByMetric[metric] { return lang.t(name.en, name.zh) }
        guard mechanism == "wake-sleep" else { return "`\(metric)`" }
        let m = metric
        let kind = m.hasPrefix("process") ? Terms.t(Terms.process, lang) : Terms.t(Terms.thread, lang)
        if m.hasSuffix("_wake_none") {
            return lang.t("`FUTEX_WAKE` with no waiter (\(m.hasPrefix("process") ? "processes" : "threads"))", "没有等待者的 `FUTEX_WAKE`（\(kind)）")
        }
        if m.hasSuffix("_wake_path") { return lang.t("the wake-up path = the two rows above, per sample", "唤醒路径 = 上面两行之差（逐样本）") }
        if m.hasSuffix("_wake") { return lang.t("waking a sleeping \(kind): `FUTEX_WAKE` alone, no switch", "唤醒一个睡着的\(kind)：单独的 `FUTEX_WAKE`，不切换") }
        return lang.t("going to sleep in `FUTEX_WAIT` until the woken \(kind) runs (one switch)", "在 `FUTEX_WAIT` 里进入睡眠，直到被唤醒的\(kind)开始运行（一次切换）")
    }

    static func kernelCount(_ r: Record, _ lang: Language) -> String {
        if let f = r.factNumber(faultsPerTouchKey) { return lang.t(String(format: "%.2f faults", f), String(format: "%.2f 次缺页", f)) }
        let count = r.switchesPerOp.map { String(format: "%.2f", $0 / Double(r.metric.hasSuffix("_switch") ? 2 : 1)) } ?? "–"
        guard let before = r.fact(waiterBeforeKey), let after = r.fact(waiterAfterKey) else { return count }
        return count + lang.t("; the waiter `\(before)` → `\(after)`", "；等待者 `\(before)` → `\(after)`")
    }

    public func markdownSection(_ run: RunResult, lang: Language) -> String? {
        let rows = run.records(harness: id)
        guard !rows.isEmpty else { return nil }
        var t = MarkdownTable(lang == .en
            ? ["part", "row", "per op", "95 % CI", "context switches / op (kernel count)", "valid"]
            : ["部分", "数据行", "每次耗时", "95 % 置信区间", "每次的上下文切换次数（内核统计）", "有效"])
        for r in rows where r.metric != "not_available" {
            t.add([Self.partName(r.mechanism, r.metric, lang), "`\(r.mechanism) \(r.metric)`", Format.median(r, lang: lang),
                   Format.ci(r, lang: lang), Self.kernelCount(r, lang), Format.valid(r.valid, lang: lang)])
        }
        let intro = lang.t("""
        The note: 进程切换分两步：1、切换页表以使用新的地址空间；2、切换内核栈和硬件上下文。线程切换只需要第二步。 Each part below is \
        measured on one CPU on its own, with the kernel's count of context switches as proof (a switch row: one \
        switch per op). The thread and process switches are two tasks taking turns with `sched_yield()` (no IPC), \
        timed in alternating pairs so that a slow phase of the machine slows both sides alike; step 1 is their \
        paired difference.
        """, """
        笔记原文：进程切换分两步：1、切换页表以使用新的地址空间；2、切换内核栈和硬件上下文。线程切换只需要第二步。 \
        下面每一部分都在同一处理器上单独测量，并以内核统计的上下文切换次数为证（切换行：每次操作一次切换）。\
        线程切换和进程切换都是两个任务用 `sched_yield()` 轮流让出 CPU（没有进程间通信），两边交替成对计时，\
        机器变慢的时段对两边的影响相同；第一步就是两者成对测得的差。
        """)
        var blocks = [intro, t.text]
        if let a = SwitchAnatomy.of(run) { blocks.append(Self.decomposition([a], lang)) }
        if let hw = Self.hardwareText(run, lang) { blocks.append(hw) }
        if plots(run, lang: lang).first != nil {
            blocks.append("![\(Self.plotTitle(lang))](\(Self.plotName))")
        }
        return Claims.section(lang.t("## The note's two steps, part by part (`anatomy`)", "## 笔记里的“两步”，逐项测量（`anatomy`）"), blocks, run, lang)
    }

    /// "Where a process switch's time goes", a column per anatomy, the predictions under it, and what
    /// the parts do not contain where a prediction misses.
    static func decomposition(_ all: [SwitchAnatomy], _ lang: Language, headers: [String]? = nil) -> String {
        guard let first = all.first else { return "" }
        var t = MarkdownTable([lang.t("where a process switch's time goes", "进程切换的时间花在哪里")] + (headers ?? [lang.t("per switch", "每次切换")]))
        let names = first.parts(lang).map(\.name)
        func partRow(_ i: Int) { t.add([names[i]] + all.map { a in humanTime(a.parts(lang)[i].ns) }) }
        for i in 0..<4 { partRow(i) }
        t.add([lang.t("""
            of step 2, the hardware context: the XSAVE area saved per task (CPUID 0xD); what AVX-512 registers in use add per switch (`avx512 \
            dirty_minus_clean`, paired)
            """,
                      "第二步中的硬件上下文：每个任务要保存的 `XSAVE` 区（`CPUID 0xD`）；AVX-512 寄存器正在使用时每次切换多出的代价（`avx512 dirty_minus_clean`，成对测量）")]
              + all.map { a in (a.xsaveBytes.map { Format.bytes($0) } ?? "–") + lang.t("; ", "；")
                  + (a.vectorState.map { humanTime($0) + (a.vectorStateWithinNoise
                                                           ? lang.t(" (its 95 % CI contains 0: within noise)", "（95 % 置信区间包含 0：在噪声以内）") : "") } ?? "n/a") })
        t.add([lang.t("exception path (异常处理), not part of a switch: the first write to a fresh 4 KiB page, per fault (`page-fault per_fault`)",
                      "异常处理（不是切换的一部分）：第一次写一个新的 4 KiB 页，每次缺页（`page-fault per_fault`）")]
              + all.map { humanTime($0.pageFault) })
        t.add([lang.t("**process switch by `sched_yield()`, measured** (the first four add up to it, up to pairing)",
                      "**用 `sched_yield()` 的进程切换，实测**（前四项之和，成对测量的误差除外）")]
              + all.map { "**\(humanTime($0.processSwitch))**" })
        for i in 4..<names.count { partRow(i) }
        t.add([lang.t("""
            **process switch with a futex hand-off, predicted**: the yield switch + the three parts above (= the sleep + both FUTEX_WAKE parts, each timed \
            alone)
            """,
                      "**带 futex 交接的进程切换，预测**：`yield` 切换加上面三项（= 进入睡眠 + 两项 FUTEX_WAKE，各自单独计时）")]
              + all.map { "**\(humanTime($0.predictedFutex))**" })
        t.add([lang.t("process switch with a futex hand-off, measured (`futex process_switch`)", "带 futex 交接的进程切换，实测（`futex process_switch`）")]
              + all.map { humanTime($0.measuredFutex) })
        var h = MarkdownTable([lang.t("hand-off, predicted ÷ measured (predicted / measured)",
                                      "交接方式：预测 ÷ 实测（预测 / 实测）")] + (headers ?? [lang.t("per switch", "每次切换")]))
        for (i, ho) in first.handOffs.enumerated() {
            h.add([handOffName(ho, lang)] + all.map { a in
                let x = a.handOffs[i]
                return (x.ratio.map(Format.times) ?? "–") + " (\(humanTime(x.predicted)) / \(humanTime(x.measured)))"
            })
        }
        let note = lang.t("""
        Every switch in the first four parts is two tasks on one CPU taking turns with `sched_yield()`: no IPC, \
        and neither task ever sleeps. The privilege switch is this harness's own `getppid` (the `syscall` harness \
        times it again for claim C7). The class table's thread and process switches are these `sched_yield()` \
        switches (the same rows); a futex hand-off adds a wake-up and a sleep per switch, so it is a larger number. Those four are differences of measured \
        rows, so they add up to the yield \
        switch by construction; that checks nothing. The next three are timed on their own by the `wake-sleep` \
        pair (two tasks on one CPU, `SCHED_BATCH`, so that a woken task does not preempt its waker): a \
        `FUTEX_WAKE` of a sleeping task, the same call with no waiter, and a `FUTEX_WAIT` that sleeps, timed \
        until the task it woke runs. A futex hand-off is one wake-up and one sleep, so these parts predict it; \
        the rings then measure it, their tasks under `SCHED_BATCH` too (under the default `SCHED_OTHER` a woken \
        task may preempt its waker, and then a hand-off has no sleep in it: kernel/sched/fair.c, \
        `check_preempt_wakeup_fair`; the two-task rings of the `thread` and `process` harnesses, which give the cross-CPU wake-up, keep `SCHED_OTHER`). The \
        pipe is predicted with its own calls alone (`pipe ipc_alone`: a write \
        and a read, no sleep) in place of the futex calls alone (`futex ipc_alone`), and the same wake-up and \
        sleep.
        """, """
        前四项里的每次切换，都是两个任务在同一处理器上用 `sched_yield()` 轮流让出：没有进程间通信，两个任务都不睡眠。\
        特权级切换用的是本测试自己的 `getppid`（`syscall` 测试为说法 C7 另测一次）。\
        总表里的线程切换和进程切换就是这里的 `sched_yield()` 切换（同一组数据行）；futex 交接每次还多一次唤醒和一次睡眠，所以数更大。这四项是实测数据行之间的差，\
        按定义加起来就是 `yield` 切换，这本身不检验任何东西。后三项由 `wake-sleep` 这一对任务单独计时（两个任务\
        在同一处理器上，调度策略为 `SCHED_BATCH`，被唤醒的任务不会抢占唤醒它的任务）：唤醒一个睡着的任务的 \
        `FUTEX_WAKE`、没有等待者时的同一调用，以及一次真正进入睡眠的 `FUTEX_WAIT`（计时到被它唤醒的任务开始运行为止）。\
        一次 futex 交接就是一次唤醒加一次进入睡眠，所以可以用这些部分去预测它，再由传递令牌的环实测；这些环的任务同样用 \
        `SCHED_BATCH`（在默认的 `SCHED_OTHER` 下，被唤醒的任务可能抢占唤醒它的任务，这时交接里就没有进入睡眠：见 \
        kernel/sched/fair.c 的 `check_preempt_wakeup_fair`；`thread` 和 `process` 测试里两个任务传递令牌的环仍用 `SCHED_OTHER`，跨处理器唤醒的数就来自它们）。管道的预测用它自己单独\
        的调用（`pipe ipc_alone`：一次写加一次读，不睡眠）换掉单独的 futex 调用（`futex ipc_alone`），唤醒和进入睡眠不变。
        """)
        return t.text + "\n\n" + h.text + "\n\n" + note + predictionText(all, lang, headers: headers)
    }

    static func handOffName(_ h: SwitchAnatomy.HandOff, _ lang: Language) -> String {
        let kind = h.kind == .process ? lang.t("process", "进程") : lang.t("thread", "线程")
        return "`\(h.ipc)` " + lang.t("\(kind) switch (", "\(kind)切换（") + "`\(h.ipc) \(h.kind.rawValue)_switch`" + lang.t(")", "）")
    }

    /// What each run's predictions show: within 15 %, or by how much they miss and what the parts do
    /// not contain (never a cause that was not measured); and the rows left out.
    static func predictionText(_ all: [SwitchAnatomy], _ lang: Language, headers: [String]?) -> String {
        var note = ""
        for (i, a) in all.enumerated() {
            let who = all.count > 1 ? (headers?[i] ?? "") + lang.t(": ", "：") : ""
            let shown = a.handOffs.filter { $0.ratio != nil }
            guard !shown.isEmpty else { continue }
            let off = shown.filter { abs($0.ratio! - 1) > 0.15 }
            if off.isEmpty {
                note += lang.t(" \(who)Every prediction is within 15 % of its measured switch.", "\(who)每一项预测与实测都相差不到 15 %。")
                continue
            }
            let list = off.map { h -> String in
                let gap = h.measured! - h.predicted!, pct = Format.sig3(abs(gap) / h.measured! * 100)
                return gap > 0 ? lang.t("\(handOffName(h, lang)) falls short by \(humanTime(gap)) (\(pct) %)",
                                        "\(handOffName(h, lang)) 预测少了 \(humanTime(gap))（\(pct) %）")
                    : lang.t("\(handOffName(h, lang)) is \(humanTime(-gap)) above (\(pct) %)", "\(handOffName(h, lang)) 预测多了 \(humanTime(-gap))（\(pct) %）")
            }
            note += lang.t("""
                 \(who)Outside 15 %: \(list.joined(separator: "; ")). Not measured as parts: the pipe's own wake-up and sleep are not timed alone (its \
                prediction takes the futex ones); and neither side of a prediction runs alone on its CPU on a busy machine (a task that sleeps lets any other \
                runnable task run: the rows' stolen-time check retakes such samples).
                """,
                           """
                           \(who)超出 15 % 的：\(list.joined(separator: "；"))。没有作为部分测量的：管道自己的唤醒和进入睡眠没有单独计时（它的预测借用 futex 的）；在繁忙的机器上，预测和实测的任务都不是独占处理器的（任务一进入睡眠，\
                           任何其他可运行的任务都可能上来：数据行的被占用时间检查会重测这样的样本）。
                           """)
        }
        let invalid = Array(Set(all.flatMap(\.invalid))).sorted()
        if !invalid.isEmpty {
            note += lang.t(" Parts that need an invalid row are left out (n/a): \(invalid.joined(separator: ", "))"
                           + " (why: the table above and the CSV's note column).",
                           "用到无效数据行的部分没有给出（n/a）：\(invalid.joined(separator: "、"))（原因见上表和 results.csv 的 `note` 列）。")
        }
        return note
    }

    /// The hardware context (XSAVE size, vector state) and the mitigation rows, or why they are n/a.
    static func hardwareText(_ run: RunResult, _ lang: Language) -> String? {
        let rows = run.records(harness: "anatomy").filter { ["avx512", "amx", "ibpb"].contains($0.mechanism) }
        guard !rows.isEmpty else { return nil }
        var lines: [String] = []
        if let r = rows.first(where: { $0.factNumber(xsaveBytesKey) != nil }), let std = r.factNumber(xsaveBytesKey) {
            let comp = r.factNumber(xsavesBytesKey) ?? 0
            lines.append(lang.t("""
                XSAVE area for the state components this kernel enabled (XCR0 `\(r.fact(xcr0Key) ?? "?")`, CPUID leaf 0xD): \(Int(std)) bytes (\(Int(comp)) \
                bytes compacted, as the kernel saves it on a switch).
                """,
                                "本机内核启用的状态分量（XCR0 `\(r.fact(xcr0Key) ?? "?")`，CPUID 0xD 号叶）需要的 XSAVE 区：\(Int(std)) 字节（内核切换时用的紧凑格式为 \(Int(comp)) 字节）。"))
        }
        for m in ["avx512", "amx", "ibpb"] {
            let label = m == "avx512" ? "AVX-512" : (m == "amx" ? "AMX" : "IBPB")
            if let na = rows.first(where: { $0.mechanism == m && $0.metric == "not_available" }) {
                lines.append(lang.t("\(label): n/a — ", "\(label)：未测，") + notAvailableText(m, na.fact(notAvailableKey) ?? "", lang))
            } else if let d = rows.first(where: { $0.mechanism == m && $0.metric.hasSuffix("_minus_" + ($0.mechanism == "ibpb" ? "plain" : "clean")) }) {
                // The words follow the interval: "adds" only when it excludes 0; an invalid row is no finding.
                let spansZero = (d.stats.map { $0.ci95Low <= 0 && $0.ci95High >= 0 }) ?? true
                let verb = !d.valid ? lang.t("row invalid, no finding", "该行无效，不作结论")
                    : spansZero ? lang.t("no difference beyond noise", "没有超出噪声的差别") : lang.t("adds per switch", "每次切换多花")
                lines.append(lang.t("\(label): \(verb): \(Format.median(d)) (95 % CI \(Format.ci(d)), paired).",
                                    "\(label)：\(verb)：\(Format.median(d))（95 % 置信区间 \(Format.ci(d))，成对测量）。"))
            }
        }
        return lines.map { "- " + $0 }.joined(separator: "\n")
    }

    /// Why a part is n/a, for people: the English reason as recorded, or its Chinese with the errno kept.
    static func notAvailableText(_ mechanism: String, _ why: String, _ lang: Language) -> String {
        guard lang == .zh else { return why }
        let errno = why.range(of: "refused: ").map { r in String(why[r.upperBound...].prefix { $0 != "(" }).trimmingCharacters(in: .whitespaces) }
        switch (mechanism, errno) {
        case ("avx512", _): return "这台机器没有 AVX-512，或内核没有启用它的状态分量（`CPUID 7 EBX bit 16`、`XCR0`）"
        case ("amx", nil): return "这台机器没有 AMX（`CPUID 7 EDX bit 24`）"
        case ("amx", let e?): return "内核拒绝了 `arch_prctl(ARCH_REQ_XCOMP_PERM)`：`\(e)`"
        case (_, let e?): return """
            内核拒绝了 `prctl(PR_SET_SPECULATION_CTRL, PR_SPEC_INDIRECT_BRANCH, PR_SPEC_FORCE_DISABLE)`：`\(e)`（本机的 `spectre_v2_user` 缓解不受 prctl 控制）
            """
        default: return "`\(why)`"
        }
    }

    public static let plotName = "anatomy.svg"
    static func plotTitle(_ lang: Language) -> String { lang.t("Where a process switch's time goes", "进程切换的时间花在哪里") }

    public func plots(_ run: RunResult, lang: Language) -> [Plot] {
        // Nothing to draw when the process switch itself is missing or invalid.
        guard let a = SwitchAnatomy.of(run), a.processSwitch != nil else { return [] }
        return [Plot(name: Self.plotName, title: Self.plotTitle(lang), contents: Self.stackedBar(a, lang))]
    }

    /// Two horizontal bars on one linear time axis: the process yield switch split into its parts,
    /// and the futex hand-off (the same parts plus the IPC on top); negative parts are drawn as zero
    /// and named in the legend.
    static func stackedBar(_ a: SwitchAnatomy, _ lang: Language) -> String {
        let parts = a.parts(lang)
        let shown = parts.map { max($0.ns ?? 0, 0) }
        // The axis runs a third past the longest bar: room for the label at its end.
        let longest = max(shown.reduce(0, +), a.measuredFutex ?? 0, a.processSwitch ?? 0, a.predictedFutex ?? 0, 1) * 1.35
        // A round tick step (1, 2 or 5 × 10^k) with four to eight ticks up to the longest bar.
        let raw = longest / 5, mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * mag }.first { longest / $0 <= 6 } ?? 10 * mag
        let axisMax = ceil(longest / step) * step
        let (left, width, top) = (40.0, 640.0, 60.0)
        let legendTop = top + 3 * 40 + 40
        var svg = SVGDocument(width: 760, height: legendTop + 22 * Double(parts.count) + 16)
        svg.text(plotTitle(lang), 380, 26, size: 16, anchor: .middle, weight: "bold")
        let scale = width / axisMax
        let bars: [(String, Int, String)] = [
            (lang.t("process switch by sched_yield() (no IPC): the parts", "用 sched_yield() 的进程切换（没有进程间通信）：各部分"), 4,
             lang.t("measured ", "实测 ") + humanTime(a.processSwitch)),
            (lang.t("process switch with a futex hand-off, predicted from the parts timed alone", "带 futex 交接的进程切换，由单独计时的各部分预测"), parts.count,
             lang.t("predicted ", "预测 ") + humanTime(a.predictedFutex)
                + (a.predictionRatio.map { lang.t(" (", "（") + Format.times($0) + lang.t(" the measured)", "实测）") } ?? ""))]
        for (b, bar) in bars.enumerated() {
            let y = top + Double(b) * 40
            svg.text(bar.0, left, y - 4, size: 11)
            var x = left
            for i in 0..<bar.1 {
                let w = shown[i] * scale
                svg.rect(x, y, w, 22, fill: partColour(i), title: parts[i].name + lang.t(": ", "：") + humanTime(parts[i].ns))
                x += w
            }
            svg.text(bar.2, x + 6, y + 16, size: 11)
        }
        // The futex hand-off as its ring measured it, one grey bar beside the prediction.
        let py = top + 80
        svg.text(lang.t("the same, measured in the futex ring", "同上，在用 futex 传递令牌的环里实测"), left, py - 4, size: 11)
        let pw = max(a.measuredFutex ?? 0, 0) * scale
        svg.rect(left, py, pw, 22, fill: "#9e9e9e", title: humanTime(a.measuredFutex))
        svg.text(lang.t("measured ", "实测 ") + humanTime(a.measuredFutex), left + pw + 6, py + 16, size: 11)
        let axisY = top + 120
        svg.line(left, axisY, left + width, axisY)
        var v = 0.0
        while v <= axisMax + step / 2 {
            svg.line(left + v * scale, axisY, left + v * scale, axisY + 4)
            svg.text(humanTime(v), left + v * scale, axisY + 16, size: 10, anchor: .middle)
            v += step
        }
        for (i, p) in parts.enumerated() {
            let y = legendTop + Double(i) * 22
            svg.rect(left, y - 10, 12, 12, fill: partColour(i))
            let extra = p.ns == nil ? lang.t(" (not measured: a row is missing or invalid)", "（未测得：数据行缺失或无效）")
                : ((p.ns ?? 0) < 0 ? lang.t(" (below zero: drawn as 0)", "（小于零，画作 0）") : "")
            svg.text(p.name + lang.t(": ", "：") + humanTime(p.ns) + extra, left + 18, y, size: 11)
        }
        return svg.text
    }

    /// The colour of part i: the plots' palette, then two more for the parts past it.
    static func partColour(_ i: Int) -> String {
        let all = SVGPlots.palette + ["#17becf", "#e377c2"]
        return all[i % all.count]
    }

    /// notes.md's block on the two steps: the decomposition, a column per run.
    public func notesSection(_ runs: [RunResult], lang: Language) -> String? {
        let found = runs.compactMap { r in SwitchAnatomy.of(r).map { (r, $0) } }
        guard !found.isEmpty else { return nil }
        let headers = found.count == 1 ? nil : found.map { EnvironmentText.short($0.0.environment, lang: lang) }
        var out = Self.decomposition(found.map(\.1), lang, headers: headers)
        if found.count == 1 { out += "\n\n![\(Self.plotTitle(lang))](\(Self.plotName))" }
        return out
    }

    // MARK: claim C1, from paired rounds

    static let claimText = Claims.Text("C1", title: ("A thread switch is cheaper than a process switch.", "线程切换比进程切换代价小。"), quote: "线程切换只需要第二步",
        rule: ("""
            anatomy harness, one CPU: two threads and two processes take turns with sched_yield() (the same switch, with and without the address-space change, \
            no IPC), timed in alternating pairs (order drawn at random per pair). Holds when the 95 % CI of the median per-pair ratio process ÷ thread lies \
            above 1; does not hold when it lies below 1; inconclusive when it contains 1 or rows are invalid; not measured when the rows are missing. The \
            futex and pipe pairs are shown beside it and do not decide: their IPC itself differs between processes and threads (a futex shared between \
            processes is looked up by page, a private one by address; threads sharing one file table take a reference on the pipe's file at every read and \
            write).
            """,
               """
               `anatomy` 测试，同一处理器：两个线程、两个进程分别用 `sched_yield()` 轮流让出 CPU（同样的切换，一个换地址空间、一个不换，没有进程间通信），两边交替成对计时（每对的先后随机）。每对的比值 进程 ÷ 线程 取中位数，其 95 % 置信区间整体大于 1 则成立，\
               整体小于 1 则不成立；区间包含 1 或数据行无效则无法判定；缺数据则为未测量。futex 和 pipe 的成对结果列在旁边，但不参与判定：它们的进程间通信本身在进程之间和线程之间就不一样（进程间共享的 futex 按内存页查找，私有 futex 按地址；\
               共用一张文件表的线程每次读写管道都要给文件加一次引用计数）。
               """),
        ruleID: "C1.paired.v3")

    /// The relative width of a ratio's 95 % CI: (high − low) ÷ median.
    static func relativeWidth(low: Double, high: Double, median: Double) -> Double { (high - low) / median }

    public func judgeClaims(_ run: RunResult, lang: Language) -> [Claims.Claim] {
        var c = Self.claimText.claim(lang, facts: [Claims.pcidFact(run.environment, lang), Claims.virtFact(run.environment, lang)])
        let row = SwitchAnatomy.row
        guard let ratio = row(run, "yield", "process_over_thread"), let diff = row(run, "yield", "process_minus_thread"),
              let p = row(run, "yield", "process_switch"), let t = row(run, "yield", "thread_switch") else { return [c] }
        c.evidence = [p, t, ratio, diff]
        var others: [Record] = []
        for m in ["futex", "pipe"] {
            if let r = row(run, m, "process_over_thread") {
                others.append(r)
                c.evidence.append(r)
            }
        }
        if let w = Claims.invalidWhy([p, t, ratio, diff], lang) { c.undecided(w); return [c] }
        let s = ratio.stats!
        let pairs = Int(ratio.factNumber(Self.pairsKey) ?? Double(ratio.samples))
        // The unpaired comparison of the same samples: each side's own CI, as two separate rows give.
        let (ps, ts) = (p.stats!, t.stats!)
        let unpaired = Self.relativeWidth(low: ps.ci95Low / ts.ci95High, high: ps.ci95High / ts.ci95Low, median: ps.median / ts.median)
        let paired = Self.relativeWidth(low: s.ci95Low, high: s.ci95High, median: s.median)
        c.values = [.init("yield.process_over_thread", s.median, unit: "ratio"),
                    .init("yield.process_over_thread.ci95_low", s.ci95Low, unit: "ratio"),
                    .init("yield.process_over_thread.ci95_high", s.ci95High, unit: "ratio"),
                    .init("yield.address_space_cost", diff.stats!.median, unit: "ns"),
                    .init("yield.pairs", Double(pairs), unit: "count"),
                    .init("yield.paired_ci_relative_width", paired, unit: "ratio"),
                    .init("yield.unpaired_ci_relative_width", unpaired, unit: "ratio")]
        for r in others where r.valid {
            c.values.append(.init("\(r.mechanism).process_over_thread", r.stats!.median, unit: "ratio"))
        }
        c.measured.append(lang.t("""
            process ÷ thread, paired over \(pairs) pairs: \(Format.times(s.median)) (95 % CI \(Format.times(s.ci95Low)) – \(Format.times(s.ci95High))); the \
            same samples unpaired would give a CI \(String(format: "%.1f", unpaired / max(paired, 1e-9)))× as wide
            """,
                                 """
                                 进程 ÷ 线程，\(pairs) 对成对测量：\(Format.times(s.median))（95 % 置信区间 \(Format.times(s.ci95Low)) – \(Format.times(s.ci95High))）；\
                                 同样的样本若不成对，置信区间是成对时的 \(String(format: "%.1f", unpaired / max(paired, 1e-9))) 倍
                                 """))
        // The sentence follows the sign: a process switch that measured cheaper is said to be cheaper.
        let d = diff.stats!.median
        c.measured.append(d >= 0
            ? lang.t("""
                step 1 (the address-space change) adds \(humanTime(d)) per switch to the thread switch's \(Format.median(t)) (95 % CI \(Format.ci(diff)))
                """,
                     "第一步（切换地址空间）在线程切换的 \(Format.median(t)) 之外每次多花 \(humanTime(d))（95 % 置信区间 \(Format.ci(diff, lang: lang))）")
            : lang.t("""
                the process switch measured \(humanTime(-d)) cheaper per switch than the thread switch's \(Format.median(t)) (95 % CI \(Format.ci(diff)))
                """,
                     "进程切换反而比线程切换（\(Format.median(t))）每次少花 \(humanTime(-d))（95 % 置信区间 \(Format.ci(diff, lang: lang))）"))
        for r in others where r.valid {
            c.measured.append(lang.t("with a \(r.mechanism) hand-off: process ÷ thread \(Format.median(r)) (CI \(Format.ci(r)))",
                                     "用 \(r.mechanism) 交接时：进程 ÷ 线程 \(Format.median(r))（置信区间 \(Format.ci(r))）"))
        }
        let v: Claims.Verdict = s.ci95Low > 1 ? .holds : (s.ci95High < 1 ? .doesNotHold : .inconclusive)
        let share = diff.stats!.median / p.stats!.median * 100
        c.decide(v,
                 holds: lang.t("""
                     a process switch costs \(Format.times(s.median)) a thread switch: step 1 adds \(Format.median(diff)), \(Format.sig3(share)) % of a \
                     process switch.
                     """,
                               """
                               进程切换是线程切换的 \(Format.times(s.median).replacingOccurrences(of: "×", with: "")) 倍：第一步多花 \(Format.median(diff))，\
                               占进程切换的 \(Format.sig3(share)) %。
                               """),
                 doesNotHold: lang.t("in alternating pairs a process switch measured cheaper than a thread switch (\(Format.times(s.median))).",
                                     "交替成对测量时，进程切换的代价反而比线程切换小（进程 ÷ 线程 = \(Format.times(s.median))）。"),
                 otherwise: lang.t("the paired ratio's CI contains 1: the address-space change is too small to tell apart here.",
                                   "成对比值的置信区间包含 1：这里切换地址空间的代价小到分辨不出来。"))
        // notes.md: the numbers that decided and what the note should say here (issue 16).
        c.deciding = ["yield.process_over_thread", "yield.process_over_thread.ci95_low", "yield.process_over_thread.ci95_high"]
        c.advice = Self.advice(v, run: run, ratio: s.median, pairs: pairs, step1: d, share: share, lang)
        return [c]
    }

    /// C1's advice: what the note should say here, by verdict (the ratio's CI decides; PCID named where it is on).
    static func advice(_ v: Claims.Verdict, run: RunResult, ratio: Double, pairs: Int, step1: Double, share: Double,
                       _ lang: Language) -> String {
        let pcid = run.environment.pcid
        switch v {
        case .holds:
            return holdsAdvice(run, times: Format.sig3(ratio), pairs: pairs, step1: step1, share: share, lang)
        case .doesNotHold:
            return lang.t("""
                Here a process switch measured cheaper than a thread switch in alternating pairs (process ÷ thread = \(Format.times(ratio))): the note \
                should not promise that a thread switch is cheaper; what it saves, step 1, costs nothing measurable here.
                """,
                              "在这台机器上交替成对测量时，进程切换的代价反而比线程切换小（进程 ÷ 线程 = \(Format.times(ratio))）：笔记不该断言线程切换代价更小；线程省掉的第一步在这里测不出代价。")
        default:
            return pcid
                    ? lang.t("""
                        Here step 1 is too small to tell apart (process ÷ thread = \(Format.times(ratio)), its CI contains 1): with PCID the page-table \
                        switch no longer flushes the TLB, so the note should say that a thread switch saves step 1, which costs little on such machines.
                        """,
                             "在这台机器上第一步小到分辨不出来（进程 ÷ 线程 = \(Format.times(ratio))，置信区间包含 1）：有了 PCID，切换页表不再清空快表；笔记应当说线程切换省掉的是第一步，而这一步在这类机器上代价很小。")
                    : lang.t("""
                        Here step 1 is too small to tell apart (process ÷ thread = \(Format.times(ratio)), its CI contains 1); rerun on a quieter machine \
                        before the note quotes a number.
                        """,
                             "在这台机器上第一步小到分辨不出来（进程 ÷ 线程 = \(Format.times(ratio))，置信区间包含 1）；笔记引用数字之前，应在更安静的机器上重测。")
        }
    }
}

extension AnatomyHarness {
    /// C1's sentence when it holds: step 1 and step 2 with their shares, the share's word chosen by the
    /// number (`Words.share`), and PCID only as a hypothesis (no PCID-off control was measured).
    static func holdsAdvice(_ run: RunResult, times: String, pairs: Int, step1 d: Double, share: Double, _ lang: Language) -> String {
        let ledger = Ledger.of(run)
        var s = lang.t("""
            Here a process switch costs \(times) times a thread switch (\(pairs) alternating pairs): step 1, the page-table switch, adds \(humanTime(d)) per \
            switch, \(Format.sig3(share)) % of a process switch
            """,
                       "在这台机器上进程切换的代价是线程切换的 \(times) 倍（\(pairs) 对交替测量）：第一步（切换页表）每次多花 \(humanTime(d))，占进程切换的 \(Format.sig3(share)) %")
        if let s2 = ledger.value(.step2), let p = ledger.value(.processSwitch), p > 0 {
            let pct = Format.sig3(s2 / p * 100), word = Words.share(s2, of: p, lang)
            s += lang.t("""
                ; step 2 (kernel stack and hardware context) is \(humanTime(s2)), \(word) of it (\(pct) %), the rest is the kernel entry and the scheduler; \
                the note's two steps hold
                """,
                        "；第二步（内核栈和硬件上下文）是 \(humanTime(s2))，占\(word)（\(pct) %），其余是进出内核和调度器；笔记的两步成立")
        } else {
            s += lang.t("; the note's two steps hold", "；笔记的两步成立")
        }
        if run.environment.pcid {
            s += lang.t("""
                . Why step 1 is this small is not measured here (no run with PCID off): PCID, which lets a page-table switch keep the TLB, and the few pages \
                the `sched_yield()` loop touches are two possible reasons
                """,
                        "。第一步为什么这么小，这里没有测（没有关掉 PCID 的对照）：PCID 让切换页表时可以保留快表，`sched_yield()` 循环本身也只访问很少的页，这是两种可能的原因")
        }
        return s + lang.t(".", "。")
    }

    /// A pair's ratio and difference rows are computed from its two sides' samples: the sides are
    /// compared and carry the evidence. A difference is near zero by design (step 1 is tens of ns), so
    /// a percentage change of it says nothing.
    public func compareExemption(_ c: Comparison.Case, baseline: [CaseKey: Record], current: [CaseKey: Record]) -> (en: String, zh: String)? {
        for op in ["_over_", "_minus_"] {
            guard let r = c.metric.range(of: op) else { continue }
            let side = String(c.metric[..<r.lowerBound]) + "_switch"
            let formula = op == "_over_" ? ("per-pair ratio of two sides", "两边逐对的比值") : ("per-pair difference of two sides", "两边逐对的差")
            return Comparison.derived(c, from: side, formula: formula, baseline: baseline, current: current)
        }
        return nil
    }
}
