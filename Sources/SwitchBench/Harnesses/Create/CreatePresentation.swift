import Foundation

/// The create harness's section (creation costs and the zombie fact) and claim C6.
extension CreateHarness {
    /// What one op of a row includes, for people: who created the task (the minimal parent, or for an
    /// older CSV this Swift process) and, for the exec rows, the program they ran.
    static func what(_ r: Record, _ lang: Language) -> String {
        let parent = CreateParent.of(r)
        let by = parent == .minimal ? lang.t("in the minimal C parent `switchbench-proc`: ", "在最小的 C 父进程 `switchbench-proc` 里：")
            : parent == .inSuite ? lang.t("in the suite's own Swift process (older run): ", "在套件自己的 Swift 进程里（旧的运行）：") : ""
        let program: String
        switch ExecProgram.of(r) {
        case .staticNoop: program = lang.t("the static no-op `switchbench-noop`", "静态链接、什么都不做的 `switchbench-noop`")
        case .suite: program = lang.t("the suite's own binary (dynamic loading + Swift start-up)",
                                      "套件自己的二进制（动态装载 + Swift 运行时启动）")
        case .binTrue: program = lang.t("`/bin/true` (dynamically linked)", "`/bin/true`（动态链接）")
        case nil: program = lang.t("a program that exits at once", "一个启动后立即退出的程序")
        }
        switch r.mechanism {
        case "fork-exit-wait": return by + lang.t("""
            fork (copy of the parent's mappings and page tables, COW), child exit() as lat_proc's, parent waitpid reaps the zombie
            """,
                                                  """
                                                  fork（复制父进程的映射和页表，写时复制），子进程像 lat_proc 那样调用 \
                                                  exit()，父进程 waitpid 回收僵尸进程
                                                  """)
        case "fork-exec": return by + lang.t("fork + execve of \(program) (new address space, program loading) + exit + waitpid",
                                             "fork + execve \(program)（新的地址空间，装载程序）+ 退出 + waitpid")
        case "posix-spawn": return by + lang.t("glibc posix_spawn of \(program) (clone(CLONE_VM|CLONE_VFORK) + execve, no page-table copy) + exit + waitpid",
                                               """
                                               glibc 的 posix_spawn 启动 \(program)（`clone(CLONE_VM|CLONE_VFORK)` + execve，不复制页表）\
                                               + 退出 + waitpid
                                               """)
        case "pthread": return by + lang.t("pthread_create (stack from glibc's cache, clone) + the thread returns + pthread_join",
                                           "pthread_create（栈取自 glibc 的缓存，clone）+ 线程返回 + pthread_join")
        case "coroutine": return lang.t("in this process: Coroutine init (mmap'ed stack + guard page), first switch in and back, deinit (munmap)",
                                        "在本进程里：创建协程（mmap 出栈和保护页），第一次切进去再切回来，销毁（munmap）")
        case "swift-task": return lang.t("in this process: a Swift task on a one-thread executor: enqueue, run, complete, await its value",
                                         """
                                         在本进程里：单线程执行器上的一个 Swift 任务：入队、运行、完成，再用 `await` \
                                         取它的结果
                                         """)
        default: return ""
        }
    }

    /// Why a row has no timing ("n/a: …" as the harness wrote it), nil when it has one.
    static func notAvailable(_ r: Record) -> String? {
        guard r.stats == nil, let range = r.note.range(of: "n/a: ") else { return nil }
        return String(r.note[range.upperBound...].prefix { $0 != ";" })
    }

    public func markdownSection(_ run: RunResult, lang: Language) -> String? {
        let all = run.records(harness: id).filter { $0.metric == "create_cleanup" }
        let rows = all.filter { $0.footprintBytes == 0 }
        let zombie = ZombieFact.row(run)
        guard !all.isEmpty || zombie != nil else { return nil }
        let thread = rows.first { $0.mechanism == "pthread" }?.stats?.median
        var t = MarkdownTable(lang == .en
            ? ["kind", "create + clean up", "÷ pthread", "kernel switches / op", "valid", "what one op includes"]
            : ["种类", "创建 + 清理", "÷ pthread", "每次操作的上下文切换次数（内核统计）", "有效", "一次操作包括什么"])
        var missing: [String] = []
        for r in rows {
            if let why = Self.notAvailable(r) {
                missing.append("`\(r.mechanism)`: \(why)")
                t.add(["`\(r.mechanism)`", "n/a", "n/a", "n/a", Format.valid(r.valid, lang: lang), Self.what(r, lang)])
                continue
            }
            t.add(["`\(r.mechanism)`", Format.median(r), Format.ratio(r.stats?.median, thread), Format.number(r.switchesPerOp),
                   Format.valid(r.valid, lang: lang), Self.what(r, lang)])
        }
        let intro = lang.t("""
            One op = one task created, run to its end and cleaned up (reaped, joined or destroyed), on one CPU. Processes and threads are created \
            by a minimal C parent (`switchbench-proc`, a small static program built with the suite, as lmbench's `lat_proc`), so the rows time the \
            creation, not the suite's own large process.
            """,
                           """
                           一次操作 = 在一个 CPU 上创建一个任务，让它跑完，再清理掉（回收、`join` 或销毁）。进程\
                           和线程由一个最小的 C 父进程（`switchbench-proc`，随套件一起编译的小静态程序，和 lmbench 的 \
                           `lat_proc` 一样）来创建，所以这些行测的是创建本身，而不是套件自己那个大进程。
                           """)
        let na = missing.isEmpty ? "" : lang.t("**Not measured:** ", "**没有测：**") + missing.joined(separator: lang.t("; ", "；"))
        let z = zombie.map { lang.t("**Zombie (a fact, not a timing):** ",
                                    "**僵尸进程（这是事实，不是计时）：**") + Self.zombieSentence($0, lang) } ?? ""
        return Claims.section(lang.t("## Creation costs (claim C6)", "## 创建的代价（说法 C6）"),
                              [intro, t.text, na, Self.sweepSection(all, lang) ?? "", z], run, lang)
    }

    /// "Fork cost vs the parent's mapped memory": a table of the fork-exit-wait and posix-spawn rows by
    /// the parent's touched memory, and what it shows in numbers; nil when the run has no sweep rows.
    static func sweepSection(_ rows: [Record], _ lang: Language) -> String? {
        let sizes = Array(Set(rows.filter { sweepMechanisms.contains($0.mechanism) && $0.footprintBytes > 0 }.map(\.footprintBytes))).sorted()
        guard !sizes.isEmpty else { return nil }
        func row(_ m: String, _ size: Int) -> Record? { rows.first { $0.mechanism == m && $0.footprintBytes == size && $0.stats != nil } }
        let fork0 = row("fork-exit-wait", 0)?.stats?.median, spawn0 = row("posix-spawn", 0)?.stats?.median
        var t = MarkdownTable(lang == .en
            ? ["parent's touched memory", "fork + exit + waitpid", "× with none", "posix_spawn + waitpid", "× with none", "huge pages in it", "valid"]
            : ["父进程触碰的内存", "fork + exit + waitpid", "相对不触碰", "posix_spawn + waitpid", "相对不触碰", "其中的大页", "有效"])
        for size in [0] + sizes {
            let f = row("fork-exit-wait", size), s = row("posix-spawn", size)
            let huge = [f, s].compactMap { $0.flatMap(CreateParent.hugeBytes) }.max()
            let valid = [f, s].compactMap { $0 }
            t.add([size == 0 ? lang.t("none", "不触碰") : Format.bytes(Double(size)),
                   Format.median(f), Format.ratio(f?.stats?.median, fork0), Format.median(s), Format.ratio(s?.stats?.median, spawn0),
                   size == 0 ? "–" : huge.map { Format.bytes(Double($0)) } ?? lang.t("not read", "未读到"),
                   valid.isEmpty ? "–" : Format.valid(valid.allSatisfy(\.valid), lang: lang)])
        }
        var text = [lang.t("### Fork cost vs the parent's mapped memory", "### fork 的代价与父进程映射的内存"),
                    lang.t("""
                        Before its loop the minimal parent makes private anonymous memory resident in 4 KiB pages (`MADV_NOHUGEPAGE`, read back \
                        from its `smaps`). fork copies the parent's page tables — one entry per 4 KiB page — and shares every page \
                        copy-on-write; the child's exit undoes it. posix_spawn (`CLONE_VM|CLONE_VFORK`) shares the parent's address space until the \
                        `execve`, so it copies none of it.
                        """,
                           """
                           进入循环之前，最小父进程先让一段私有匿名内存以 4 KiB 页常驻（`MADV_NOHUGEPAGE`，并从它的 \
                           `smaps` 读回核对）。fork 要复制父进程的页表（每个 4 KiB 页一项），并把每一页设为写时复\
                           制共享；子进程退出时再全部撤销。posix_spawn（`CLONE_VM|CLONE_VFORK`）在 `execve` 之前和父进程共\
                           用地址空间，所以一点也不复制。
                           """),
                    t.text]
        let top = sizes.last!
        if let f0 = fork0, let fN = row("fork-exit-wait", top)?.stats?.median, f0 > 0 {
            let perPage = (fN - f0) / (Double(top) / 4096)
            var line = lang.t("""
                With \(Format.bytes(Double(top))) touched, fork + exit + waitpid took \(Format.times(fN / f0)) as long as with none: \
                \(humanTime(perPage)) per 4 KiB page of the parent's memory
                """,
                              """
                              父进程触碰了 \(Format.bytes(Double(top))) 时，fork + exit + waitpid 的耗时是不触碰时的 \
                              \(Format.times(fN / f0))：父进程每 4 KiB 内存页 \(humanTime(perPage))
                              """)
            if let s0 = spawn0, let sN = row("posix-spawn", top)?.stats?.median, s0 > 0 {
                line += lang.t("; posix_spawn + waitpid took \(Format.times(sN / s0)) as long",
                               "；posix_spawn + waitpid 是不触碰时的 \(Format.times(sN / s0))")
            }
            text.append(line + lang.t(".", "。"))
        }
        return text.joined(separator: "\n\n")
    }

    /// The zombie fact in words, from its typed value.
    static func zombieSentence(_ r: Record, _ lang: Language) -> String {
        guard let z = ZombieFact.from(r) else { return lang.t("not recorded in this CSV.", "这个 CSV 里没有记录。") }
        let after = z.reaped ? lang.t("after waitpid it was gone from /proc (reaped)", "waitpid 之后它从 /proc 里消失了（已回收）")
            : lang.t("after waitpid: state \(z.after)", "waitpid 之后的状态：\(z.after)")
        let s = z.sawZombie
            ? lang.t("a child that called `_exit` showed state `Z` (zombie) in /proc/<pid>/stat until its parent's waitpid; \(after)",
                     """
                     子进程调用 `_exit` 之后，在父进程 waitpid 之前，`/proc/<pid>/stat` 里它的状态一直是 `Z`（僵尸进程\
                     ）；\(after)
                     """)
            : lang.t("the exited child was seen in state `\(z.before)`, not `Z`; \(after)",
                     "已退出的子进程状态是 `\(z.before)`，不是 `Z`；\(after)")
        return s + (r.valid ? lang.t(".", "。") : lang.t(" — **not shown**.", "——**没能演示出来**。"))
            + (ZombieResources.from(r).map { lang.t(" ", "") + resourcesSentence($0, lang) } ?? "")
    }

    /// What exit freed and what the zombie kept, in numbers.
    static func resourcesSentence(_ z: ZombieResources, _ lang: Language) -> String {
        func n(_ v: Int?) -> String { v.map(String.init) ?? lang.t("none", "无") }
        let rss = z.alive.rssKiB.map { Format.bytes($0 * 1024) } ?? "?"
        let kept = z.zombie.rssKiB.map { Format.bytes($0 * 1024) } ?? lang.t("no VmRSS line", "没有 VmRSS 这一行")
        let free = z.freedAtExitKiB.map { Format.bytes($0 * 1024) } ?? "?"
        let status = z.exitStatus.map(String.init) ?? lang.t("not read", "未读到")
        let touched = Format.bytes(Double(ZombieResources.touchedBytes))
        return lang.t("""
            Exit freed the child's address space and files: it had made \(touched) resident and opened \(ZombieResources.openedFDs) files; alive, \
            /proc showed VmRSS \(rss), \(n(z.alive.mappings)) mappings and \(n(z.alive.openFDs)) open files; as a zombie, \(kept), \
            \(n(z.zombie.mappings)) mappings and \(n(z.zombie.openFDs)) open files. The system's MemFree changed by \(free) across the exit (a \
            count of the whole machine, which other tasks move at the same time). Until waitpid the zombie kept its /proc/<pid> entry (state `Z`, \
            \(n(z.zombie.statusFields)) of the \(n(z.alive.statusFields)) lines of its status file) and its exit status, \(status), read by \
            `waitid(WNOWAIT)` before `waitpid`; its kernel stack is not measured here.
            """,
                      """
                      `exit` 释放了子进程的地址空间和文件：它让 \(touched) 内存常驻、打开了 \(ZombieResources.openedFDs) \
                      个文件；活着时 /proc 显示 `VmRSS` \(rss)、\(n(z.alive.mappings)) 个映射、\(n(z.alive.openFDs)) 个打开的文\
                      件；成为僵尸进程后：\(kept)、\(n(z.zombie.mappings)) 个映射、\(n(z.zombie.openFDs)) 个打开的文件。退出\
                      前后整个系统的 `MemFree` 变化了 \(free)（这是全机的计数，其他任务同时也在改变它）。在 \
                      `waitpid` 之前，僵尸进程保留着它的 /proc/<pid> 目录（状态 `Z`，状态文件 \(n(z.alive.statusFields)) 行\
                      里还剩 \(n(z.zombie.statusFields)) 行）和退出码 \(status)（在 `waitpid` 之前用 `waitid(WNOWAIT)` 读到）；它\
                      的内核栈这里没有测量。
                      """)
    }

    static let claimText = Claims.Text("C6", title: ("A process lives from fork to exit and stays a zombie until its parent waits for it.",
                                    """
                                    进程从 fork 活到 exit，退出后一直是僵尸进程，直到父进程等待它。
                                    """), quote: """
                                    僵尸进程：进程通过 exit 系统调用退出之后……内核立即回收一部分资源并将该进程\
                                    标记为僵尸进程
                                    """,
                                         rule: ("""
                                             create harness: holds when a valid fork-exit-wait row is present (each op created, ended and reaped a \
                                             process) and the zombie check is valid and saw state Z in /proc before waitpid (valid: the zombie \
                                             showed no resident memory, mappings or open files, its exit status was read before waitpid, and it was \
                                             gone after); does not hold when the check saw no Z; otherwise inconclusive. Creation costs are shown \
                                             for scale.
                                             """,
                         """
                         `create` 测试：有一行有效的 `fork-exit-wait`（每次操作都创建、结束并回收了一个进程），而且\
                         僵尸检查有效（僵尸进程没有常驻内存、映射和打开的文件，`waitpid` 之前读到了退出码，之\
                         后它消失了）、在 waitpid 之前从 /proc 看到了状态 Z，则成立；检查没看到 Z 则不成立；其余无\
                         法判定。各种创建的代价列出来作参照。
                         """))

    public func judgeClaims(_ run: RunResult, lang: Language) -> [Claims.Claim] {
        var c = Self.claimText.claim(lang)
        // The sweep's rows with touched memory are a lesson of their own, not evidence for C6.
        let rows = run.records(harness: id).filter { $0.footprintBytes == 0 }
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
        guard let f = fork else { c.undecided(lang.t("no fork-exit-wait row in the create rows",
                                                     "`create` 的数据里没有 fork-exit-wait 行")); return [c] }
        c.values.append(.init("fork_exit_wait", Claims.med(f), unit: "ns"))
        if let w = Claims.invalidWhy([f], lang) { c.undecided(w); return [c] }
        guard let z = zombie, let fact = ZombieFact.from(z) else {
            c.undecided(lang.t("fork-exit-wait measured (\(humanTime(Claims.med(f))) per process) but the zombie check is not in the CSV",
                               "测了 fork-exit-wait（每个进程 \(humanTime(Claims.med(f)))），但 CSV 里没有僵尸检查"))
            return [c]
        }
        c.measured.append(lang.t("zombie check: state before waitpid `\(fact.before)`, after `\(fact.after)`",
                                 """
                                 僵尸检查：`waitpid` 之前的状态 `\(fact.before)`，之后\
                                 \(fact.reaped ? "已回收（/proc 里没有了）" : "的状态 `\(fact.after)`")
                                 """))
        c.values.append(.init("zombie_state_before_waitpid", fact.sawZombie ? 1 : 0, unit: "state"))
        c.values.append(.init("reaped_after_waitpid", fact.reaped ? 1 : 0, unit: "state"))
        c.deciding = ["zombie_state_before_waitpid", "reaped_after_waitpid"]
        let res = ZombieResources.from(z)
        if let res { Self.addZombieResources(res, to: &c, lang) }
        if fact.sawZombie && z.valid {
            c.verdict = .holds
            c.why = lang.t("""
                the child that had called `_exit` was seen in state `Z` (zombie) in /proc before its parent's `waitpid`, and \
                \(fact.reaped ? "was gone after it (reaped)" : "after it: state `\(fact.after)`"); the timed fork-exit-waitpid ops \
                (\(humanTime(Claims.med(f))) each) make the same calls, but their state was not looked at (the check is one separate child, the \
                `zombie` row).
                """,
                           """
                           调用了 `_exit` 的子进程，在父进程 `waitpid` 之前，在 /proc 里的状态是 `Z`（僵尸进程），\
                           \(fact.reaped ? "`waitpid` 之后就消失了（已回收）" : "`waitpid` 之后的状态是 `\(fact.after)`")；计时\
                           的 `fork-exit-wait` 操作（每次 \(humanTime(Claims.med(f)))）做同样的调用，但没有逐次查看状态（检\
                           查的是单独的一个子进程，即 `zombie` 行）。
                           """)
                + (res.map { lang.t(" ", "") + Self.resourcesSentence($0, lang) } ?? "")
            c.advice = res.map { Self.zombieAdvice($0, lang) }
                ?? lang.t("""
                    A child that has exited stays a zombie (state `Z` in /proc) until its parent calls `waitpid`, which reaps it: seen here, as the \
                    note says; what exit frees at once was not measured, so the note's \"内核立即回收一部分资源\" is not checked.
                    """,
                          """
                          已经退出的子进程一直是僵尸进程（/proc 里状态为 `Z`），直到父进程调用 `waitpid` 把它回收\
                          ：这里看到了这一点，与笔记一致；退出时释放了什么没有测，所以笔记里“内核立即回收\
                          一部分资源”这一句没有检验。
                          """)
        } else if !fact.sawZombie {
            c.verdict = .doesNotHold
            c.why = lang.t("the zombie check did not see state Z.", "僵尸检查没有看到 Z 状态。")
        } else {
            c.undecided(Claims.invalidWhy([z], lang) ?? "")
        }
        return [c]
    }
}

extension CreateHarness {
    /// C6's numbers of what exit freed and what the zombie kept (a missing /proc line counts 0).
    static func addZombieResources(_ z: ZombieResources, to c: inout Claims.Claim, _ lang: Language) {
        let values: [(String, Double?, String)] = [
            ("child_rss_kib_alive", z.alive.rssKiB, "KiB"), ("zombie_rss_kib", z.zombie.rssKiB ?? 0, "KiB"),
            ("child_mappings_alive", z.alive.mappings.map(Double.init), "count"), ("zombie_mappings", Double(z.zombie.mappings ?? 0), "count"),
            ("child_open_fds_alive", z.alive.openFDs.map(Double.init), "count"), ("zombie_open_fds", Double(z.zombie.openFDs ?? 0), "count"),
            ("memfree_change_kib_at_exit", z.freedAtExitKiB, "KiB"), ("zombie_exit_status", z.exitStatus.map(Double.init), "code")]
        for (name, v, unit) in values { if let v { c.values.append(.init(name, v, unit: unit)) } }
    }

    /// What the note should say, from the numbers.
    static func zombieAdvice(_ z: ZombieResources, _ lang: Language) -> String {
        let rss = z.alive.rssKiB.map { Format.bytes($0 * 1024) } ?? "?"
        return lang.t("""
            As the note says, measured here: at exit the kernel freed the child's address space (VmRSS \(rss) → none, \(z.alive.mappings ?? 0) \
            mappings → \(z.zombie.mappings ?? 0)) and its open files (\(z.alive.openFDs ?? 0) → \(z.zombie.openFDs ?? 0)); the zombie (state \
            `Z`) kept its /proc entry and its exit status until the parent's `waitpid` reaped it.
            """,
                      """
                      与笔记一致，实测如下：退出时内核立即释放了子进程的地址空间（`VmRSS` \(rss) → 无，映射 \
                      \(z.alive.mappings ?? 0) 个 → \(z.zombie.mappings ?? 0) 个）和它打开的文件（\(z.alive.openFDs ?? 0) 个 → \
                      \(z.zombie.openFDs ?? 0) 个）；僵尸进程（状态 `Z`）保留着 /proc 里的目录和退出码，直到父进程 \
                      `waitpid` 把它回收。
                      """)
    }

    /// A process or thread row whose baseline was created by another parent (the suite's own process in
    /// runs before the minimal parent) or exec'ed another program measures something else: not counted.
    public func compareExemption(_ c: Comparison.Case, baseline: [CaseKey: Record], current: [CaseKey: Record]) -> (en: String, zh: String)? {
        guard let b = baseline[c.key], let n = current[c.key], let nb = CreateParent.of(b), let nn = CreateParent.of(n) else { return nil }
        if nb != nn {
            return ("created by \(nn.rawValue) now, by \(nb.rawValue) in the baseline: a different parent process; not counted",
                    "现在由 `\(nn.rawValue)` 创建，基线里由 `\(nb.rawValue)` 创建：父进程不同，不计入")
        }
        if let pb = ExecProgram.of(b), let pn = ExecProgram.of(n), pb != pn {
            return ("exec'ed \(pn.rawValue) now, \(pb.rawValue) in the baseline: a different program; not counted",
                    "现在执行的是 `\(pn.rawValue)`，基线里是 `\(pb.rawValue)`：程序不同，不计入")
        }
        return nil
    }
}
