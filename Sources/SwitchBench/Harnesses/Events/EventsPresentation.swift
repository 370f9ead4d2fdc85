import Foundation

/// The events harness's section (cost per event by kind, N and K), claim C9 (二是减少了系统切换开销)
/// and the cost-per-event plot.
extension EventsHarness {
    static let kinds = ["thread", "process", "asm", "swift-task"]

    /// K (the `burst` parameter) of a per_event row, nil for other rows.
    static func burst(_ r: Record) -> Int? {
        r.metric == eventMetric ? r.parameter(.burst) : nil
    }

    /// The per-event rows of one placement.
    static func eventRows(_ run: RunResult, _ placement: Placement) -> [Record] {
        run.records.filter { $0.harness == "events" && $0.placement == placement.rawValue && burst($0) != nil }
    }

    static func find(_ rows: [Record], _ mechanism: String, n: Int, k: Int) -> Record? {
        rows.first { $0.mechanism == mechanism && $0.tasks == n && $0.metric == eventMetric && $0.parameter(.burst) == k }
    }

    /// The ring harness's round trip measured beside the N = 1, K = 1 case.
    static func ring(_ run: RunResult, _ mechanism: String, _ placement: Placement) -> Record? {
        run.records.first { $0.harness == "events" && $0.mechanism == mechanism && $0.placement == placement.rawValue
                            && $0.tasks == 1 && $0.metric == "ring_round_trip" && $0.stats != nil }
    }

    /// Why a row is invalid, from its numbers (never its note).
    static func invalidReason(_ r: Record, _ lang: Language) -> String {
        guard let s = r.switchesPerOp else { return lang.t("switches not counted", "没有数到切换次数") }
        let e = r.expectedSwitchesPerOp.map { Format.number($0, 3) } ?? "?"
        return lang.t("counted \(Format.number(s, 3)) switches per event, expected \(e)", "数到每个事件 \(Format.number(s, 3)) 次切换，应为 \(e)")
    }

    /// One placement's table: kind, N, K, time per event, its CI, kernel switches per event, what the mechanism implies.
    static func table(_ run: RunResult, _ placement: Placement, _ lang: Language) -> String? {
        let rows = eventRows(run, placement)
        guard !rows.isEmpty else { return nil }
        var t = MarkdownTable(lang == .en
            ? ["kind", "N", "K", "time / event", "95 % CI", "kernel switches / event", "expected", "valid", "note"]
            : ["种类", "N", "K", "每个事件耗时", "95 % 置信区间", "每个事件的上下文切换次数（内核统计）", "应为",
               "有效", "说明"])
        for m in kinds {
            let cases = ManyFormat.sortedPairs(rows.filter { $0.mechanism == m }.compactMap { (r: Record) -> [Int]? in burst(r).map { [$0, r.tasks] } })
            for c in cases {
                let (k, n) = (c[0], c[1])
                guard let r = find(rows, m, n: n, k: k) else { continue }
                if let why = ManyFormat.notRun(r, lang) {
                    t.add([ManyFormat.kind(m, lang), ManyFormat.count(n), String(k), "n/a", "", "", "", "", why])
                    continue
                }
                var note: [String] = []
                if !r.valid { note.append(invalidReason(r, lang)) }
                if n == 1, k == 1, let ring = ring(run, m, placement), let rm = ring.stats?.median, let em = r.stats?.median {
                    let pct = String(format: "%+.0f %%", (em - rm) / rm * 100)
                    note.append(lang.t("ring harness, pipe, 2 tasks: \(humanTime(rm)) per round trip; this row \(pct)",
                                       "环形测试（pipe，2 个任务）每次往返 \(humanTime(rm))；本行 \(pct)"))
                }
                t.add([ManyFormat.kind(m, lang), ManyFormat.count(n), String(k), Format.median(r), Format.ci(r),
                       Format.number(r.switchesPerOp, 3), Format.number(r.expectedSwitchesPerOp, 3),
                       Format.valid(r.valid, lang: lang), note.joined(separator: lang.t("; ", "；"))])
            }
        }
        let caption = placement == .sameCPU
            ? lang.t("**All on one CPU** (`same-cpu`): every kernel switch is a real switch.",
                     "**全部在同一处理器上**（`same-cpu`）：内核统计到的每次上下文切换都是真的切换。")
            : lang.t("""
                **Not pinned** (`\(placement.rawValue)`): the scheduler places the tasks, so switches are checked against the upper bound (K + 1)/K \
                only.
                """,
                     "**不绑核**（`\(placement.rawValue)`）：由调度器安排任务在哪个 CPU 上跑，切换次数只对照上限 (K + 1)/K。")
        return caption + "\n\n" + t.text
    }

    public func markdownSection(_ run: RunResult, lang: Language) -> String? {
        let tables = [Placement.sameCPU, .unpinned].compactMap { Self.table(run, $0, lang) }
        guard !tables.isEmpty else { return nil }
        let intro = lang.t(
            """
            N tasks each wait on their own `eventfd`. A driver makes K random tasks ready at once (a burst); each does \(Self.workRounds) rounds of \
            fixed work and replies; the driver waits for all K. Time per event = burst time ÷ K. **A thread or a process per task** blocks in \
            `read`: on one CPU the kernel switches driver → task 1 → … → task K → driver, K + 1 switches per burst. **Coroutines on an \
            event loop** (asm coroutines, or Swift tasks) share one thread that calls `epoll_wait` and resumes each ready task in user mode: 2 \
            kernel switches per burst (driver → loop thread → driver), whatever K is. So at K = 1 every kind switches twice per event, and the \
            difference shows at K > 1. A row is invalid when the kernel's count is more than 10 % from what the mechanism implies (`expected`).
            """,
            """
            N 个任务各自等待自己的 `eventfd`。驱动方一次让 K 个随机任务就绪（一次突发）；每个就绪任务做 \
            \(Self.workRounds) 轮固定的计算后回复，驱动方等齐 K 个回复。每个事件耗时 = 一次突发的时间 ÷ K。**每\
            个任务一个线程或一个进程**：任务阻塞在 `read` 上，在同一处理器上内核依次切换 驱动方 → 任务 1 \
            → … → 任务 K → 驱动方，每次突发 K + 1 次切换。**事件循环上的协程**（`asm` 协程或 Swift 任务）共用\
            一个线程，它调用 `epoll_wait`，在用户态逐个恢复就绪的任务：不论 K 多大，每次突发只有 2 次内核切换\
            （驱动方 → 事件循环线程 → 驱动方）。所以 K = 1 时各种方式都是每个事件切换 2 次，K > 1 时才看得\
            出差别。内核统计的上下文切换次数与机制应有的次数（“应为”一列）相差超过 10 % 的行记为无效。
            """)
        return Claims.section(lang.t("## Cost per event with N waiting tasks (claim C9)", "## N 个等待任务时每个事件的开销（说法 C9）"),
                              [intro] + tables, run, lang)
    }

    static let claimText = Claims.Text("C9",
        title: ("With many I/O-bound tasks, coroutines on an event loop spend less on switching per event than a thread per task.",
                                                     """
                                                     I/O 任务很多时，事件循环上的协程处理每个事件的切换开销比每任务一\
                                                     个线程小。
                                                     """),
                                       quote: """
                                           有大量IO操作业务的情况下，我们采用协程替换线程，可以到达很好的效果，\
                                           ……二是减少了系统切换开销
                                           """,
                                       rule: ("""
                                           `events` harness, same CPU, `per_event` rows (K in their `burst` column): at the largest K above 1 (K = \
                                           16 in `--all`) and, at that K, the largest N where both a thread per task and asm coroutines on the \
                                           event loop were measured (N = 1 000 in `--all`). Holds when the coroutines counted fewer kernel switches \
                                           per event than the threads and thread ÷ asm coroutine time per event is ≥ 1 with disjoint 95 % CIs; \
                                           does not hold when the coroutines switched as often or more, or the time ratio is below 1; inconclusive \
                                           when a row is invalid (its switch count more than 10 % from what the mechanism implies), the CIs \
                                           overlap, or only K = 1 was measured (one ready task per wake-up: every kind switches twice per event); \
                                           not measured without rows. Processes and Swift tasks are shown, not judged.
                                           """,
                                              """
                                              `events` 测试，同一处理器，`per_event` 行（K 在 `burst` 列）：取大于 1 的最大 K\
                                              （`--all` 里是 K = 16），再取这个 K 下每任务一个线程和事件循环上的 `asm` 协\
                                              程都测到的最大 N（`--all` 里是 N = 1 000）。协程每个事件的上下文切换次数（\
                                              内核统计）少于线程，而且每个事件耗时线程 ÷ 协程 ≥ 1、两边的 95 % 置信\
                                              区间不重叠，则成立；协程切换次数不少于线程，或耗时之比小于 1，则不成\
                                              立；某行无效（切换次数与机制应有的次数相差超过 10 %）、置信区间重叠、\
                                              或只测了 K = 1（每次唤醒只有一个任务就绪，各种方式都是每个事件切换 2 次\
                                              ），则无法判定；没有数据则为未测量。进程和 Swift 任务只列出来，不参与\
                                              判定。
                                              """))

    public func judgeClaims(_ run: RunResult, lang: Language) -> [Claims.Claim] {
        var c = Self.claimText.claim(lang)
        let rows = Self.eventRows(run, .sameCPU).filter { $0.stats != nil }
        guard !rows.isEmpty else { return [c] }
        func cases(_ m: String) -> Set<[Int]> {
            Set(ManyFormat.sortedPairs(rows.filter { $0.mechanism == m }
                .compactMap { (r: Record) -> [Int]? in Self.burst(r).map { [$0, r.tasks] } }))
        }
        let both = cases("thread").intersection(cases("asm"))
        guard let k = both.map({ $0[0] }).filter({ $0 > 1 }).max() else {
            Self.judgeOneReadyOnly(&c, rows, both, lang)
            return [c]
        }
        let n = both.filter { $0[0] == k }.map { $0[1] }.max()!
        let t = Self.find(rows, "thread", n: n, k: k)!, a = Self.find(rows, "asm", n: n, k: k)!
        let others = ["process", "swift-task"].compactMap { Self.find(rows, $0, n: n, k: k) }
        c.evidence = [t, a] + others
        c.measured += Self.measuredLines(rows, t, a, others, n: n, k: k, lang)
        let (mt, ma) = (Claims.med(t), Claims.med(a))
        c.values = [.init("tasks", Double(n), unit: "tasks"), .init("burst", Double(k), unit: "tasks"),
                    .init("thread_over_asm", mt / ma, unit: "ratio")]
        if let st = t.switchesPerOp { c.values.append(.init("thread_switches_per_event", st, unit: "")) }
        if let sa = a.switchesPerOp { c.values.append(.init("asm_switches_per_event", sa, unit: "")) }
        if let w = Claims.invalidWhy([t, a], lang) { c.undecided(w); return [c] }
        guard let st = t.switchesPerOp, let sa = a.switchesPerOp else {
            c.undecided(lang.t("kernel switches were not counted.", "没有统计到上下文切换次数。"))
            return [c]
        }
        let time = Claims.ratioVerdict(t, over: a, atLeast: 1, failsBelow: 1)
        let v: Claims.Verdict = sa >= st ? .doesNotHold : time
        let f = Figures(n: n, k: k, st: st, sa: sa, mt: mt, ma: ma)
        Self.decide(&c, v, f, lang)
        c.deciding = ["thread_switches_per_event", "asm_switches_per_event", "thread_over_asm"]
        let k1 = Self.oneReadyCondition(rows, lang)
        // The K = 1 times that sentence quotes, typed with the others (every number a sentence prints is a value).
        for n in Set(rows.map(\.tasks)).sorted() {
            for m in ["asm", "thread"] {
                if let r = Self.find(rows, m, n: n, k: 1) { c.values.append(.init("k1.n\(n).\(m)_ns_per_event", Claims.med(r), unit: "ns")) }
            }
        }
        if v == .holds {
            c.corrected = Self.correctedSentence
            c.advice = Self.advice(f, lang) + k1
        }
        return [c]
    }

    /// The numbers C9's sentences quote: N and K of the deciding case, kernel switches per event
    /// (`st` thread, `sa` asm coroutine) and median time per event (`mt` thread, `ma` asm coroutine).
    struct Figures {
        let n: Int, k: Int
        let st: Double, sa: Double, mt: Double, ma: Double
    }

    /// No K > 1 where both a thread per task and asm coroutines were measured: the K = 1 figures
    /// when there are some, and why the claim cannot be decided.
    static func judgeOneReadyOnly(_ c: inout Claims.Claim, _ rows: [Record], _ both: Set<[Int]>, _ lang: Language) {
        let n1 = both.filter({ $0[0] == 1 }).map({ $0[1] }).max()
        if let n = n1, let t = find(rows, "thread", n: n, k: 1), let a = find(rows, "asm", n: n, k: 1) {
            c.evidence = [t, a]
            c.measured.append(lang.t("""
                per event at N = \(ManyFormat.count(n)), K = 1: thread \(Format.median(t)) (\(Format.number(t.switchesPerOp, 3)) kernel \
                switches), asm coroutine \(Format.median(a)) (\(Format.number(a.switchesPerOp, 3)))
                """,
                                     """
                                     N = \(ManyFormat.count(n))、K = 1 时每个事件：线程 \(Format.median(t))（\
                                     \(Format.number(t.switchesPerOp, 3)) 次上下文切换），`asm` 协程 \(Format.median(a))（\
                                     \(Format.number(a.switchesPerOp, 3)) 次）
                                     """))
        }
        c.undecided(both.isEmpty
            ? lang.t("no same-cpu case where a thread per task and asm coroutines were both measured.",
                     "同一处理器上没有同时测到每任务一个线程和 `asm` 协程的情形。")
            : lang.t("only K = 1 was measured: one ready task per wake-up switches twice per event either way; run with `--burst 1,16` to decide.",
                     """
                     只测了 K = 1：每次唤醒只有一个任务就绪，两种方式都是每个事件切换 2 次；用 `--burst 1,16` \
                     再测才能判断。
                     """))
    }

    /// The measured lines at the deciding N and K: each kind's time and switches per event, thread ÷
    /// asm coroutine, and K = 1 at the same N for contrast.
    static func measuredLines(_ rows: [Record], _ t: Record, _ a: Record, _ others: [Record], n: Int, k: Int,
                              _ lang: Language) -> [String] {
        var lines: [String] = []
        func part(_ r: Record) -> String {
            lang.t("""
                \(ManyFormat.kind(r.mechanism, lang)) \(Format.median(r)) (\(Format.number(r.switchesPerOp, 3)) kernel \
                switches\(r.valid ? "" : "; row invalid"))
                """,
                   """
                   \(ManyFormat.spaced(ManyFormat.kind(r.mechanism, lang)))\(Format.median(r))（\(Format.number(r.switchesPerOp, 3)) 次上下文\
                   切换\(r.valid ? "" : "；该行无效")）
                   """)
        }
        lines.append(lang.t("per event at N = \(ManyFormat.count(n)), K = \(k): ", "N = \(ManyFormat.count(n))、K = \(k) 时每个事件：")
                          + ([t, a] + others).map(part).joined(separator: lang.t(", ", "，")))
        let (mt, ma) = (Claims.med(t), Claims.med(a))
        // A ratio of an invalid row is no finding: said so beside it.
        let ratioNote = t.valid && a.valid ? "" : lang.t(" (from an invalid row: no finding)", "（用到无效的行，不作结论）")
        lines.append(lang.t("thread ÷ asm coroutine per event = \(Format.times(mt / ma))",
                                 "每个事件的耗时，线程 ÷ `asm` 协程 = \(Format.times(mt / ma))") + ratioNote)
        if let t1 = Self.find(rows, "thread", n: n, k: 1), let a1 = Self.find(rows, "asm", n: n, k: 1) {
            lines.append(lang.t("""
                for contrast, K = 1 at the same N: thread \(Format.median(t1)), asm coroutine \(Format.median(a1)), \
                \(Format.number(t1.switchesPerOp, 3)) and \(Format.number(a1.switchesPerOp, 3)) kernel switches per event
                """,
                                     """
                                     作为对照，同一 N 下 K = 1：线程 \(Format.median(t1))，`asm` 协程 \(Format.median(a1))，每个事\
                                     件的上下文切换次数分别为 \(Format.number(t1.switchesPerOp, 3)) 和 \
                                     \(Format.number(a1.switchesPerOp, 3)) 次
                                     """))
        }
        return lines
    }

    /// The verdict and its sentence (en/zh) once the kernel's switch counts are known.
    static func decide(_ c: inout Claims.Claim, _ v: Claims.Verdict, _ f: Figures, _ lang: Language) {
        let (n, k, st, sa, mt, ma) = (f.n, f.k, f.st, f.sa, f.mt, f.ma)
        c.decide(v,
                 holds: lang.t("""
                     at N = \(ManyFormat.count(n)) with \(k) tasks ready at once, the event loop switched \(Format.number(sa, 3)) times per event \
                     against \(Format.number(st, 3)) for a thread per task; a thread per task took \(Format.times(mt / ma)) the event loop's time \
                     per event (\(humanTime(mt)) against \(humanTime(ma))).
                     """,
                               """
                               N = \(ManyFormat.count(n))、一次有 \(k) 个任务就绪时，事件循环每个事件切换 \
                               \(Format.number(sa, 3)) 次，每任务一个线程是 \(Format.number(st, 3)) 次；线程每个事件的耗时是\
                               事件循环的 \(Format.sig3(mt / ma)) 倍（线程 \(humanTime(mt))，事件循环 \(humanTime(ma))）。
                               """),
                 doesNotHold: sa >= st
                    ? lang.t("the event loop switched \(Format.number(sa, 3)) times per event, not fewer than a thread per task (\(Format.number(st, 3))).",
                             """
                             事件循环每个事件切换 \(Format.number(sa, 3)) 次，并不比每任务一个线程（\(Format.number(st, 3)) \
                             次）少。
                             """)
                    : lang.t("""
                        the event loop switched less (\(Format.number(sa, 3)) against \(Format.number(st, 3)) per event) but took more time per \
                        event (\(humanTime(ma)) against \(humanTime(mt))).
                        """,
                             """
                             事件循环切换得少（每个事件 \(Format.number(sa, 3)) 次，线程 \(Format.number(st, 3)) 次），但每个\
                             事件耗时反而更多（\(humanTime(ma))，线程 \(humanTime(mt))）。
                             """),
                 otherwise: lang.t("""
                     the event loop switched less (\(Format.number(sa, 3)) against \(Format.number(st, 3)) per event), but the times per event \
                     overlap within their 95 % CIs.
                     """,
                                   """
                                   事件循环切换得少（每个事件 \(Format.number(sa, 3)) 次，线程 \(Format.number(st, 3)) 次），但\
                                   每个事件耗时的 95 % 置信区间有重叠。
                                   """))
    }

    /// The note's sentence rewritten to hold on this machine (when the claim holds).
    static let correctedSentence = """
        有大量 I/O 操作业务、而且常常有多个任务同时就绪的情况下，我们采用事件循环上的协程替换每任\
        务一个线程，可以减少系统切换开销：一次唤醒就能处理所有就绪的任务；每次只有一个任务就绪时\
        ，两种做法的切换次数相同。
        """

    /// What the note should add when the claim holds (before the K = 1 condition).
    static func advice(_ f: Figures, _ lang: Language) -> String {
        let (n, k, st, sa, mt, ma) = (f.n, f.k, f.st, f.sa, f.mt, f.ma)
        return lang.t("""
            At N = \(ManyFormat.count(n)) with \(k) tasks ready at once, coroutines on an event loop switched \(Format.number(sa, 3)) times per \
            event against \(Format.number(st, 3)) for a thread per task, and a thread per task took \(Format.sig3(mt / ma)) times their time \
            per event; the note should add that the saving in switches needs several tasks ready at once (K > 1).
            """,
                          """
                          N = \(ManyFormat.count(n))、一次有 \(k) 个任务就绪时，事件循环上的协程每个事件切换 \
                          \(Format.number(sa, 3)) 次，每任务一个线程是 \(Format.number(st, 3)) 次，线程每个事件的耗时是协\
                          程的 \(Format.sig3(mt / ma)) 倍；笔记应当补充：切换次数上的节省要靠一次有多个任务同时就\
                          绪（K > 1）。
                          """)
    }

    /// K = 1 (one task ready per wake-up), checked at every N the run has: both switch about twice per
    /// event, and where the coroutines were still cheaper is named by N (`Words.condition`), never said
    /// for all N from one of them.
    static func oneReadyCondition(_ rows: [Record], _ lang: Language) -> String {
        let ns = Array(Set(rows.filter { $0.mechanism == "thread" && burst($0) == 1 }.map(\.tasks))).sorted()
        let pairs: [(Int, Double, Double)] = ns.compactMap { n in
            guard let t = find(rows, "thread", n: n, k: 1), let a = find(rows, "asm", n: n, k: 1), t.valid, a.valid else { return nil }
            return (n, Claims.med(a), Claims.med(t))
        }
        guard !pairs.isEmpty else { return "" }
        let cheaper = Words.condition("N", pairs.map { ($0.0, $0.1 < $0.2 * 0.9) }, lang)
        let list = pairs.map { lang.t("N = \(ManyFormat.count($0.0)): \(humanTime($0.1)) against \(humanTime($0.2))",
                                      "N = \(ManyFormat.count($0.0))：\(humanTime($0.1)) 对 \(humanTime($0.2))") }
            .joined(separator: lang.t("; ", "；"))
        return lang.t("""
             With one task ready at a time (K = 1) both switch about twice per event; the coroutines took at least 10 % less time per event \
            \(cheaper) (coroutine against thread, \(list)).
            """,
                      """
                      一次只有一个任务就绪（K = 1）时，两者每个事件都切换约 2 次；协程每个事件的耗时比线程少 \
                      10 % 以上（本页把 10 % 以内的差别当作噪声），这一点\(cheaper.hasPrefix("在") ? "" : "在 ")\(cheaper)（\
                      协程对线程，\(list)）。
                      """)
    }

    public func plots(_ run: RunResult, lang: Language) -> [Plot] {
        guard let s = EventsPlot.render(run, lang: lang) else { return [] }
        return [Plot(name: "cost-per-event.svg",
                     title: lang.t("Cost per event against N (log scales)", "每个事件的开销随 N 的变化（对数坐标）"), contents: s)]
    }
}
