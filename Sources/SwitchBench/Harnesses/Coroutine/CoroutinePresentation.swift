import Foundation

/// The coroutine harness's section (every kind of switch on one CPU) and claim C3. The switch-cost plot
/// draws every harness's kinds: it is the report's (Report/SwitchCostPlot.swift).
extension CoroutineHarness {
    public func markdownSection(_ run: RunResult, lang: Language) -> String? {
        guard !run.records(harness: id).isEmpty else { return nil }
        let asm = run.row("coroutine", "asm", "per_switch")
        let base = asm?.stats?.median
        var t = MarkdownTable(lang == .en
            ? ["kind", "row (harness/mechanism, metric)", "per switch", "÷ asm coroutine", "kernel switches / op", "valid", "what one switch includes"]
            : ["种类", "数据行（`harness/mechanism`，`metric`）", "每次切换", "÷ `asm` 协程", "每次操作的上下文切换次数（内核统计）", "有效", "一次切换包括什么"])
        func add(_ kind: String, _ r: Record?, _ what: String) {
            guard let r else { return }
            t.add([kind, "`\(r.harness)/\(r.mechanism) \(r.placement), \(r.metric)`", Format.median(r),
                   Format.ratio(r.stats?.median, base), Format.number(r.switchesPerOp, 3), Format.valid(r.valid, lang: lang), what])
        }
        let syscall = run.row("syscall", "getppid", "per_call")
        let asmCoroutine = lang.t("asm \(Terms.coroutine.en)", "`asm` \(Terms.coroutine.zh)")
        add(lang.t("\(Terms.systemCall.en) (no switch)", "\(Terms.systemCall.zh)（不切换）"), syscall,
            lang.t("user → kernel → user, no other task runs (claim C7)", "用户态 → 内核态 → 用户态，没有别的任务运行（说法 C7）"))
        add(asmCoroutine, asm,
            lang.t("callee-saved registers + stack pointer + FP control words, in user mode; both sides in one hand-off loop",
                   "在用户态保存被调用者保存的寄存器、栈指针和浮点控制字；双方跑同一个交接循环"))
        add(lang.t("\(asmCoroutine) (resume/yield)", "\(asmCoroutine)（resume/yield）"), run.row("coroutine", "asm-generator", "per_switch"),
            lang.t("the same switch between a caller and a generator body: plus a mispredicted return", "同样的切换，发生在调用者和生成器之间：多一次预测错的返回"))
        let uc = run.row("coroutine", "ucontext", "per_switch")
        add("ucontext", uc, lang.t("the same plus the signal mask: one rt_sigprocmask system call per swapcontext",
                                   "同上，再加上信号屏蔽字：每次 swapcontext 都有一次 rt_sigprocmask 系统调用"))
        add(Terms.t(Terms.swiftTask, lang), run.row("coroutine", "swift-task", "per_switch"),
            lang.t("continuation resume + suspend; the executor runs the other task's job (one thread)", "恢复一个 continuation 再挂起；执行器接着跑另一个任务（单线程）"))
        add(lang.t("\(Terms.swiftTask.en) (Task.yield)", "\(Terms.swiftTask.zh)（Task.yield）"), run.row("coroutine", "swift-task-yield", "per_switch"),
            lang.t("Task.yield(): re-enqueue behind the other task (one thread)", "`Task.yield()`：排到另一个任务后面（单线程）"))
        add(lang.t("\(Terms.swiftTask.en) (global executor)", "\(Terms.swiftTask.zh)（全局执行器）"),
            run.row("coroutine", "swift-task-global", "per_switch", placement: .unpinned),
            lang.t("continuation ping-pong on the default thread pool (unpinned; may park and wake threads)", "在默认线程池上来回传递 continuation（不绑核；可能让线程进入睡眠再唤醒）"))
        add(Terms.t(Terms.thread, lang), run.row("thread", "futex", "per_switch", tasks: 2),
            lang.t("kernel context switch between two threads of one process (futex wake + wait)", "同一进程的两个线程之间的内核上下文切换（futex 唤醒 + 等待）"))
        add(Terms.t(Terms.process, lang), run.row("process", "futex", "per_switch", tasks: 2),
            lang.t("kernel context switch between two processes (futex wake + wait, address-space change)", "两个进程之间的内核上下文切换（futex 唤醒 + 等待，并切换地址空间）"))

        var facts: [String] = []
        if let ucMed = uc?.stats?.median, let base, let sys = syscall?.stats?.median {
            facts.append(lang.t("""
                ucontext costs \(humanTime(ucMed - base)) more per switch than the asm switch; one getppid system call costs \(humanTime(sys)) here.
                """,
                                "ucontext 每次切换比 asm 切换多花 \(humanTime(ucMed - base))；在这台机器上一次 getppid 系统调用要 \(humanTime(sys))。"))
        }
        if let count = run.row("coroutine", "ucontext", "rt_sigprocmask_per_switch")?.stats?.median {
            facts.append(lang.t("rt_sigprocmask calls per ucontext switch (tracepoint): \(Format.number(count)).",
                                "每次 ucontext 切换调用 rt_sigprocmask 的次数（tracepoint 计数）：\(Format.number(count))。"))
        }
        let intro = lang.t("""
        Same CPU. A coroutine switch stays in user mode: the kernel counts no context switch for it
        (`kernel switches / op` is the kernel's own count per round trip; expected 0, valid up to 0.01).
        Thread and process rows are `per_switch` of the futex ring with 2 tasks. The system call row
        is one kernel entry and exit without any switch of task.
        """, """
        都在同一处理器上。协程切换不离开用户态，内核不会为它记一次上下文切换
        （“上下文切换次数（内核统计）”是内核按每次往返统计的，应为 0，不超过 0.01 都算有效）。
        线程和进程两行是两个任务用 futex 传递令牌的环（`futex` 环）的 `per_switch`。系统调用那一行只进出一次内核，不换任务。
        """)
        let heading = lang.t("## Switch cost by kind (claim C3)", "## 各种切换的代价（说法 C3）")
        return Claims.section(heading, [intro, t.text, facts.map { "- " + $0 }.joined(separator: "\n")], run, lang)
    }

    static let claimText = Claims.Text("C3", title: ("""
        A coroutine switch happens in user mode and costs far less than a thread's trip from user to kernel mode (a system call).
        """,
                                                     "协程切换在用户态完成，代价远小于线程从用户态进入内核态（一次系统调用）。"),
                                         quote: "切换在用户态完成，切换的代价比线程从用户态到内核态的代价小很多",
                                         rule: ("""
                                             same-cpu: the note compares a coroutine switch with one trip into the kernel, so the deciding number is a system \
                                             call (`syscall getppid per_call`) ÷ the asm coroutine's `per_switch`: holds when the coroutine's CI high × 10 is \
                                             below the system call's CI low (at least 10× cheaper beyond noise); does not hold when the coroutine's CI low × \
                                             10 is above the system call's CI high; otherwise inconclusive. Without a valid system-call row the cheapest valid \
                                             thread `per_switch` row takes its place. The thread-switch ratio, ucontext and Swift-task rows are shown beside \
                                             it, not judged.
                                             """,
                                                """
                                                同一处理器：笔记拿协程切换和线程进一次内核相比，所以判定用的是一次系统调用（`syscall getppid per_call`）÷ `asm` 协程的 `per_switch`：\
                                                协程置信区间上限的 10 倍仍低于系统调用的区间下限（超出噪声，系统调用的代价仍是协程切换的 10 倍以上），则成立；协程区间下限的 10 倍高于系统调用的区间上限，则不成立；其余无法判定。没有有效的系统调用行时，\
                                                用代价最小的有效线程 `per_switch` 行代替。线程切换的比值、ucontext 和 Swift 任务的行列在旁边，不参与判定。
                                                """),
                                         ruleID: "C3.vs-syscall.v2")

    public func judgeClaims(_ run: RunResult, lang: Language) -> [Claims.Claim] {
        var c = Self.claimText.claim(lang, facts: [Claims.mitigationFact(run.environment, lang)])
        let allThreads = ["futex", "pipe"].compactMap { run.row("thread", $0, "per_switch") }
        let threads = allThreads.filter(\.valid)
        let asm = run.row(id, "asm", "per_switch")
        let sysRow = run.row("syscall", "getppid", "per_call")
        let others = ["ucontext", "swift-task"].compactMap { run.row(id, $0, "per_switch") }
        c.evidence = (asm.map { [$0] } ?? []) + (sysRow.map { [$0] } ?? []) + others + allThreads
        guard let asm else { return [c] }
        // The thread switch is the page's one (the ledger's: the paired yield switch when measured), so
        // report.md's ratio is notes.md's; without it, the cheaper valid ring.
        let ledgerThread = Ledger.of(run)[.threadSwitch].flatMap { $0.valid && $0.record?.stats != nil ? $0.record : nil }
        let t = ledgerThread ?? threads.min(by: { Claims.med($0) < Claims.med($1) })
        if let lt = ledgerThread, !c.evidence.contains(where: { $0.harness == lt.harness && $0.mechanism == lt.mechanism && $0.metric == lt.metric }) {
            c.evidence.append(lt)
        }
        let sys = sysRow.flatMap { $0.valid && $0.stats != nil ? $0 : nil }
        guard let against = sys ?? t else {
            c.undecided(allThreads.isEmpty && sysRow == nil
                        ? lang.t("no same-cpu system call or thread row to compare with", "没有可比较的同一处理器上的系统调用行或线程行")
                        : (Claims.invalidWhy(allThreads + (sysRow.map { [$0] } ?? []), lang) ?? ""))
            return [c]
        }
        if let w = Claims.invalidWhy([asm], lang) { c.undecided(w); return [c] }
        let ma = Claims.med(asm), mv = Claims.med(against)
        let times = Format.sig3(mv / ma)
        if sys != nil {
            c.values.append(.init("syscall_over_asm", mv / ma, unit: "ratio"))
            c.measured.append(lang.t("one system call (getppid) ÷ asm coroutine switch = \(Format.times(mv / ma))",
                                     "一次系统调用（getppid）÷ `asm` 协程切换 = \(Format.times(mv / ma))"))
        }
        if let t {
            let mt = Claims.med(t)
            c.values.append(.init("thread_over_asm", mt / ma, unit: "ratio"))
            c.measured.append(lang.t("thread (\(t.mechanism)) ÷ asm coroutine per switch = \(Format.times(mt / ma))",
                                     "每次切换线程（`\(t.mechanism)`）÷ `asm` 协程 = \(Format.times(mt / ma))"))
        }
        for o in others {
            c.values.append(.init("syscall_over_\(o.mechanism)", mv / Claims.med(o), unit: "ratio"))
            c.values.append(.init("\(o.mechanism)_ns", Claims.med(o), unit: "ns"))
            c.measured.append(lang.t("""
                \(sys != nil ? "one system call" : "thread (\(against.mechanism))") ÷ \(o.mechanism) per switch = \(Format.times(mv / Claims.med(o)))
                """,
                                     "\(sys != nil ? "一次系统调用" : "线程（`\(against.mechanism)`）") ÷ `\(o.mechanism)` 每次切换 = \(Format.times(mv / Claims.med(o)))"))
        }
        let (what, whatZH) = sys != nil ? ("one \(Terms.systemCall.en)", "一次\(Terms.systemCall.zh)") : ("a \(Terms.threadSwitch.en)", Terms.threadSwitch.zh)
        c.decide(Claims.ratioVerdict(against, over: asm, atLeast: 10),
                 holds: lang.t("""
                     \(what) (\(humanTime(mv))) costs \(times) times an asm coroutine switch (\(humanTime(ma))), more than 10 times even at the CI edges.
                     """,
                               "\(whatZH)（\(humanTime(mv))）的代价是 `asm` 协程切换（\(humanTime(ma))）的 \(times) 倍，取置信区间的边缘也超过 10 倍。"),
                 doesNotHold: lang.t("\(what) (\(humanTime(mv))) costs less than 10 times an asm coroutine switch (\(humanTime(ma))), beyond the CIs.",
                                     "超出置信区间看，\(whatZH)（\(humanTime(mv))）的代价不到 `asm` 协程切换（\(humanTime(ma))）的 10 倍。"),
                 otherwise: lang.t("the 10× margin is within the CIs.", "10 倍的界线落在置信区间之内。"))
        c.deciding = [sys != nil ? "syscall_over_asm" : "thread_over_asm"]
        c.advice = Self.advice(run, asm: ma, syscall: sys.map(Claims.med), lang)
        return [c]
    }

    /// C3's sentence: a user-mode switch against one trip into the kernel, then the page's thread switch
    /// (the ledger's), then every user-mode kind that still costs more than a system call, and a Swift
    /// task that costs less named too (no row drops out silently).
    static func advice(_ run: RunResult, asm ma: Double, syscall mv: Double?, _ lang: Language) -> String {
        let id = "coroutine"
        // The note's contrast: a user-mode switch against one trip into the kernel; then the thread
        // switch; then the user-mode switches that still cost more than a system call.
        var advice: String
        let times = mv.map { Format.sig3($0 / ma) } ?? ""
        if let mv {
            advice = mv > ma
                ? lang.t("""
                    An asm coroutine switch costs \(humanTime(ma)) here; even one system call (\(humanTime(mv))) costs more than the coroutine switch \
                    (\(times) times as much): it enters the kernel and returns
                    """,
                         "在这台机器上，`asm` 协程切换要 \(humanTime(ma))；就连一次系统调用（\(humanTime(mv))）都比协程切换贵（是它的 \(times) 倍），它要进入内核再返回")
                : lang.t("An asm coroutine switch costs \(humanTime(ma)) here; one system call (\(humanTime(mv))) costs no more than the coroutine switch",
                         "在这台机器上，`asm` 协程切换要 \(humanTime(ma))；一次系统调用（\(humanTime(mv))）并不比协程切换贵")
        } else {
            advice = lang.t("An asm coroutine switch costs \(humanTime(ma)) here (no system-call row in this run)",
                            "在这台机器上，`asm` 协程切换要 \(humanTime(ma))（这次没有测系统调用）")
        }
        // The thread switch is the page's one (the ledger's), not a ring of this claim's choosing.
        if let mt = Ledger.of(run).value(.threadSwitch) {
            advice += lang.t("; a thread switch costs \(humanTime(mt)), \(Format.sig3(mt / ma)) times the coroutine switch",
                             "；线程切换要 \(humanTime(mt))，是协程切换的 \(Format.sig3(mt / ma)) 倍")
        }
        if let s = mv {
            var dearer: [(en: String, zh: String)] = []
            if let uc = run.row(id, "ucontext", "per_switch"), uc.valid, Claims.med(uc) > s {
                dearer.append(("""
                    a `ucontext` coroutine switch (\(humanTime(Claims.med(uc))), \(Format.sig3(Claims.med(uc) / s)) times a system call; each switch also \
                    makes one system call, `rt_sigprocmask`, which explains at most one system call's worth of it)
                    """,
                               """
                               `ucontext` 协程切换（\(humanTime(Claims.med(uc)))，是一次系统调用的 \(Format.sig3(Claims.med(uc) / s)) 倍；它每次还要调用一次 `rt_sigprocmask`，\
                               这最多解释其中一次系统调用的代价）
                               """))
            }
            if let st = run.row(id, "swift-task", "per_switch"), st.valid, Claims.med(st) > s {
                dearer.append(("""
                    a Swift task switch (\(humanTime(Claims.med(st))), \(Format.sig3(Claims.med(st) / s)) times a system call, with no context switch counted \
                    by the kernel)
                    """,
                               "Swift 任务切换（\(humanTime(Claims.med(st)))，是一次系统调用的 \(Format.sig3(Claims.med(st) / s)) 倍，内核没有为它记上下文切换）"))
            }

            if !dearer.isEmpty {
                advice += lang.t(". But " + dearer.map(\.en).joined(separator: ", and ") + " cost" + (dearer.count == 1 ? "s" : "")
                                 + " more than one system call: " + (dearer.count == 1 ? "this switch stays" : "these switches stay")
                                 + " in user mode, so \"in user mode\" alone does not make a switch cheap",
                                 "。但 " + dearer.map(\.zh).joined(separator: "，以及 ") + (dearer.count == 1 ? "比" : "，都比") + "一次系统调用还贵："
                                 + (dearer.count == 1 ? "这种切换" : "这些切换") + "也在用户态完成，可见“在用户态完成”本身并不保证代价小")
            }
            // A user-mode kind cheaper than a system call is named too, so no row drops out silently.
            if let st = run.row(id, "swift-task", "per_switch"), st.valid, Claims.med(st) <= s {
                advice += lang.t("; a Swift task switch (\(humanTime(Claims.med(st)))) costs less than one system call here",
                                 "；Swift 任务切换（\(humanTime(Claims.med(st)))）在这里比一次系统调用的代价小")
            }
        }
        return advice + lang.t(".", "。")
    }

    /// per_switch is round trip ÷ 2, the same samples: judged through the round_trip row (gating both
    /// counted one change twice: a swift-task-yield round trip and its per_switch in one pair of runs).
    public func compareExemption(_ c: Comparison.Case, baseline: [CaseKey: Record], current: [CaseKey: Record]) -> (en: String, zh: String)? {
        guard c.metric == "per_switch" else { return nil }
        return Comparison.derived(c, from: "round_trip", formula: ("round trip ÷ 2", "往返时间 ÷ 2"), baseline: baseline, current: current)
    }
}
