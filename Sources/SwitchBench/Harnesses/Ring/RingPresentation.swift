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
        var keys: [CaseKey] = []
        for r in procs + threads {
            var k = r.key
            k.harness = ""
            if !keys.contains(k) { keys.append(k) }
        }
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
                w.add(["`\(k.mechanism)`", k.cpus, String(k.tasks), Format.median(ps), Format.median(ts), Self.validity([pr, tr], lang)])
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
        The context switch counts are the kernel's own.
        """, """
        一次往返让令牌在每个任务手里走一遍（两个任务就是去一次、回一次）。在同一处理器上，
        每次交接都是一次上下文切换，所以每次切换的代价 = 往返时间 ÷ 任务数；“净值”再减去同样的进程间通信在单个任务里、
        不发生切换时的开销。进程列包含了切换地址空间多出来的代价，但两列的进程间通信也不一样：进程之间共享的 futex
        走内核里共享 futex 的路径，线程之间的 futex 走私有的路径，所以两列之差不只是切换页表这一步，要对照不同机制来看
        （`anatomy` 测试单独测量这一步）。上下文切换次数是内核自己统计的。
        """)
        var blocks = [intro, t.rows.isEmpty ? "" : t.text]
        if !w.rows.isEmpty {
            blocks.append(lang.t("""
            **Cross-CPU wake-up latency (not switch cost).** Each task on its own CPU: no task waits for another's
            CPU, every hand-off wakes an idle CPU (in a VM: an idle virtual CPU, through the hypervisor). One hand-off = round trip ÷ tasks.
            """, """
            **跨处理器唤醒延迟（不是切换的代价）。** 每个任务各占一个处理器：没有任务要等别人让出处理器，
            每次交接都要唤醒一个空闲的处理器（在虚拟机里是唤醒一个空闲的虚拟处理器，要经过虚拟机管理程序）。一次交接 = 往返时间 ÷ 任务数。
            """))
            blocks.append(w.text)
        }
        return Claims.section(lang.t("## Process vs thread switch (claim C1)", "## 进程切换与线程切换（说法 C1）"), blocks, run, lang)
    }

    static let claimText = Claims.Text("C1", title: ("A thread switch is cheaper than a process switch.", "线程切换比进程切换代价小。"), quote: "线程切换只需要第二步",
                                         rule: ("Per mechanism (futex, pipe), same-cpu, 2 tasks: holds when process per_switch is above thread per_switch with disjoint 95 % CIs (process CI low > thread CI high); does not hold when thread is above process with disjoint CIs; inconclusive when the CIs overlap, rows are invalid, noisy (CV > 10 %), or mechanisms disagree; not measured when the rows are missing.",
                         "对每种机制（futex、pipe），同一个 CPU、两个任务：进程的 `per_switch` 高于线程的 `per_switch`，且 95 % 置信区间不重叠（进程区间下限 > 线程区间上限），则成立；反过来线程高于进程且区间不重叠，则不成立；区间重叠、数据行无效、波动太大（CV > 10 %）或两种机制结论不一致，则无法判定；缺数据则为未测量。"))

    public func judgeClaims(_ run: RunResult, lang: Language) -> [Claims.Claim] {
        var c = Self.claimText.claim(lang, facts: [Claims.pcidFact(run.environment, lang), Claims.virtFact(run.environment, lang)])
        var outcomes: [(String, Claims.Verdict)] = []
        var skipped: [String] = []
        for m in ["futex", "pipe"] {
            guard let p = Claims.row(run, "process", m, "per_switch"), let t = Claims.row(run, "thread", m, "per_switch") else { continue }
            c.evidence += [p, t]
            if let w = Claims.invalidWhy([p, t], lang) { skipped.append(w); continue }
            let (mp, mt) = (Claims.med(p), Claims.med(t))
            c.values += [.init("\(m).process_over_thread", mp / mt, unit: "ratio"), .init("\(m).address_space_cost", mp - mt, unit: "ns")]
            // The sentence follows the sign: a process switch that measured cheaper is said to be cheaper.
            let diff = mp >= mt
                ? lang.t("the process switch costs \(humanTime(mp - mt)) more per switch (the address-space change and any difference of the IPC between processes)", "进程切换每次多花 \(humanTime(mp - mt))（包括切换地址空间，以及进程之间通信方式的差别）")
                : lang.t("the process switch measured \(humanTime(mt - mp)) cheaper per switch", "进程切换反而每次少花 \(humanTime(mt - mp))")
            c.measured.append(lang.t("\(m): process ÷ thread per switch = \(Format.times(mp / mt)); ", "\(m)：每次切换进程 ÷ 线程 = \(Format.times(mp / mt))；") + diff)
            if let n = Claims.noisyWhy([p, t], lang) { skipped.append("\(m): \(n)"); continue }
            outcomes.append((m, Claims.ratioVerdict(p, over: t, atLeast: 1)))
        }
        if outcomes.isEmpty {
            if !skipped.isEmpty {
                c.undecided(skipped.joined(separator: "; "))
                c.deciding = c.values.filter { $0.name.hasSuffix(".process_over_thread") }.map(\.name)
                c.advice = lang.t("The process and thread rows are too noisy or invalid on this run to compare (see `report.md`); rerun on a quieter machine before the note quotes a number.",
                                  "这次运行里进程和线程的数据波动太大或无效，无法比较（见 `report.md`）；笔记引用数字之前，应在更安静的机器上重测。")
            }
            return [c]
        }
        let kinds = Set(outcomes.map(\.1))
        let list = outcomes.map { $0.0 + lang.t(": ", "：") + $0.1.text(lang) }.joined(separator: lang.t(", ", "，"))
        if kinds == [.holds] {
            c.verdict = .holds
            c.why = lang.t("process per switch is above thread per switch beyond both CIs for every mechanism measured (\(list)).",
                           "测到的每种机制下，进程每次切换都比线程贵，而且超出了两边的置信区间（\(list)）。")
        } else if kinds == [.doesNotHold] {
            c.verdict = .doesNotHold
            c.why = lang.t("the thread switch is not cheaper: thread per switch is above process per switch beyond the CIs (\(list)).",
                           "线程切换的代价并不更小：线程每次切换比进程还贵，而且超出了置信区间（\(list)）。")
        } else if kinds.contains(.holds) && kinds.contains(.doesNotHold) {
            c.undecided(lang.t("the mechanisms disagree (\(list)).", "两种机制的结论相反（\(list)）。"))
        } else {
            c.undecided(lang.t("the difference is within the CIs for at least one mechanism (\(list)).", "至少一种机制下，差别落在置信区间之内（\(list)）。"))
            if !kinds.contains(.holds) { c.why += lang.t(" No measurable premium for the process switch here.", "在这台机器上测不出进程切换额外的代价。") }
        }
        if !skipped.isEmpty { c.why += lang.t(" Skipped: ", " 跳过：") + skipped.joined(separator: "; ") }
        // The numbers that decided: the mechanisms whose outcome is the verdict's (all of them when they agree).
        let deciders = outcomes.filter { c.verdict == .inconclusive ? $0.1 != .holds || kinds.count > 1 : $0.1 == c.verdict }.map(\.0)
        c.deciding = deciders.map { "\($0).process_over_thread" }
        c.advice = Self.advice(c, run: run, lang: lang)
        return [c]
    }

    /// What the note should say about C1 on this machine, from the ratios and PCID.
    static func advice(_ c: Claims.Claim, run: RunResult, lang: Language) -> String? {
        let ratios = c.values.filter { $0.name.hasSuffix(".process_over_thread") }
        guard !ratios.isEmpty else { return nil }
        let list = ratios.map { "`\($0.name.split(separator: ".")[0])` " + Format.times($0.value) }.joined(separator: lang.t(", ", "，"))
        let pcid = run.environment.pcid
        switch c.verdict {
        case .holds:
            return lang.t("Here a process switch costs more than a thread switch (process ÷ thread: \(list)): the note's step 1, switching the page table, has a measurable price on this machine\(pcid ? ", even with PCID keeping the TLB" : "").",
                          "在这台机器上进程切换比线程切换代价大（进程 ÷ 线程：\(list)）：笔记说的第一步——切换页表——在这里有测得出的代价\(pcid ? "，即使 PCID 让快表不必清空" : "")。")
        case .doesNotHold:
            return lang.t("Here a thread switch is not cheaper than a process switch (process ÷ thread: \(list)): the note should not promise that threads switch faster; what it saves is the page-table step, which costs little on this machine.",
                          "在这台机器上线程切换并不比进程切换代价小（进程 ÷ 线程：\(list)）：笔记不该断言线程切换更快；线程省掉的只是切换页表这一步，而这一步在这里代价很小。")
        default:
            return pcid
                ? lang.t("Here the gap between a process and a thread switch is within the noise (process ÷ thread: \(list)): with PCID, step 1 (the page-table switch) no longer flushes the TLB and costs little, so the note should say a thread switch saves step 1, which is cheap on such machines, rather than that it is much cheaper.",
                         "在这台机器上进程切换和线程切换的差别落在测量噪声之内（进程 ÷ 线程：\(list)）：有了 PCID，第一步（切换页表）不再清空快表，代价很小；笔记应当说线程切换省掉了第一步，而这一步在这类机器上代价很小，而不是说线程切换的代价小得多。")
                : lang.t("Here the gap between a process and a thread switch is within the noise (process ÷ thread: \(list)); rerun on a quieter machine before the note quotes a number.",
                         "在这台机器上进程切换和线程切换的差别落在测量噪声之内（进程 ÷ 线程：\(list)）；笔记引用数字之前，应在更安静的机器上重测。")
        }
    }

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
