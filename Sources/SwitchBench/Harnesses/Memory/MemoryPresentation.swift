import Foundation

/// The memory harness's section (bytes per parked task by kind and N) and claim C8 (一是降低了系统内存).
extension MemoryHarness {
    static let kinds = ["process", "thread", "asm", "swift-task"]
    /// C8 reads N at least this large: below it the system-wide kernel counters move by more than the tasks cost.
    public static let claimMinimumN = 1000

    /// The row of a kind, N and metric: the default stack reserve's when there are several (`stack` fact).
    static func pick(_ rows: [Record], _ mechanism: String, _ n: Int, _ metric: String, footprint: Int? = nil) -> Record? {
        let c = rows.filter { $0.mechanism == mechanism && $0.tasks == n && $0.metric == metric && (footprint == nil || $0.footprintBytes == footprint) }
        return c.first { $0.fact("stack") != "requested" } ?? c.first
    }

    /// User + kernel bytes per task as shown: the sum of the two medians, a kernel growth below zero
    /// counting as 0 (system-wide noise). nil when either row has no samples.
    static func sum(_ user: Record?, _ kernel: Record?) -> Double? {
        guard let u = user?.stats?.median, let k = kernel?.stats?.median else { return nil }
        return u + max(k, 0)
    }

    /// The same, repetition by repetition (the two rows' samples are the same repetitions, in order):
    /// the spread C8's confidence intervals come from. nil when either row has no samples.
    static func total(_ user: Record?, _ kernel: Record?) -> Record? {
        guard let user, let kernel, let su = user.stats, let sk = kernel.stats else { return nil }
        let paired = user.sampleValues.count == kernel.sampleValues.count && !user.sampleValues.isEmpty
        let values = paired ? zip(user.sampleValues, kernel.sampleValues).map { $0 + max($1, 0) } : [su.median + max(sk.median, 0)]
        return Record(harness: user.harness, mechanism: user.mechanism, placement: user.placement, cpus: [],
                      tasks: user.tasks, footprintBytes: user.footprintBytes, metric: "user_plus_kernel_bytes_per_task",
                      unit: "bytes", samples: values, opsPerSample: user.opsPerSample, valid: user.valid && kernel.valid,
                      flagNoisy: false)
    }

    /// C8 reads a total's CV above this as too wide to order the kinds by (system-wide counters).
    static let claimMaximumCV = 0.5

    /// The most negative kernel growth per task of a row's repetitions (0 when none was negative):
    /// the system-wide counter moved that much against the tasks, so that is noise of at least that size.
    static func negativeKernel(_ k: Record?) -> Double {
        guard let k else { return 0 }
        return max(0, -((k.sampleValues + [k.stats?.median ?? 0]).min() ?? 0))
    }

    /// Why the deciding rows cannot decide C8: for a pair compared (thread vs asm, process vs thread),
    /// a repetition's kernel growth was negative (counted as 0) by more than the gap between the two
    /// totals, so the noise it shows could reverse the order; or a total whose repetitions spread
    /// with CV above `claimMaximumCV`. nil when all can decide.
    static func untrustedWhy(_ kinds: [(kind: String, kernel: Record?, total: Record)], _ lang: Language) -> String? {
        var why: [String] = []
        for (m, _, t) in kinds {
            if let cv = t.stats?.cv, t.sampleValues.count > 1, cv > claimMaximumCV {
                why.append(lang.t("""
                    \(ManyFormat.kind(m, lang)): the repetitions' user + kernel space totals spread with CV \(String(format: "%.0f", cv * 100)) %
                    """,
                                  """
                                  \(ManyFormat.kind(m, lang))：各次重复的用户空间 + 内核合计波动很大，CV \
                                  \(String(format: "%.0f", cv * 100)) %
                                  """))
            }
        }
        for (hi, lo) in zip(kinds.dropLast(), kinds.dropFirst()) {
            let noise = max(negativeKernel(hi.kernel), negativeKernel(lo.kernel))
            guard noise > 0, let a = hi.total.stats?.median, let b = lo.total.stats?.median, abs(a - b) <= noise else { continue }
            let who = negativeKernel(hi.kernel) >= negativeKernel(lo.kernel) ? hi.kind : lo.kind
            why.append(lang.t("""
                \(ManyFormat.kind(who, lang)): a repetition's kernel growth was negative (−\(Format.bytes(noise)) per task, counted as 0), more \
                than the gap between \(ManyFormat.kind(hi.kind, lang)) and \(ManyFormat.kind(lo.kind, lang)) (\(Format.bytes(abs(a - b))))
                """,
                              """
                              \(ManyFormat.kind(who, lang))：有一次重复的内核增长为负（每个任务 −\(Format.bytes(noise))，按 0 \
                              计），比\(ManyFormat.kind(hi.kind, lang))和\(ManyFormat.kind(lo.kind, lang))之差（\(Format.bytes(abs(a - b)))\
                              ）还大
                              """))
        }
        guard !why.isEmpty else { return nil }
        return lang.t("a deciding row cannot decide: ", "判定所依据的行不可信：") + why.joined(separator: lang.t("; ", "；"))
            + lang.t(" — the system-wide kernel counters moved by more than the difference the claim rests on; rerun `memory` on a quieter machine.",
                     "。全系统的内核计数波动比判定所依赖的差值还大，请在更安静的机器上重测 `memory`。")
    }

    /// a ÷ b of two totals for people: "about 7.2×" (two significant digits), or the range the CIs
    /// allow ("3.1×–12×") when either total's CV is above 10 %.
    static func ratioText(_ a: Record, over b: Record, _ lang: Language) -> String {
        guard let sa = a.stats, let sb = b.stats, sb.median > 0 else { return "–" }
        let wide = (sa.isNoisy || sb.isNoisy) && a.sampleValues.count > 1 && b.sampleValues.count > 1 && sb.ci95Low > 0
        if wide {
            let (lo, hi) = (sa.ci95Low / sb.ci95High, sa.ci95High / sb.ci95Low)
            // The range the CIs allow, with the median ratio (the deciding number) beside it: one idea, said once.
            let mid = Format.sig2(sa.median / sb.median)
            return lang.t("\(Format.sig2(lo))×–\(Format.sig2(hi))× (median about \(mid)×)",
                          " \(Format.sig2(lo))–\(Format.sig2(hi)) 倍（中位数约 \(mid) 倍）")
        }
        return Format.value(sa.median / sb.median, unit: "ratio2", lang: lang)
    }

    /// The cross-check of a case, in words: `/proc/meminfo`'s AnonPages growth against the row's own accounting.
    static func crossCheck(_ r: Record?, mechanism: String, _ lang: Language) -> String {
        guard let r, r.stats != nil else { return "" }
        let outcome = r.fact("cross_check").flatMap(CrossCheck.init(rawValue:)) ?? (r.valid ? nil : .disagree)
        let word: String
        switch outcome {
        case .agree?: word = lang.t("agree (≤ 20 %)", "一致（≤ 20 %）")
        case .disagree?: word = lang.t("**disagree (> 20 %)**", "**不一致（> 20 %）**")
        case .tooSmall?: word = lang.t("too small to judge", "总量太小，不作判断")
        case nil: return "–"
        }
        guard let own = r.factNumber("accounted_bytes_per_task"), let anon = r.factNumber("anon_bytes_per_task") else { return word }
        let source = mechanism == "process" ? "Σ PSS" : "RSS"
        let diff = own > 0 ? String(format: "%+.0f %%", (anon - own) / own * 100) : "–"
        return word + lang.t(": \(source) \(Format.bytes(own)), AnonPages \(Format.bytes(anon)) (\(diff))",
                             "：\(source) \(Format.bytes(own))，`AnonPages` \(Format.bytes(anon))（\(diff)）")
    }

    public func markdownSection(_ run: RunResult, lang: Language) -> String? {
        let rows = run.records(harness: id)
        guard !rows.isEmpty else { return nil }
        var t = MarkdownTable(lang == .en
            ? ["kind", "N", "stack reserve", "user memory / task", "kernel memory / task", "user + kernel", "address space / task",
               "cross-check with /proc/meminfo"]
            : ["种类", "N", "栈预留", "用户空间内存/任务", "内核内存/任务", "用户空间 + 内核", "地址空间/任务",
               "与 `/proc/meminfo` 对照"])
        for m in Self.kinds {
            let cases = ManyFormat.sortedPairs(rows.filter { $0.mechanism == m }.map { (r: Record) -> [Int] in [r.tasks, r.footprintBytes] })
            for c in cases {
                let (n, fp) = (c[0], c[1])
                func row(_ metric: String) -> Record? { Self.pick(rows, m, n, metric, footprint: fp) }
                let user = row("user_bytes_per_task"), kernel = row("kernel_bytes_per_task")
                let stack = fp > 0 ? Format.bytes(Double(fp)) + (user?.fact("stack") == "requested" ? lang.t(" (set)", "（指定）") : "")
                                   : lang.t("none", "无")
                if let why = ManyFormat.notRun(user, lang) {
                    t.add([ManyFormat.kind(m, lang), ManyFormat.count(n), stack, "n/a", "n/a", "n/a", "n/a", why])
                    continue
                }
                t.add([ManyFormat.kind(m, lang), ManyFormat.count(n), stack, Format.median(user), Format.median(kernel),
                       Format.value(Self.sum(user, kernel), unit: "bytes"), Format.median(row("address_space_bytes_per_task")),
                       Self.crossCheck(row("meminfo_bytes_per_task"), mechanism: m, lang)])
            }
        }
        let intro = lang.t(
            """
            N tasks alive at once, each blocked waiting for input; medians of the repetitions, per task. **User:** processes: Σ PSS of the \
            children (`smaps_rollup`); threads and asm coroutines: growth of this process's RSS; Swift tasks: growth of the heap (`mallinfo2`), \
            since a parked task is heap only. **Kernel:** growth of `KernelStack + PageTables + Slab` in `/proc/meminfo` (system-wide: at small N \
            other activity moves it by more than the tasks cost; a negative growth counts as 0 in the sum). **Address space** is reserved, not \
            resident: a thread reserves its whole stack (8 MiB by default) and touches two pages. Stack reserves are each mechanism's default \
            unless `--stack-size` set them. The cross-check compares the row's own accounting with the growth of `AnonPages`; under 32 MiB in all \
            it is too small to judge.
            """,
            """
            N 个任务同时存活，每个都阻塞着等待输入；表中是每个任务的量，取几次重复的中位数。**用户空间内\
            存**：进程取各子进程 PSS 之和（`smaps_rollup`）；线程和 `asm` 协程取本进程 RSS 的增长；Swift 任务取堆的\
            增长（`mallinfo2`），因为等待中的 Swift 任务只占堆。**内核内存**：`/proc/meminfo` 里 `KernelStack + PageTables + \
            Slab` 的增长（这是全系统的计数，N 小的时候别的活动带来的波动比这些任务本身还大；增长为负时在\
            合计里按 0 计）。**地址空间**只是预留，并不常驻：一个线程预留整个栈（默认 8 MiB），实际只碰到两\
            页。栈预留取各机制的默认值，除非用 `--stack-size` 指定。最后一列把本行自己的统计和 `AnonPages` 的增\
            长对照；总量不到 32 MiB 时太小，不作判断。
            """)
        return Claims.section(lang.t("## Memory per blocked task (claim C8)", "## 每个阻塞等待的任务占用的内存（说法 C8）"),
                              [intro, t.text], run, lang)
    }

    static let claimText = Claims.Text("C8", title: ("Coroutines need less memory than threads, and threads less than processes.",
                                                     "协程比线程省内存，线程又比进程省内存。"),
                                       quote: """
                                           有大量IO操作业务的情况下，我们采用协程替换线程，可以到达很好的效果，一\
                                           是降低了系统内存
                                           """,
                                       rule: ("""
                                           `memory` harness, default stack reserves, at the largest N (at least 1 000; N = 1 000 in `--all`) where \
                                           process, thread and asm coroutine were all measured: user + kernel bytes per task (the two medians \
                                           added; a kernel growth below 0 counts as 0). Holds when thread ÷ asm coroutine and process ÷ thread \
                                           are both ≥ 1 and the 95 % CIs of the per-repetition sums are disjoint (the larger's CI low above the \
                                           smaller's CI high); does not hold when either ratio is below 1; inconclusive when a row or its \
                                           `/proc/meminfo` cross-check is invalid, a repetition's kernel growth was negative (counted as 0) by more \
                                           than the gap between the two totals compared, a deciding total spread with CV above 50 %, only N below 1 \
                                           000 was measured, or the CIs overlap; not measured without rows. Ratios are given to two significant \
                                           digits, or as the range the CIs allow when a total's CV is above 10 %. Swift tasks and the address space \
                                           reserved are shown, not judged.
                                           """,
                                              """
                                              `memory` 测试，各机制默认的栈预留，取进程、线程、`asm` 协程都测到的最大 N\
                                              （至少 1 000；`--all` 里是 N = 1 000）：每个任务的用户空间 + 内核内存（两个中\
                                              位数相加；内核增长小于 0 按 0 计）。线程 ÷ `asm` 协程、进程 ÷ 线程都 ≥ 1\
                                              ，而且按每次重复相加得到的 95 % 置信区间不重叠（大的一方区间下限高于小\
                                              的一方区间上限），则成立；任何一个比值小于 1，则不成立；某行或它的 \
                                              `/proc/meminfo` 对照无效、某次重复的内核增长为负（按 0 计）且其绝对值超过\
                                              所比较的两个合计之差、参与判定的合计 CV 超过 50 %、只测了 1 000 以下的 N、\
                                              或置信区间重叠，则无法判定；没有数据则为未测量。比值取两位有效数字；\
                                              合计的 CV 超过 10 % 时给出置信区间允许的范围。Swift 任务和预留的地址空间\
                                              只列出来，不参与判定。
                                              """),
                                       ruleID: "C8.trusted-rows.v2")

    public func judgeClaims(_ run: RunResult, lang: Language) -> [Claims.Claim] {
        var c = Self.claimText.claim(lang)
        let rows = run.records(harness: id)
        guard !rows.isEmpty else { return [c] }
        func measured(_ m: String) -> Set<Int> {
            Set(rows.filter { $0.mechanism == m && $0.metric == "user_bytes_per_task" && $0.stats != nil }.map(\.tasks))
        }
        let common = measured("process").intersection(measured("thread")).intersection(measured("asm"))
        guard let n = common.max() else {
            c.undecided(lang.t("no N where process, thread and asm coroutine memory were all measured.",
                               "没有哪个 N 上进程、线程和 `asm` 协程的内存都测到了。"))
            return [c]
        }
        func rowsOf(_ m: String) -> (user: Record?, kernel: Record?, check: Record?, total: Record?, sum: Double?) {
            let u = Self.pick(rows, m, n, "user_bytes_per_task"), k = Self.pick(rows, m, n, "kernel_bytes_per_task")
            return (u, k, Self.pick(rows, m, n, "meminfo_bytes_per_task"), Self.total(u, k), Self.sum(u, k))
        }
        let (p, t, a, s) = (rowsOf("process"), rowsOf("thread"), rowsOf("asm"), rowsOf("swift-task"))
        c.evidence = [p, t, a].flatMap { [$0.user, $0.kernel, $0.check].compactMap { $0 } }
        let B = Self.bytes
        c.measured.append(lang.t("per task at N = \(ManyFormat.count(n)), user + kernel: process \(B(p.sum)), thread \(B(t.sum)), asm coroutine \(B(a.sum))",
                                 """
                                 N = \(ManyFormat.count(n)) 时每个任务的用户空间 + 内核内存：进程 \(B(p.sum))，线程 \(B(t.sum))\
                                 ，`asm` 协程 \(B(a.sum))
                                 """)
                          + (s.sum.map { lang.t(", Swift task \(B($0))", "，协程（Swift 任务）\(B($0))") } ?? ""))
        let vm = ["process", "thread", "asm"].map { (m: $0, r: Self.pick(rows, $0, n, "address_space_bytes_per_task")) }
        c.measured.append(lang.t("address space reserved per task (not resident): ", "每个任务预留的地址空间（不常驻）：")
                          + vm.map { "\(ManyFormat.spaced(ManyFormat.kind($0.m, lang)))\(Format.median($0.r))" }.joined(separator: lang.t(", ", "，")))
        guard let pt = p.total, let tt = t.total, let at = a.total, let mp = p.sum, let mt = t.sum, let ma = a.sum else { return [c] }
        c.values = [.init("process_bytes_per_task", mp, unit: "bytes"), .init("thread_bytes_per_task", mt, unit: "bytes"),
                    .init("asm_bytes_per_task", ma, unit: "bytes"), .init("tasks", Double(n), unit: "tasks"),
                    .init("thread_over_asm", mt / ma, unit: "ratio2"), .init("process_over_thread", mp / mt, unit: "ratio2")]
        // Two significant digits, or the range the CIs allow when they are wide: memory counted from
        // system-wide counters is not known to three digits.
        let (ta, pt2) = (Self.ratioText(tt, over: at, lang), Self.ratioText(pt, over: tt, lang))
        // The CI range a ratio may be printed as, typed with the others.
        for (name, a, b) in [("thread_over_asm", tt, at), ("process_over_thread", pt, tt)] {
            if let sa = a.stats, let sb = b.stats, sb.ci95Low > 0, sb.ci95High > 0 {
                c.values += [.init("\(name).ci95_low", sa.ci95Low / sb.ci95High, unit: "ratio2"),
                             .init("\(name).ci95_high", sa.ci95High / sb.ci95Low, unit: "ratio2")]
            }
        }
        c.measured.append(lang.t("thread ÷ asm coroutine = \(ta); process ÷ thread = \(pt2)",
                                 "线程 ÷ `asm` 协程 = \(ta)；进程 ÷ 线程 = \(pt2)"))
        if let w = Claims.invalidWhy(c.evidence, lang) { c.undecided(w); return [c] }
        if let w = Self.untrustedWhy([("process", p.kernel, pt), ("thread", t.kernel, tt), ("asm", a.kernel, at)], lang) { c.undecided(w); return [c] }
        guard n >= Self.claimMinimumN else {
            c.undecided(lang.t("""
                only N up to \(ManyFormat.count(n)) was measured: below \(ManyFormat.count(Self.claimMinimumN)) tasks the system-wide kernel \
                counters move by more than the tasks cost (run with `--population 10,1000`).
                """,
                               """
                               只测到 N = \(ManyFormat.count(n))：不到 \(ManyFormat.count(Self.claimMinimumN)) 个任务时，全系统的内\
                               核计数波动比这些任务本身的开销还大（用 `--population 10,1000` 再测）。
                               """))
            return [c]
        }
        // Does not hold on the medians shown; holds when, beyond that, the repetitions' CIs are disjoint.
        let v: Claims.Verdict = mt < ma || mp < mt ? .doesNotHold
            : ([Claims.ratioVerdict(tt, over: at, atLeast: 1),
                Claims.ratioVerdict(pt, over: tt, atLeast: 1)].allSatisfy { $0 == .holds } ? .holds : .inconclusive)
        let f = Figures(n: n, mp: mp, mt: mt, ma: ma, ta: ta, pt2: pt2)
        Self.decide(&c, v, f, lang)
        c.deciding = ["thread_over_asm", "process_over_thread"]
        if v == .holds {
            c.advice = Self.advice(f, lang)
        }
        return [c]
    }

    /// Bytes for people (`B` in the sentences).
    static func bytes(_ v: Double?) -> String { Format.value(v, unit: "bytes") }

    /// The numbers C8's sentences quote at N: user + kernel bytes per task (`mp` process, `mt` thread,
    /// `ma` asm coroutine) and the ratios as printed (`ta` thread ÷ asm, `pt2` process ÷ thread).
    struct Figures {
        let n: Int
        let mp: Double, mt: Double, ma: Double
        let ta: String, pt2: String
    }

    /// The verdict on the order coroutine < thread < process and its sentence (en/zh).
    static func decide(_ c: inout Claims.Claim, _ v: Claims.Verdict, _ f: Figures, _ lang: Language) {
        let (n, mp, mt, ma, ta, pt2, B) = (f.n, f.mp, f.mt, f.ma, f.ta, f.pt2, bytes)
        c.decide(v,
                 holds: lang.t("""
                     at N = \(ManyFormat.count(n)) a blocked thread costs \(B(mt)) of memory (user + kernel space), \(ta) an asm coroutine's \
                     (\(B(ma))); a process costs \(B(mp)), \(pt2) a thread's.
                     """,
                               """
                               N = \(ManyFormat.count(n)) 时，一个阻塞等待的线程占 \(B(mt)) 内存（用户空间 + 内核），是 \
                               `asm` 协程（\(B(ma))）的\(ta)；一个进程占 \(B(mp))，是线程的\(pt2)。
                               """),
                 doesNotHold: lang.t("""
                     at N = \(ManyFormat.count(n)) the order is not coroutine < thread < process: thread ÷ asm coroutine = \(ta), process ÷ \
                     thread = \(pt2).
                     """,
                                     """
                                     N = \(ManyFormat.count(n)) 时并不是协程 < 线程 < 进程：线程 ÷ `asm` 协程 = \(ta)，进程 ÷ \
                                     线程 = \(pt2)。
                                     """),
                 otherwise: lang.t("the order is as the note says by the medians, but the 95 % CIs of the repetitions overlap.",
                                   "按中位数看顺序和笔记说的一样，但几次重复的 95 % 置信区间有重叠。"))
    }

    /// What the note should say when the claim holds: each kind's memory per task and the ratios.
    static func advice(_ f: Figures, _ lang: Language) -> String {
        let (n, mp, mt, ma, ta, pt2, B) = (f.n, f.mp, f.mt, f.ma, f.ta, f.pt2, bytes)
        return lang.t("""
            With \(ManyFormat.count(n)) tasks blocked waiting for input, each process takes \(B(mp)) of memory (user + kernel space), each \
            thread \(B(mt)) and each asm coroutine \(B(ma)): a thread needs \(ta) a coroutine's memory, a process \(pt2) a thread's. The \
            processes are children forked from the suite's own process, so what each one holds, and the process ÷ thread ratio with it, \
            depends on the size of that parent; a small program's children would hold less.
            """,
                          """
                          \(ManyFormat.count(n)) 个任务都阻塞着等待输入时，每个进程占 \(B(mp)) 内存（用户空间 + 内核\
                          ），每个线程占 \(B(mt))，每个 `asm` 协程占 \(B(ma))：线程所需的内存是协程的\(ta)，进程是\
                          线程的\(pt2)。这里的进程是从整个测试程序 fork 出来的子进程，每个子进程占多少（以及\
                          进程 ÷ 线程这个比值）取决于父进程有多大；小程序 fork 出的子进程会占得更少。
                          """)
    }
}
