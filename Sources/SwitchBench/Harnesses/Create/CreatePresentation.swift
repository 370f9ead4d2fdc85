import Foundation

/// The create harness's section (creation costs and the zombie fact) and claim C6.
extension CreateHarness {
    /// What one op of each mechanism includes, for people.
    static func what(_ mechanism: String, _ lang: Language) -> String {
        switch mechanism {
        case "fork-exit-wait": return lang.t("fork (copy of page tables, COW), child _exit, parent waitpid reaps the zombie",
                                             "fork（复制页表，写时复制），子进程 _exit，父进程 waitpid 回收僵尸进程")
        case "fork-exec": return lang.t("fork + execve of a program that exits at once (new address space, program loading) + exit + waitpid",
                                        "fork + execve 一个启动后立即退出的程序（新的地址空间，装载程序）+ 退出 + waitpid")
        case "posix-spawn": return lang.t("glibc posix_spawn (clone(CLONE_VM|CLONE_VFORK) + execve, no page-table copy) + exit + waitpid",
                                          "glibc 的 posix_spawn（`clone(CLONE_VM|CLONE_VFORK)` + execve，不复制页表）+ 退出 + waitpid")
        case "pthread": return lang.t("pthread_create (stack from glibc's cache, clone) + the thread returns + pthread_join",
                                      "pthread_create（栈取自 glibc 的缓存，clone）+ 线程返回 + pthread_join")
        case "coroutine": return lang.t("Coroutine init (mmap'ed stack + guard page), first switch in and back, deinit (munmap)",
                                        "创建协程（mmap 出栈和保护页），第一次切进去再切回来，销毁（munmap）")
        case "swift-task": return lang.t("a Swift task on a one-thread executor: enqueue, run, complete, await its value",
                                         "单线程执行器上的一个 Swift 任务：入队、运行、完成，再用 `await` 取它的结果")
        default: return ""
        }
    }

    /// What an exec row ran, from its `exec_program` fact: the suite's own binary is not a no-op
    /// program (dynamic loading and the Swift runtime's start-up are in the time).
    static func program(_ r: Record, _ lang: Language) -> String {
        switch ExecProgram.of(r) {
        case .suite?: return lang.t("; the program is switchbench itself, exiting at once: its dynamic loading and Swift start-up are in the time",
                                    "；执行的程序是 `switchbench` 自身、启动后立即退出：它的动态链接和 Swift 运行时启动都算在时间里")
        case .binTrue?: return lang.t("; the program is `/bin/true`", "；执行的程序是 `/bin/true`")
        case nil: return ""
        }
    }

    public func markdownSection(_ run: RunResult, lang: Language) -> String? {
        let rows = run.records(harness: id).filter { $0.metric == "create_cleanup" }
        let zombie = ZombieFact.row(run)
        guard !rows.isEmpty || zombie != nil else { return nil }
        let thread = rows.first { $0.mechanism == "pthread" }?.stats?.median
        var t = MarkdownTable(lang == .en
            ? ["kind", "create + clean up", "÷ pthread", "kernel switches / op", "valid", "what one op includes"]
            : ["种类", "创建 + 清理", "÷ pthread", "每次操作的上下文切换次数（内核统计）", "有效", "一次操作包括什么"])
        for r in rows {
            t.add(["`\(r.mechanism)`", Format.median(r), Format.ratio(r.stats?.median, thread), Format.number(r.switchesPerOp),
                   Format.valid(r.valid, lang: lang), Self.what(r.mechanism, lang) + Self.program(r, lang)])
        }
        let intro = lang.t("One op = one task created, run to its end and cleaned up (reaped, joined or destroyed), on one CPU.",
                           "一次操作 = 在一个 CPU 上创建一个任务，让它跑完，再清理掉（回收、`join` 或销毁）。")
        let z = zombie.map { lang.t("**Zombie (a fact, not a timing):** ", "**僵尸进程（这是事实，不是计时）：**") + Self.zombieSentence($0, lang) } ?? ""
        return Claims.section(lang.t("## Creation costs (claim C6)", "## 创建的代价（说法 C6）"), [intro, t.text, z], run, lang)
    }

    /// The zombie fact in words, from its typed value.
    static func zombieSentence(_ r: Record, _ lang: Language) -> String {
        guard let z = ZombieFact.from(r) else { return lang.t("not recorded in this CSV.", "这个 CSV 里没有记录。") }
        let after = z.reaped ? lang.t("after waitpid it was gone from /proc (reaped)", "waitpid 之后它从 /proc 里消失了（已回收）")
            : lang.t("after waitpid: state \(z.after)", "waitpid 之后的状态：\(z.after)")
        let s = z.sawZombie
            ? lang.t("a child that called _exit(0) showed state `Z` (zombie) in /proc/<pid>/stat until its parent's waitpid; \(after)",
                     "子进程调用 _exit(0) 之后，在父进程 waitpid 之前，`/proc/<pid>/stat` 里它的状态一直是 `Z`（僵尸进程）；\(after)")
            : lang.t("the exited child was seen in state `\(z.before)`, not `Z`; \(after)", "已退出的子进程状态是 `\(z.before)`，不是 `Z`；\(after)")
        return s + (r.valid ? lang.t(".", "。") : lang.t(" — **not shown**.", "——**没能演示出来**。"))
    }

    static let claimText = Claims.Text("C6", title: ("A process lives from fork to exit and stays a zombie until its parent waits for it.",
                                    "进程从 fork 活到 exit，退出后一直是僵尸进程，直到父进程等待它。"), quote: "僵尸进程：进程通过 exit 系统调用退出之后……内核立即回收一部分资源并将该进程标记为僵尸进程",
                                         rule: ("create harness: holds when a valid fork-exit-wait row is present (each op created, ended and reaped a process) and the zombie check is valid and saw state Z in /proc before waitpid; does not hold when the check saw no Z; otherwise inconclusive. Creation costs are shown for scale.",
                         "`create` 测试：有一行有效的 `fork-exit-wait`（每次操作都创建、结束并回收了一个进程），而且僵尸检查有效、在 waitpid 之前从 /proc 看到了状态 Z，则成立；检查没看到 Z 则不成立；其余无法判定。各种创建的代价列出来作参照。"))

    public func judgeClaims(_ run: RunResult, lang: Language) -> [Claims.Claim] {
        var c = Self.claimText.claim(lang)
        let rows = run.records(harness: id)
        guard !rows.isEmpty else { return [c] }
        c.evidence = rows.filter { $0.stats != nil && $0.unit == "ns" }
        let fork = rows.first { $0.mechanism == "fork-exit-wait" && $0.stats != nil }
        if let f = fork {
            let mf = Claims.med(f)
            for r in c.evidence where r.mechanism != f.mechanism {
                let mr = Claims.med(r)
                c.measured.append(mr >= mf
                    ? lang.t("\(r.mechanism): \(humanTime(mr)), \(Format.times(mr / mf)) a fork-exit-waitpid (\(humanTime(mf)))",
                             "`\(r.mechanism)`：\(humanTime(mr))，是 `fork-exit-wait`（\(humanTime(mf))）的 \(Format.sig3(mr / mf)) 倍")
                    : lang.t("\(r.mechanism): \(humanTime(mr)); a fork-exit-waitpid (\(humanTime(mf))) costs \(Format.times(mf / mr)) as much",
                             "`\(r.mechanism)`：\(humanTime(mr))；`fork-exit-wait`（\(humanTime(mf))）是它的 \(Format.sig3(mf / mr)) 倍"))
            }
        }
        let zombie = ZombieFact.row(run)
        if let z = zombie { c.evidence.append(z) }
        guard let f = fork else { c.undecided(lang.t("no fork-exit-wait row in the create rows", "`create` 的数据里没有 fork-exit-wait 行")); return [c] }
        c.values.append(.init("fork_exit_wait", Claims.med(f), unit: "ns"))
        if let w = Claims.invalidWhy([f], lang) { c.undecided(w); return [c] }
        guard let z = zombie, let fact = ZombieFact.from(z) else {
            c.undecided(lang.t("fork-exit-wait measured (\(humanTime(Claims.med(f))) per process) but the zombie check is not in the CSV",
                               "测了 fork-exit-wait（每个进程 \(humanTime(Claims.med(f)))），但 CSV 里没有僵尸检查"))
            return [c]
        }
        c.measured.append(lang.t("zombie check: state before waitpid `\(fact.before)`, after `\(fact.after)`",
                                 "僵尸检查：waitpid 之前的状态 `\(fact.before)`，之后 `\(fact.after)`"))
        c.values.append(.init("zombie_state_before_waitpid", fact.sawZombie ? 1 : 0, unit: "state"))
        c.values.append(.init("reaped_after_waitpid", fact.reaped ? 1 : 0, unit: "state"))
        c.deciding = ["zombie_state_before_waitpid", "reaped_after_waitpid"]
        if fact.sawZombie && z.valid {
            c.verdict = .holds
            c.why = lang.t("the child that had called `_exit` was seen in state `Z` (zombie) in /proc before its parent's `waitpid`, and \(fact.reaped ? "was gone after it (reaped)" : "after it: state `\(fact.after)`"); each fork-exit-waitpid op (\(humanTime(Claims.med(f)))) ran that whole life cycle.",
                           "调用了 `_exit` 的子进程，在父进程 `waitpid` 之前，在 /proc 里的状态是 `Z`（僵尸进程），\(fact.reaped ? "`waitpid` 之后就消失了（已回收）" : "`waitpid` 之后的状态是 `\(fact.after)`")；每次 `fork-exit-wait`（\(humanTime(Claims.med(f)))）都走完了这样的一生。")
            c.advice = lang.t("A child that has exited stays a zombie (state `Z` in /proc) until its parent calls `waitpid`, which reaps it: seen here, as the note says.",
                              "已经退出的子进程一直是僵尸进程（/proc 里状态为 `Z`），直到父进程调用 `waitpid` 把它回收：这里确实看到了，与笔记一致。")
        } else if !fact.sawZombie {
            c.verdict = .doesNotHold
            c.why = lang.t("the zombie check did not see state Z.", "僵尸检查没有看到 Z 状态。")
        } else {
            c.undecided(Claims.invalidWhy([z], lang) ?? "")
        }
        return [c]
    }
}
