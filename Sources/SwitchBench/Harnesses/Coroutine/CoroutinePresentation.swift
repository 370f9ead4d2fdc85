import Foundation

/// The coroutine harness's section (every kind of switch on one CPU), claim C3 and the switch-cost plot.
extension CoroutineHarness {
    public func markdownSection(_ run: RunResult, lang: Language) -> String? {
        guard !run.records(harness: id).isEmpty else { return nil }
        let asm = run.find("coroutine", "asm", "same-cpu", metric: "per_switch")
        let base = asm?.stats?.median
        var t = MarkdownTable(lang == .en
            ? ["kind", "row (harness/mechanism, metric)", "per switch", "÷ asm coroutine", "kernel switches / op", "valid", "what one switch includes"]
            : ["种类", "数据行（`harness/mechanism`，`metric`）", "每次切换", "÷ asm 协程", "每次操作的上下文切换次数（内核统计）", "有效", "一次切换包括什么"])
        func add(_ kind: String, _ r: Record?, _ what: String) {
            guard let r else { return }
            t.add([kind, "`\(r.harness)/\(r.mechanism) \(r.placement), \(r.metric)`", Format.median(r),
                   Format.ratio(r.stats?.median, base), Format.number(r.switchesPerOp, 3), Format.valid(r.valid, lang: lang), what])
        }
        let syscall = run.find("syscall", "getppid", "same-cpu", metric: "per_call")
        add(lang.t("system call (no switch)", "系统调用（不切换）"), syscall,
            lang.t("user → kernel → user, no other task runs (claim C7)", "用户态 → 内核态 → 用户态，没有别的任务运行（说法 C7）"))
        add(lang.t("asm coroutine", "asm 协程"), asm,
            lang.t("callee-saved registers + stack pointer + FP control words, in user mode; both sides in one hand-off loop",
                   "在用户态保存被调用者保存的寄存器、栈指针和浮点控制字；双方跑同一个交接循环"))
        add(lang.t("asm coroutine (resume/yield)", "asm 协程（resume/yield）"), run.find("coroutine", "asm-generator", "same-cpu", metric: "per_switch"),
            lang.t("the same switch between a caller and a generator body: plus a mispredicted return", "同样的切换，发生在调用者和生成器之间：多一次预测错的返回"))
        let uc = run.find("coroutine", "ucontext", "same-cpu", metric: "per_switch")
        add("ucontext", uc, lang.t("the same plus the signal mask: one rt_sigprocmask system call per swapcontext",
                                   "同上，再加上信号屏蔽字：每次 swapcontext 都有一次 rt_sigprocmask 系统调用"))
        add(lang.t("Swift task", "Swift 任务"), run.find("coroutine", "swift-task", "same-cpu", metric: "per_switch"),
            lang.t("continuation resume + suspend; the executor runs the other task's job (one thread)", "恢复一个 continuation 再挂起；执行器接着跑另一个任务（单线程）"))
        add(lang.t("Swift task (Task.yield)", "Swift 任务（Task.yield）"), run.find("coroutine", "swift-task-yield", "same-cpu", metric: "per_switch"),
            lang.t("Task.yield(): re-enqueue behind the other task (one thread)", "`Task.yield()`：排到另一个任务后面（单线程）"))
        add(lang.t("Swift task (global executor)", "Swift 任务（全局执行器）"), run.find("coroutine", "swift-task-global", "unpinned", metric: "per_switch"),
            lang.t("continuation ping-pong on the default thread pool (unpinned; may park and wake threads)", "在默认线程池上来回传递 continuation（不绑核；可能让线程睡下再唤醒）"))
        add(lang.t("thread", "线程"), run.find("thread", "futex", "same-cpu", metric: "per_switch", tasks: 2),
            lang.t("kernel context switch between two threads of one process (futex wake + wait)", "同一进程的两个线程之间的内核上下文切换（futex 唤醒 + 等待）"))
        add(lang.t("process", "进程"), run.find("process", "futex", "same-cpu", metric: "per_switch", tasks: 2),
            lang.t("kernel context switch between two processes (futex wake + wait, address-space change)", "两个进程之间的内核上下文切换（futex 唤醒 + 等待，并切换地址空间）"))

        var facts: [String] = []
        if let ucMed = uc?.stats?.median, let base, let sys = syscall?.stats?.median {
            facts.append(lang.t("ucontext costs \(humanTime(ucMed - base)) more per switch than the asm switch; one getppid system call costs \(humanTime(sys)) here.",
                                "ucontext 每次切换比 asm 切换多花 \(humanTime(ucMed - base))；在这台机器上一次 getppid 系统调用要 \(humanTime(sys))。"))
        }
        if let count = run.find("coroutine", "ucontext", "same-cpu", metric: "rt_sigprocmask_per_switch")?.stats?.median {
            facts.append(lang.t("rt_sigprocmask calls per ucontext switch (tracepoint): \(Format.number(count)).",
                                "每次 ucontext 切换调用 rt_sigprocmask 的次数（tracepoint 计数）：\(Format.number(count))。"))
        }
        let intro = lang.t("""
        Same CPU. A coroutine switch stays in user mode: the kernel counts no context switch for it
        (`kernel switches / op` is the kernel's own count per round trip; expected 0, valid up to 0.01).
        Thread and process rows are `per_switch` of the futex ring with 2 tasks. The system call row
        is one kernel entry and exit without any switch of task.
        """, """
        都在同一个 CPU 上。协程切换不离开用户态，内核不会为它记一次上下文切换
        （“上下文切换次数（内核统计）”是内核按每次往返统计的，应为 0，不超过 0.01 都算有效）。
        线程和进程两行是两个任务的 futex 令牌环的 `per_switch`。系统调用那一行只进出一次内核，不换任务。
        """)
        let heading = lang.t("## Switch cost by kind (claim C3)", "## 各种切换的代价（说法 C3）")
        return Claims.section(heading, [intro, t.text, facts.map { "- " + $0 }.joined(separator: "\n")], run, lang)
    }

    static let claimText = Claims.Text("C3", title: ("A coroutine switch happens in user mode and costs far less than a thread switch.", "协程切换在用户态完成，代价远小于线程切换。"), quote: "切换在用户态完成，切换的代价比线程从用户态到内核态的代价小很多",
                                         rule: ("same-cpu per_switch: holds when the asm coroutine's CI high × 10 is below the cheapest valid thread row's CI low (at least 10× cheaper beyond noise); does not hold when the coroutine's CI low × 10 is above that thread row's CI high; otherwise inconclusive. ucontext and Swift-task rows are shown for contrast, not judged.",
                         "同一个 CPU 上的 `per_switch`：asm 协程置信区间上限的 10 倍仍低于代价最小的有效线程行的区间下限（超出噪声，线程切换的代价仍是协程切换的 10 倍以上），则成立；协程区间下限的 10 倍高于那一行线程的区间上限，则不成立；其余无法判定。ucontext 和 Swift 任务的行只作对照，不参与判定。"))

    public func judgeClaims(_ run: RunResult, lang: Language) -> [Claims.Claim] {
        var c = Self.claimText.claim(lang, facts: [Claims.mitigationFact(run.environment, lang)])
        let allThreads = ["futex", "pipe"].compactMap { Claims.row(run, "thread", $0, "per_switch") }
        let threads = allThreads.filter(\.valid)
        let asm = Claims.row(run, id, "asm", "per_switch")
        let others = ["ucontext", "swift-task"].compactMap { Claims.row(run, id, $0, "per_switch") }
        c.evidence = (asm.map { [$0] } ?? []) + others + allThreads
        guard let asm else { return [c] }
        guard let t = threads.min(by: { Claims.med($0) < Claims.med($1) }) else {
            c.undecided(allThreads.isEmpty ? lang.t("no same-cpu thread per_switch row to compare with", "没有可比较的同 CPU 线程 per_switch 行")
                        : (Claims.invalidWhy(allThreads, lang) ?? ""))
            return [c]
        }
        if let w = Claims.invalidWhy([asm], lang) { c.undecided(w); return [c] }
        let (mt, ma) = (Claims.med(t), Claims.med(asm))
        c.values.append(.init("thread_over_asm", mt / ma, unit: "ratio"))
        c.measured.append(lang.t("thread (\(t.mechanism)) ÷ asm coroutine per switch = \(Format.times(mt / ma))",
                                 "每次切换线程（\(t.mechanism)）÷ asm 协程 = \(Format.times(mt / ma))"))
        for o in others {
            c.values.append(.init("thread_over_\(o.mechanism)", mt / Claims.med(o), unit: "ratio"))
            c.measured.append(lang.t("thread (\(t.mechanism)) ÷ \(o.mechanism) per switch = \(Format.times(mt / Claims.med(o)))",
                                     "每次切换线程（`\(t.mechanism)`）÷ `\(o.mechanism)` = \(Format.times(mt / Claims.med(o)))"))
        }
        let times = Format.sig3(mt / ma)
        let cheaper = lang.t("a thread switch (\(humanTime(mt))) costs \(times) times an asm coroutine switch (\(humanTime(ma))), more than 10 times even at the CI edges: no kernel entry, no scheduler.",
                             "线程切换（\(humanTime(mt))）的代价是 asm 协程切换（\(humanTime(ma))）的 \(times) 倍，取置信区间的边缘也超过 10 倍：协程切换不进内核，也不经过调度器。")
        c.decide(Claims.ratioVerdict(t, over: asm, atLeast: 10), holds: cheaper,
                 doesNotHold: lang.t("a thread switch costs less than 10 times an asm coroutine switch, beyond the CIs.", "超出置信区间看，线程切换的代价不到 asm 协程切换的 10 倍。"),
                 otherwise: lang.t("the 10× margin is within the CIs.", "10 倍的界线落在置信区间之内。"))
        c.deciding = ["thread_over_asm"]
        // The note's contrast: a user-mode switch against one trip into the kernel, and ucontext,
        // which is a coroutine switch too but makes a system call each time.
        let sys = Claims.row(run, "syscall", "getppid", "per_call").flatMap { $0.valid ? Claims.med($0) : nil }
        let uc = Claims.row(run, id, "ucontext", "per_switch").flatMap { $0.valid ? Claims.med($0) : nil }
        var advice = lang.t("An asm coroutine switch costs \(humanTime(ma)) here, a thread switch (`\(t.mechanism)` ring) \(humanTime(mt)) (\(times) times as much)",
                            "在这台机器上，asm 协程切换要 \(humanTime(ma))，线程切换（`\(t.mechanism)` 令牌环）要 \(humanTime(mt))（是前者的 \(times) 倍）")
        if let sys {
            advice += lang.t(sys > ma ? "; even one system call (\(humanTime(sys))) costs more than the coroutine switch, because it enters the kernel" : "; one system call (\(humanTime(sys))) costs no more than the coroutine switch",
                             sys > ma ? "；就连一次系统调用（\(humanTime(sys))）都比协程切换贵，因为它要进入内核" : "；一次系统调用（\(humanTime(sys))）并不比协程切换贵")
        }
        if let uc {
            let word = sys.map { uc > $0 ? lang.t("more than", "比") : lang.t("less than", "比") } ?? ""
            if let sys {
                advice += uc > sys
                    ? lang.t(", and a `ucontext` coroutine switch (\(humanTime(uc))) costs \(word) one system call: it makes one (`rt_sigprocmask`) each time, so \"in user mode\" holds only for switches that save registers themselves",
                             "；而 `ucontext` 协程切换（\(humanTime(uc))）\(word)一次系统调用还贵：它每次都要调用一次 `rt_sigprocmask`，所以“在用户态完成”只对自己保存寄存器的切换成立")
                    : lang.t(", and a `ucontext` coroutine switch (\(humanTime(uc))) costs \(word) one system call", "；`ucontext` 协程切换（\(humanTime(uc))）\(word)一次系统调用代价小")
            }
        }
        c.advice = advice + lang.t(".", "。")
        return [c]
    }

    public func plots(_ run: RunResult, lang: Language) -> [Plot] {
        guard let s = SwitchCostPlot.render(run, lang: lang) else { return [] }
        return [Plot(name: "switch-cost.svg", title: lang.t("Switch cost by kind (log scale)", "各种切换的代价（对数坐标）"), contents: s)]
    }

    /// per_switch is round trip ÷ 2, the same samples: judged through the round_trip row (gating both
    /// counted one change twice: a swift-task-yield round trip and its per_switch in one pair of runs).
    public func compareExemption(_ c: Comparison.Case, baseline: [CaseKey: Record], current: [CaseKey: Record]) -> (en: String, zh: String)? {
        guard c.metric == "per_switch" else { return nil }
        return Comparison.derived(c, from: "round_trip", formula: ("round trip ÷ 2", "往返时间 ÷ 2"), baseline: baseline, current: current)
    }
}
