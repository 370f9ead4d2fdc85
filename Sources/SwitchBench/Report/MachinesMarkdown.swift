import Foundation

/// machines.md: several runs side by side, a column per run, each column headed by its machine's
/// fingerprint. Reads only `MachineColumn`'s typed values (Machines.swift).
public enum MachinesReport {
    public static let fileName = "machines.md"

    /// Column labels: one number per distinct fingerprint (M1, M2, …), a letter after it when a machine
    /// has several runs here (M2a, M2b). Host names play no part.
    public static func labels(_ columns: [MachineColumn]) -> [String] {
        var machines: [MachineFingerprint] = []
        for c in columns where !machines.contains(c.fingerprint) { machines.append(c.fingerprint) }
        var seen: [MachineFingerprint: Int] = [:]
        return columns.map { c in
            let n = machines.firstIndex(of: c.fingerprint)! + 1
            let runs = columns.filter { $0.fingerprint == c.fingerprint }.count
            let k = seen[c.fingerprint, default: 0]
            seen[c.fingerprint] = k + 1
            guard runs > 1 else { return "M\(n)" }
            let letter = k < 26 ? String(UnicodeScalar(UInt8(97 + k))) : "\(k + 1)."
            return "M\(n)\(letter)"
        }
    }

    public static func render(_ columns: [MachineColumn], lang: Language = .en) -> String {
        let zh = lang == .zh
        func L(_ en: String, _ chinese: String) -> String { zh ? chinese : en }
        let labels = labels(columns)
        func table(_ first: String, _ rows: [(String, [String])]) -> String {
            var t = MarkdownTable([first] + labels)
            for (name, cells) in rows { t.add([name] + cells) }
            return t.text
        }
        func code(_ s: String) -> String { s.isEmpty ? "?" : "`\(s.replacingOccurrences(of: "`", with: "'"))`" }
        let notMeasured = L("not measured", "未测量")
        let missing = "–"
        func cell<T>(_ c: MachineCell<T>, _ show: (T) -> String) -> String {
            switch c {
            case .notMeasured: return notMeasured
            case .missing: return missing
            case .value(let v): return show(v)
            }
        }
        func time(_ t: MachineTiming) -> String {
            var s = humanTime(t.median)
            if !t.valid { s += L(" (invalid)", "（无效）") } else if t.noisy { s += L(" (noisy)", "（波动大）") }
            return s
        }
        func times(_ x: Double) -> String { String(format: x >= 100 ? "%.0f×" : (x >= 10 ? "%.1f×" : "%.2f×"), x) }

        var out = "# " + L("Machines side by side", "多台机器对比") + "\n\n"
        out += L("""
            \(columns.count) run(s), one column each. A machine is told apart by its fingerprint (CPU model, online CPUs, \
            virtualization, kernel, PCID, THP), never by its host name; runs with the same fingerprint are taken as one machine and share a number (M2a, M2b). \
            `not measured`: the run did not include that harness; `–`: the harness ran but has no such row.
            """, """
            共 \(columns.count) 次运行，每次一列。区分机器只看指纹（处理器型号、在线处理器数、虚拟化、内核、PCID、THP），\
            不看主机名；指纹相同的运行视为同一台机器，共用一个编号（M2a、M2b）。“未测量”表示这次运行没有包含该测试，\
            “–”表示测试运行了但没有这一行。
            """) + "\n\n"

        // Fingerprint
        out += "## " + L("Fingerprint", "机器指纹") + "\n\n"
        out += table(L("machine", "机器"), [
            (L("CPU model", "处理器型号"), columns.map { code($0.fingerprint.cpuModel) }),
            (L("online CPUs", "在线处理器"), columns.map { c in
                c.fingerprint.onlineCount.map { "\($0) (\(code(c.fingerprint.onlineCPUs)))" } ?? code(c.fingerprint.onlineCPUs) }),
            (L("virtualization", "虚拟化"), columns.map { c in
                let v = c.fingerprint.virtualization
                return v.isEmpty ? "?" : (v == "none" ? L("none (bare metal)", "无（物理机）") : code(v)) }),
            (L("kernel", "内核"), columns.map { code($0.fingerprint.kernel) }),
            ("PCID", columns.map { $0.fingerprint.pcid ? L("on", "开") : L("off", "关") }),
            ("THP", columns.map { code($0.fingerprint.thp) }),
            (L("build", "构建"), columns.map { code($0.run.environment.build) }),
            (L("host name (not used)", "主机名（不用于区分）"), columns.map { code($0.run.environment.host) }),
            (L("run", "运行"), columns.map { code($0.run.runID) }),
            (L("read from", "来源"), columns.map { code($0.source) }),
        ]) + "\n\n"

        // Claims
        out += "## " + L("Claim verdicts", "论断结论") + "\n\n"
        out += L("Each claim of the course note judged from each run's rows by the rules of `report.md` (`switchbench report RUN`).",
                 "课程笔记中的每条论断，按 `report.md`（`switchbench report RUN`）中的规则，分别用每次运行的数据判定。") + "\n\n"
        let verdicts = columns.map(\.verdicts)
        func verdictText(_ v: Claims.Verdict) -> String {
            switch v {
            case .holds: return L("**holds**", "**成立**")
            case .doesNotHold: return L("**does not hold here**", "**在此不成立**")
            case .inconclusive: return L("inconclusive", "无法判定")
            case .notMeasured: return L("not measured", "未测量")
            }
        }
        let claimIDs = verdicts.first?.map(\.id) ?? []
        out += table(L("claim", "论断"), claimIDs.map { id in
            ("\(id) " + claimName(id, lang), verdicts.map { v in cell(v.first { $0.id == id }?.verdict ?? .notMeasured, verdictText) })
        }) + "\n\n"

        // Switch cost by kind
        out += "## " + L("Switch cost by kind", "各类切换的代价") + "\n\n"
        out += L("Same CPU, median per switch (system call: per call); thread and process rows are the 2-task rings. `(noisy)`: CV above 10 %.",
                 "同一处理器上，每次切换的中位数（系统调用为每次调用）；线程与进程两行是两个任务的环。“波动大”表示变异系数超过 10 %。") + "\n\n"
        out += table(L("kind", "切换类型"), MachineSwitchKind.allCases.map { kind in
            (switchName(kind, lang), columns.map { cell($0.switchCost(kind), time) })
        }) + "\n\n"

        // TLB reach
        out += "## " + L("TLB reach per level", "快表（TLB）各级覆盖范围") + "\n\n"
        out += L("""
            Where the translation cost of a pointer chase steps up (tlb harness): the reach in pages (and in 4 KiB-strided \
            bytes), then the extra time per access past it. Knees past the second level are page walks slowing as the page \
            tables leave the caches, not TLB levels.
            """, """
            指针追逐的地址转换代价在何处跳升（`tlb` 测试）：覆盖的页数（按 4 KiB 步长折算的字节数），以及超出后每次访问多花的时间。\
            第二级之后的拐点是页表离开缓存、查页表变慢，不是又一级快表。
            """) + "\n\n"
        let reaches = columns.map(\.tlbReach)
        let levels = reaches.map { $0.value?.levels ?? 0 }.max() ?? 0
        var tlbRows: [(String, [String])] = []
        for (huge, pageName) in [(false, L("4 KiB pages", "4 KiB 页")), (true, L("2 MiB pages", "2 MiB 大页"))] {
            for level in stride(from: 1, through: max(levels, 1), by: 1) {
                let present = reaches.contains { r in r.value.map { (huge ? $0.huge : $0.small)[level] != nil } ?? false }
                guard present || (level == 1 && levels == 0) else { continue }
                tlbRows.append(("\(pageName)\(L(": ", "："))\(levelName(level, lang))", reaches.map { r in
                    cell(r) { reach in
                        guard let l = (huge ? reach.huge : reach.small)[level] else { return missing }
                        var s = L("\(Int(l.pages)) pages (\(Format.bytes(l.bytes)))",
                                  "\(Int(l.pages)) 页（\(Format.bytes(l.bytes))）")
                        if let e = l.extraNs { s += L(", then +\(humanTime(e))", "，超出后 +\(humanTime(e))") }
                        return s
                    }
                }))
            }
        }
        tlbRows.append((L("**huge pages (2 MiB)**", "**大页（2 MiB）**"), columns.map { c in
            cell(c.hugePageVerdict) { hugeText($0, lang) }
        }))
        out += table(L("TLB level", "快表层级"), tlbRows) + "\n\n"

        // Creation costs
        out += "## " + L("Creation costs", "创建代价") + "\n\n"
        out += L("One op = one task created, run to its end and cleaned up (reaped, joined or destroyed), on one CPU.",
                 "一次操作 = 在同一处理器上创建一个任务、运行到结束并清理（回收僵尸进程、`join` 或销毁）。") + "\n\n"
        let creations = columns.map(\.creationCosts)
        var mechanisms: [String] = []
        for c in creations { for m in c.value?.map(\.mechanism) ?? [] where !mechanisms.contains(m) { mechanisms.append(m) } }
        if mechanisms.isEmpty {
            out += L("No run here measured creation costs.", "这里没有任何一次运行测量了创建代价。") + "\n\n"
        } else {
            out += table(L("kind", "类型"), mechanisms.map { m in
                (creationName(m, lang), creations.map { c in
                    cell(c) { rows in rows.first { $0.mechanism == m }.map { time($0.cost) } ?? missing }
                })
            }) + "\n\n"
        }
        return out
    }

    // MARK: names

    static func claimName(_ id: String, _ lang: Language) -> String {
        let names: [String: (String, String)] = [
            "C1": ("A thread switch is cheaper than a process switch", "线程切换比进程切换便宜（线程切换只需要第二步）"),
            "C2": ("A process switch flushes the TLB", "进程切换需要清空快表"),
            "C3": ("A coroutine switch stays in user mode and costs far less than a thread switch", "协程切换在用户态完成，代价比线程切换小很多"),
            "C4": ("A blocking call in one coroutine blocks every coroutine on its thread", "协程调用阻塞操作时，绑定在该线程上的协程都得不到调度"),
            "C5": ("TLB misses make memory access slow", "快表未命中时要查页表，访存变慢"),
            "C6": ("An exited process stays a zombie until its parent waits for it", "进程退出后成为僵尸进程，直到父进程 `waitpid` 回收"),
            "C7": ("A privilege switch (user ↔ kernel) has a cost of its own", "特权级切换（用户态 ↔ 内核态）本身就有代价"),
        ]
        guard let n = names[id] else { return "" }
        return lang == .zh ? n.1 : n.0
    }

    static func switchName(_ kind: MachineSwitchKind, _ lang: Language) -> String {
        let zh = lang == .zh
        switch kind {
        case .syscall: return zh ? "系统调用 `getppid`（只有特权级切换，不切换任务）" : "system call `getppid` (privilege switch only, no task switch)"
        case .coroutineAsm: return zh ? "协程（汇编切换）" : "coroutine (asm)"
        case .coroutineGenerator: return zh ? "协程（汇编，`resume/yield`）" : "coroutine (asm, resume/yield)"
        case .ucontext: return zh ? "协程（`ucontext`）" : "coroutine (`ucontext`)"
        case .swiftTask: return zh ? "Swift 任务（单线程执行器）" : "Swift task (one-thread executor)"
        case .swiftTaskYield: return zh ? "Swift 任务（`Task.yield`）" : "Swift task (`Task.yield`)"
        case .threadFutex: return zh ? "线程切换（`futex`）" : "thread switch (`futex`)"
        case .threadPipe: return zh ? "线程切换（`pipe`）" : "thread switch (`pipe`)"
        case .processFutex: return zh ? "进程切换（`futex`）" : "process switch (`futex`)"
        case .processPipe: return zh ? "进程切换（`pipe`）" : "process switch (`pipe`)"
        }
    }

    static func levelName(_ level: Int, _ lang: Language) -> String {
        let zh = lang == .zh
        switch level {
        case 1: return zh ? "一级快表（`L1 dTLB`）" : "L1 dTLB"
        case 2: return zh ? "二级快表（`STLB`）" : "L2 TLB (STLB)"
        default: return zh ? "第 \(level) 个拐点（查页表变慢）" : "knee \(level) (page walks slow)"
        }
    }

    static func creationName(_ mechanism: String, _ lang: Language) -> String {
        let zh = lang == .zh
        switch mechanism {
        case "fork-exit-wait": return zh ? "进程：`fork` + `_exit` + `waitpid`（回收僵尸进程）" : "process: `fork` + `_exit` + `waitpid`"
        case "fork-exec": return zh ? "进程：`fork` + `execve` + `waitpid`" : "process: `fork` + `execve` + `waitpid`"
        case "posix-spawn": return zh ? "进程：`posix_spawn` + `waitpid`" : "process: `posix_spawn` + `waitpid`"
        case "pthread": return zh ? "线程：`pthread_create` + `pthread_join`" : "thread: `pthread_create` + `pthread_join`"
        case "coroutine": return zh ? "协程：创建、首次切换、销毁" : "coroutine: create, first switch, destroy"
        case "swift-task": return zh ? "Swift 任务：创建、运行、等待结果" : "Swift task: create, run, await"
        default: return "`\(mechanism)`"
        }
    }

    static func hugeText(_ h: MachineHugePages, _ lang: Language) -> String {
        let zh = lang == .zh
        func x(_ v: Double) -> String {
            String(format: v >= 100 ? "%.0f" : (v >= 10 ? "%.1f" : "%.2f"), v) + (zh ? " 倍" : "×")
        }
        switch h.outcome {
        case .reachGain(let f):
            if h.lowerBound || f.isInfinite {
                let bound = h.ratio.map { zh ? "（至少 \(x($0))）" : " (≥ \(x($0)))" } ?? ""
                return zh ? "大页让一级快表的覆盖范围超出了扫描范围\(bound)" : "extend the first-level reach beyond the sweep\(bound)"
            }
            return zh ? "大页让一级快表的覆盖范围扩大了 \(x(f))" : "extend the first-level reach \(x(f))"
        case .noReachGain:
            let r = h.ratio.map { zh ? "（\(x($0))）" : " (\(x($0)))" } ?? ""
            return zh ? "覆盖范围没有扩大\(r)：宿主机可能仍以 4 KiB 页映射" : "no reach gain\(r): likely 4 KiB backing on the host"
        case .partialGain(let f):
            return zh ? "一级覆盖范围只扩大了 \(x(f))（可能部分仍是小页）" : "first-level reach only \(x(f)) (partly small pages?)"
        case .notGranted:
            return zh ? "没有得到大页" : "huge pages not granted"
        case .unknown:
            return zh ? "无结论：4 KiB 曲线没有一级拐点" : "no verdict: no first-level knee on the 4 KiB curve"
        }
    }
}
