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
