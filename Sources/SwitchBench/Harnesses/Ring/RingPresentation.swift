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
        var t = MarkdownTable(lang == .en
            ? ["mechanism", "placement", "tasks", "footprint", "process round trip", "thread round trip",
               "process / switch", "thread / switch", "process ÷ thread", "process net", "thread net",
               "switches / round trip (p, t)", "valid"]
            : ["mechanism", "placement", "任务数", "每次接触的内存", "进程往返", "线程往返",
               "进程每次切换", "线程每次切换", "进程 ÷ 线程", "进程净值", "线程净值",
               "每次往返的切换次数（进程，线程）", "有效"])
        var keys: [CaseKey] = []
        for r in procs + threads {
            var k = r.key
            k.harness = ""
            if !keys.contains(k) { keys.append(k) }
        }
        for k in keys {
            func get(_ h: String, _ metric: String) -> Record? {
                var key = k
                key.harness = h
                key.metric = metric
                return run.records.first { $0.key == key }
            }
            let pr = get("process", "round_trip"), tr = get("thread", "round_trip")
            let ps = get("process", "per_switch"), ts = get("thread", "per_switch")
            func spo(_ r: Record?) -> String { Format.number(r?.switchesPerOp) }
            t.add([k.mechanism, k.placement == "cross-cpu" ? lang.t("cross-cpu (CPUs \(k.cpus))", "cross-cpu（CPU \(k.cpus)）") : k.placement,
                   String(k.tasks), k.footprintBytes == 0 ? "0" : "\(k.footprintBytes) B",
                   Format.median(pr), Format.median(tr), Format.median(ps), Format.median(ts),
                   Format.ratio(ps?.stats?.median, ts?.stats?.median),
                   Format.median(get("process", "net_switch")), Format.median(get("thread", "net_switch")),
                   "\(spo(pr)), \(spo(tr))", Self.validity([pr, tr], lang)])
        }
        let intro = lang.t("""
        One round trip passes a token through every task once (two tasks: there and back). On one CPU
        (`same-cpu`) each hand-off is a context switch, so per switch = round trip ÷ tasks; *net* also subtracts
        the cost of the same IPC in one task with no switch. The difference between the process and thread
        columns is what changing the address space adds. `switches / round trip` is the kernel's own count.
        On `cross-cpu` rows no task waits for another's CPU: each hand-off wakes an idle CPU, so those
        numbers are cross-CPU wake-up latency (in a VM: waking a halted virtual CPU), not switch cost.
        """, """
        一次往返让令牌在每个任务手里走一遍（两个任务就是去一次、回一次）。在同一个 CPU 上（`same-cpu`），
        每次交接都是一次上下文切换，所以每次切换的代价 = 往返时间 ÷ 任务数；“净值”再减去同样的进程间通信在单个任务里、
        不发生切换时的开销。进程列和线程列之差，就是切换地址空间多出来的代价。“切换次数”是内核自己数的。
        `cross-cpu` 的行里没有任务要等别人让出 CPU：每次交接都是唤醒一个空闲的 CPU，
        所以这些数字是跨 CPU 的唤醒延迟（在虚拟机里就是唤醒一个停着的 vCPU），不是切换的代价。
        """)
        return Claims.section(lang.t("## Process vs thread switch (claim C1)", "## 进程切换与线程切换（说法 C1）"), [intro, t.text], run, lang)
    }

    static let claimText = Claims.Text("C1", title: ("A thread switch is cheaper than a process switch.", "线程切换比进程切换便宜。"), quote: "线程切换只需要第二步",
                                         rule: ("Per mechanism (futex, pipe), same-cpu, 2 tasks: holds when process per_switch is above thread per_switch with disjoint 95 % CIs (process CI low > thread CI high); does not hold when thread is above process with disjoint CIs; inconclusive when the CIs overlap, rows are invalid, noisy (CV > 10 %), or mechanisms disagree; not measured when the rows are missing.",
                         "对每种机制（futex、pipe），同一个 CPU、两个任务：进程的 per_switch 高于线程的 per_switch，且 95 % 置信区间不重叠（进程区间下限 > 线程区间上限），则成立；反过来线程高于进程且区间不重叠，则不成立；区间重叠、数据行无效、波动太大（CV > 10 %）或两种机制结论不一致，则无法判定；缺数据则为未测量。"))

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
                ? lang.t("the address-space change adds \(humanTime(mp - mt)) per switch", "切换地址空间每次多花 \(humanTime(mp - mt))")
                : lang.t("the process switch measured \(humanTime(mt - mp)) cheaper per switch", "进程切换反而每次便宜 \(humanTime(mt - mp))")
            c.measured.append(lang.t("\(m): process ÷ thread per switch = \(Format.times(mp / mt)); ", "\(m)：每次切换进程 ÷ 线程 = \(Format.times(mp / mt))；") + diff)
            if let n = Claims.noisyWhy([p, t], lang) { skipped.append("\(m): \(n)"); continue }
            outcomes.append((m, Claims.ratioVerdict(p, over: t, atLeast: 1)))
        }
        if outcomes.isEmpty {
            if !skipped.isEmpty { c.undecided(skipped.joined(separator: "; ")) }
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
                           "线程切换并不便宜：线程每次切换比进程还贵，而且超出了置信区间（\(list)）。")
        } else if kinds.contains(.holds) && kinds.contains(.doesNotHold) {
            c.undecided(lang.t("the mechanisms disagree (\(list)).", "两种机制的结论相反（\(list)）。"))
        } else {
            c.undecided(lang.t("the difference is within the CIs for at least one mechanism (\(list)).", "至少一种机制下，差别落在置信区间之内（\(list)）。"))
            if !kinds.contains(.holds) { c.why += lang.t(" No measurable premium for the process switch here.", "在这台机器上测不出进程切换额外的代价。") }
        }
        if !skipped.isEmpty { c.why += lang.t(" Skipped: ", " 跳过：") + skipped.joined(separator: "; ") }
        return [c]
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
