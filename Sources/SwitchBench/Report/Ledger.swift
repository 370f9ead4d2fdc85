import Foundation

/// The ledger of a run: each idea the pages name (process switch, thread switch, coroutine switch,
/// system call, step 1, step 2, cross-CPU wake-up, …) defined once — which row, which statistic, paired
/// or not, its name in both languages — and computed once from the run's rows (`RunResult.row`, the one
/// row finder). notes.md's tables, sentences and footnotes, results.json's `class_table` and the verdicts
/// that quote an idea take its number from here, so one idea prints one number on a page.
public struct Ledger: Sendable {
    /// One idea with its number.
    public struct Entry: Sendable {
        public var id: Idea
        /// The row it is read from (`harness/mechanism metric placement`).
        public var row: String
        /// What is taken from the row, in words (a median of samples, or a median of per-pair differences).
        public var statistic: (en: String, zh: String)
        /// Whether the number comes from alternating pairs (both sides timed in one loop).
        public var paired: Bool
        public var value: Double
        /// "ns" or "ratio".
        public var unit: String
        public var valid: Bool
        public var record: Record?
        public var term: (en: String, zh: String) { id.term }
    }

    /// The ideas a page can name. Each has one definition (`Ledger.of`).
    public enum Idea: String, Sendable, CaseIterable {
        case coroutineSwitch = "coroutine_switch", systemCall = "system_call", threadSwitch = "thread_switch",
             processSwitch = "process_switch", step1 = "step1", step2 = "step2", privilegeInSteps = "privilege_in_steps",
             schedulerPass = "scheduler_pass", crossCPUWakeUp = "cross_cpu_wake_up", vdsoCall = "vdso_call"

        public var term: (en: String, zh: String) {
            switch self {
            case .coroutineSwitch: return Terms.coroutineSwitch
            case .systemCall: return Terms.systemCall
            case .threadSwitch: return Terms.threadSwitch
            case .processSwitch: return Terms.processSwitch
            case .step1: return ("step 1 (page table)", "第一步（切换页表）")
            case .step2: return ("step 2 (kernel stack and hardware context)", "第二步（切换内核栈和硬件上下文）")
            case .privilegeInSteps: return ("privilege switch, timed with the two steps", "与两步一起计时的特权级切换")
            case .schedulerPass: return ("scheduler pass, nothing else to run", "调度器运行一次，无任务可换")
            case .crossCPUWakeUp: return Terms.wakeUpLatency
            case .vdsoCall: return ("a call that stays in user mode (vDSO `clock_gettime`)", "不进内核的调用（经 vDSO 的 `clock_gettime`）")
            }
        }
    }

    public var entries: [Entry]
    /// The class table: one kind per tier (coroutine switch, system call, thread switch, process switch).
    public var classKinds: [SwitchKind?]

    public subscript(_ idea: Idea) -> Entry? { entries.first { $0.id == idea } }
    /// The number of an idea (nil: not measured in this run, or its row is invalid).
    public func value(_ idea: Idea) -> Double? { self[idea].flatMap { $0.valid ? $0.value : nil } }

    /// The class table's tiers, in the table's order.
    public static let classTiers: [SwitchKind.Tier] = [.userMode, .privilege, .thread, .process]
    static func idea(_ tier: SwitchKind.Tier) -> Idea {
        switch tier {
        case .userMode: return .coroutineSwitch
        case .privilege: return .systemCall
        case .thread: return .threadSwitch
        case .process: return .processSwitch
        }
    }

    /// The kind each tier of the class table takes: the declared kind of lowest `classRank` whose row the
    /// run has. The thread and process switch come from one source (the same rank), so the table and
    /// claim C1 (decided by the paired `sched_yield()` switches) read the same pair.
    public static func classKinds(_ run: RunResult, kinds: [SwitchKind] = SwitchKind.allCases) -> [SwitchKind?] {
        func candidates(_ t: SwitchKind.Tier) -> [SwitchKind] {
            kinds.filter { $0.tier == t && $0.classRank != nil }.sorted { $0.classRank! < $1.classRank! }
        }
        func first(_ t: SwitchKind.Tier) -> SwitchKind? { candidates(t).first { $0.row(run) != nil } }
        let threads = candidates(.thread), processes = candidates(.process)
        let ranks = Set(threads.map(\.classRank!)).intersection(processes.map(\.classRank!)).sorted()
        let rank = ranks.first { r in threads.contains { $0.classRank == r && $0.row(run) != nil }
            && processes.contains { $0.classRank == r && $0.row(run) != nil } }
        func at(_ ks: [SwitchKind]) -> SwitchKind? { rank.flatMap { r in ks.first { $0.classRank == r && $0.row(run) != nil } } }
        return [first(.userMode), first(.privilege), at(threads), at(processes)]
    }

    /// The ledger of a run: every idea it measured, each from its one row.
    public static func of(_ run: RunResult) -> Ledger {
        let kinds = classKinds(run)
        var entries: [Entry] = []
        func add(_ idea: Idea, _ r: Record?, paired: Bool = false, statistic: (en: String, zh: String)? = nil) {
            guard let r, let s = r.stats else { return }
            entries.append(Entry(id: idea,
                                 row: "`\(r.harness)/\(r.mechanism) \(r.metric)`" + (r.placement == Placement.sameCPU.rawValue ? "" : ", `\(r.placement)`"),
                                 statistic: statistic ?? ("median of \(r.samples) samples", "\(r.samples) 个样本的中位数"),
                                 paired: paired, value: s.median, unit: "ns", valid: r.valid, record: r))
        }
        for (tier, kind) in zip(classTiers, kinds) {
            guard let kind else { continue }
            add(idea(tier), kind.row(run), paired: kind.paired)
        }
        let step1 = run.row("anatomy", "yield", "process_minus_thread")
        add(.step1, step1, paired: true, statistic: ("median of per-pair differences process − thread", "逐对差（进程 − 线程）的中位数"))
        // Step 2 (the switch proper) = the paired thread switch − a lone sched_yield(): what the note's
        // "线程切换只需要第二步" leaves once the kernel entry and the scheduler's pass are taken off.
        if let t = run.row("anatomy", "yield", "thread_switch"), let y = run.row("anatomy", "sched-yield", "per_call"),
           let mt = t.stats?.median, let my = y.stats?.median {
            entries.append(Entry(id: .step2, row: "`anatomy/yield thread_switch` − `anatomy/sched-yield per_call`",
                                 statistic: ("difference of the two medians", "两个中位数之差"), paired: false,
                                 value: mt - my, unit: "ns", valid: t.valid && y.valid, record: t))
        }
        add(.privilegeInSteps, run.row("anatomy", "getppid", "per_call"))
        if let g = run.row("anatomy", "getppid", "per_call"), let y = run.row("anatomy", "sched-yield", "per_call"),
           let mg = g.stats?.median, let my = y.stats?.median {
            entries.append(Entry(id: .schedulerPass, row: "`anatomy/sched-yield per_call` − `anatomy/getppid per_call`",
                                 statistic: ("difference of the two medians", "两个中位数之差"), paired: false,
                                 value: my - mg, unit: "ns", valid: g.valid && y.valid, record: y))
        }
        // The cross-CPU wake-up: the first valid two-task ring across CPUs (thread futex first), so an
        // invalid row is never the page's number when a valid one was measured.
        let rings = [("thread", "futex"), ("thread", "pipe"), ("process", "futex"), ("process", "pipe")]
            .compactMap { run.row($0.0, $0.1, "per_switch", placement: .crossCPU) }
        add(.crossCPUWakeUp, rings.first(where: \.valid) ?? rings.first,
            statistic: ("median of one hand-off (round trip ÷ 2)", "一次交接（往返 ÷ 2）的中位数"))
        add(.vdsoCall, run.row("syscall", "clock_gettime", "per_call"))
        return Ledger(entries: entries, classKinds: kinds)
    }

    /// The class table: each tier's kind, its time and both ratios, in `classTiers` order.
    public struct ClassCell: Sendable {
        public var kind: SwitchKind
        public var entry: Entry
        public var overSyscall: Double?
        public var overCoroutine: Double?
        /// The kernel's count of context switches per switch (per call for the system call): 1 for a
        /// task switch, 0 for a coroutine switch and a system call. nil: the row has no count.
        public var kernelSwitchesPerSwitch: Double?
    }

    /// A ratio of two entries only when both rows are valid: a ratio from an invalid row is no claim.
    public var classTable: [ClassCell?] {
        let coroutine = self[.coroutineSwitch], syscall = self[.systemCall]
        func over(_ e: Entry, _ d: Entry?) -> Double? {
            guard let d, e.valid, d.valid, d.value > 0 else { return nil }
            return e.value / d.value
        }
        return zip(Self.classTiers, classKinds).map { tier, kind in
            guard let kind, let e = self[Self.idea(tier)] else { return nil }
            return ClassCell(kind: kind, entry: e, overSyscall: over(e, syscall), overCoroutine: over(e, coroutine),
                             kernelSwitchesPerSwitch: e.record.flatMap(Self.switchesPerSwitch))
        }
    }

    /// The kernel's count per switch: a row's count is per op, and an op of a switch row with two tasks
    /// is a round trip (two switches); a per-call row's op is one call.
    static func switchesPerSwitch(_ r: Record) -> Double? {
        guard let spo = r.switchesPerOp else { return nil }
        let perSwitch = r.metric == "per_switch" || r.metric.hasSuffix("_switch")
        return perSwitch ? spo / Double(max(r.tasks, 1)) : spo
    }

    /// Why the two timings of one `getppid` (the page's system call, and the privilege switch timed with the
    /// two steps) differ: one line, nil when the page has only one.
    public func whyTwoCalls(_ lang: Language) -> String? {
        guard let s = value(.systemCall), let p = value(.privilegeInSteps) else { return nil }
        if humanTime(s) == humanTime(p) {
            return lang.t("""
                The system call and the privilege switch timed with the two steps are the same `getppid`, measured twice by two harnesses at different times \
                of the run; both read \(humanTime(s)).
                """,
                          "系统调用和与两步一起计时的特权级切换是同一个 `getppid`，由两个测试在运行的不同时段各测一次；两次都是 \(humanTime(s))。")
        }
        return lang.t("""
            The system call (\(humanTime(s))) and the privilege switch timed with the two steps (\(humanTime(p))) are the same `getppid`, measured twice by \
            two harnesses at different times of the run; the page's system call is the first. Their difference is not explained by a measurement: the host \
            slowing this guest in phases is one possible reason.
            """,
                      "系统调用（\(humanTime(s))）和与两步一起计时的特权级切换（\(humanTime(p))）是同一个 `getppid`，由两个测试在运行的不同时段各测一次；本页的“系统调用”用前者。两者的差别没有测量能解释，宿主机分时段拖慢客户机是一种可能。")
    }
}

/// Words chosen by the numbers: a comparative, a share, a magnitude and a condition are never fixed
/// text; each rule below picks the word from the run's numbers (flip tests: `WordsTests`).
public enum Words {
    /// "cheaper" / "dearer" / "about the same" for a against b (±10 %: about the same).
    public static func comparative(_ a: Double, _ b: Double, _ lang: Language) -> String {
        if a < b * 0.9 { return lang.t("cheaper", "代价更小") }
        if a > b * 1.1 { return lang.t("dearer", "代价更大") }
        return lang.t("about the same", "差不多")
    }

    /// The share of a part in a whole, in words: "most" only above 55 %, "about half" from 45 % to 55 %,
    /// "less than half" from 20 % to 45 %, "a small part" below 20 %.
    public static func share(_ part: Double, of whole: Double, _ lang: Language) -> String {
        let s = whole > 0 ? part / whole : 0
        if s > 0.55 { return lang.t("most", "大部分") }
        if s >= 0.45 { return lang.t("about half", "约一半") }
        if s >= 0.2 { return lang.t("less than half", "不到一半") }
        return lang.t("a small part", "一小部分")
    }

    /// A time's order of magnitude in words, with the number itself: never a fixed "a few microseconds".
    public static func magnitude(_ ns: Double, _ lang: Language) -> String {
        let words: (String, String)
        switch ns {
        case ..<10: words = ("a few nanoseconds", "几纳秒")
        case ..<20: words = ("over ten nanoseconds", "十几纳秒")
        case ..<100: words = ("tens of nanoseconds", "几十纳秒")
        case ..<1_000: words = ("hundreds of nanoseconds", "几百纳秒")
        case ..<10_000: words = ("a few microseconds", "几微秒")
        case ..<20_000: words = ("over ten microseconds", "十几微秒")
        case ..<100_000: words = ("tens of microseconds", "几十微秒")
        case ..<1_000_000: words = ("hundreds of microseconds", "几百微秒")
        default: words = ("milliseconds", "毫秒级")
        }
        return lang.t("\(words.0) (\(humanTime(ns)))", "\(words.1)（\(humanTime(ns))）")
    }

    /// Where a statement that depends on a parameter holds: checked against every value the run has.
    /// `holds` maps each value (N or K) to whether the statement holds there; the words name them, the
    /// Chinese with its verb (成立): "at every N measured (10, 100)" / "在测过的每个 N（10、100）都成立",
    /// "at N = 100, 1 000, but not at N = 10" / "N = 100、1000 时成立，N = 10 时不成立", "at no N measured (10)".
    public static func condition(_ name: String, _ holds: [(Int, Bool)], _ lang: Language) -> String {
        let yes = holds.filter(\.1).map { ManyFormat.count($0.0) }, no = holds.filter { !$0.1 }.map { ManyFormat.count($0.0) }
        let sep = lang.t(", ", "、")
        if no.isEmpty { return lang.t("at every \(name) measured (\(yes.joined(separator: sep)))", "在测过的每个 \(name)（\(yes.joined(separator: sep))）都成立") }
        if yes.isEmpty { return lang.t("at no \(name) measured (\(no.joined(separator: sep)))", "在测过的任何 \(name)（\(no.joined(separator: sep))）都不成立") }
        return lang.t("at \(name) = \(yes.joined(separator: sep)), but not at \(name) = \(no.joined(separator: sep))",
                      "\(name) = \(yes.joined(separator: sep)) 时成立，\(name) = \(no.joined(separator: sep)) 时不成立")
    }
}
