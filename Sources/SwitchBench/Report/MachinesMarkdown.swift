import Foundation

/// machines.md: several runs side by side, a column per run, each column headed by its machine's
/// fingerprint. Reads only `MachineColumn`'s typed values (Machines.swift); words come from where the
/// single-run report takes them (claim titles, verdict words, switch kinds, TLB level names, `Format`).
public enum MachinesReport {
    public static let fileName = "machines.md"

    /// The machine of each column, numbered from 0 in order of first appearance: `Environment.sameMachine`,
    /// the rule compare uses (CPU model, online CPUs, virtualization), whatever the kernel, PCID or THP.
    /// A run joins a machine only when it is the same machine as every run already in it (an online CPU
    /// count that one run lacks matches any). Host names play no part.
    public static func machines(_ columns: [MachineColumn]) -> [Int] {
        var members: [[Int]] = []
        return columns.indices.map { i in
            let env = columns[i].run.environment
            if let m = members.firstIndex(where: { $0.allSatisfy { columns[$0].run.environment.sameMachine(as: env) } }) {
                members[m].append(i)
                return m
            }
            members.append([i])
            return members.count - 1
        }
    }

    /// Column labels: M1, M2, … per machine, a letter after it when a machine has several runs here (M2a, M2b).
    public static func labels(_ columns: [MachineColumn]) -> [String] {
        let machine = machines(columns)
        var seen: [Int: Int] = [:]
        return machine.map { m in
            let k = seen[m, default: 0]
            seen[m] = k + 1
            guard machine.filter({ $0 == m }).count > 1 else { return "M\(m + 1)" }
            let letter = k < 26 ? String(UnicodeScalar(UInt8(97 + k))) : "\(k + 1)."
            return "M\(m + 1)\(letter)"
        }
    }

    public static func render(_ columns: [MachineColumn], lang: Language = .en) -> String {
        let labels = labels(columns)
        func table(_ first: String, _ rows: [(String, [String])]) -> String {
            var t = MarkdownTable([first] + labels)
            for (name, cells) in rows { t.add([name] + cells) }
            return t.text
        }
        func code(_ s: String) -> String { s.isEmpty ? "?" : "`\(s.replacingOccurrences(of: "`", with: "'"))`" }
        let missing = "–"
        func cell<T>(_ c: MachineCell<T>, _ show: (T) -> String) -> String {
            switch c {
            case .notMeasured: return Claims.Verdict.notMeasured.text(lang)
            case .missing: return missing
            case .value(let v): return show(v)
            }
        }
        func time(_ t: MachineTiming) -> String {
            var s = humanTime(t.median)
            if !t.valid { s += lang.t(" (invalid)", "（无效）") } else if t.noisy { s += lang.t(" (noisy)", "（波动大）") }
            return s
        }

        var out = "# " + lang.t("Machines side by side", "多台机器对比") + "\n\n"
        // The example of a shared number names this page's own columns (M1a, M1b), or none when each
        // run is its own machine.
        let shared = labels.filter { $0.last?.isLetter ?? false }
        let example = shared.isEmpty ? "" : lang.t(" (\(shared.joined(separator: ", ")))", "（\(shared.joined(separator: "、"))）")
        out += lang.t("""
            \(columns.count) run(s), one column each. Runs are told apart by machine — CPU model, online CPUs, virtualization, the rule \
            `switchbench compare` uses — never by host name; runs of one machine share a number\(example) even when their kernel, PCID \
            or THP differ (the rows below show them). `not measured`: the run did not include that harness; `–`: the harness ran but has no such row; \
            `not recorded`: the run's results.csv predates that column.
            """, """
            共 \(columns.count) 次运行，每次一列。区分机器只看处理器型号、在线处理器数和虚拟化（与 `switchbench compare` 的规则相同），\
            不看主机名；同一台机器的几次运行共用一个编号\(example)，即使内核、PCID 或 THP 不同（见下表）。“未测量”表示那次运行没有包含该测试，\
            “–”表示测试运行了但没有这一行，“未记录”表示那次运行的 results.csv 早于这一列。
            """) + "\n\n"

        // Fingerprint
        out += "## " + lang.t("Fingerprint", "机器指纹") + "\n\n"
        let envs = columns.map(\.run.environment)
        out += table(lang.t("machine", "机器"), [
            (lang.t("CPU model", "处理器型号"), envs.map { code($0.cpuModel) }),
            (lang.t("online CPUs", "在线处理器数"), envs.map { $0.onlineCount == nil ? lang.t("not recorded", "未记录") : EnvironmentText.onlineCPUs($0, code: true) }),
            (lang.t("virtualization", "虚拟化"), envs.map { EnvironmentText.virtualization($0, lang: lang) }),
            (lang.t("kernel", "内核"), envs.map { code($0.kernel) }),
            ("PCID", envs.map { EnvironmentText.pcid($0, lang: lang) }),
            ("THP", envs.map { code($0.thp) }),
            (lang.t("build", "构建"), envs.map { code($0.build) }),
            (lang.t("host name (not used)", "主机名（不用于区分）"), envs.map { code($0.host) }),
            (lang.t("run", "运行"), columns.map { code($0.run.runID) }),
            (lang.t("read from", "来源"), columns.map { code($0.source) }),
        ]) + "\n\n"

        // Claims: every id any run's harnesses judge, in id order (C8, C9… appear when their harnesses register).
        out += "## " + lang.t("Claim verdicts", "论断结论") + "\n\n"
        out += lang.t("Each claim of the course note judged from each run's rows by the rules of `report.md` (`switchbench report RUN`); in brackets the numbers that decided the verdict (`deciding` in results.json).",
                      "课程笔记中的每条论断，按 `report.md`（`switchbench report RUN`）中的规则，分别用每次运行的数据判定；括号里是决定结论的数（results.json 中的 `deciding`）。") + "\n\n"
        let verdicts = columns.map(\.verdicts)
        var claimIDs: [String] = []
        for v in verdicts { for o in v where !claimIDs.contains(o.id) { claimIDs.append(o.id) } }
        claimIDs.sort { $0.localizedStandardCompare($1) == .orderedAscending }
        func verdictCell(_ o: Claims.Outcome?) -> String {
            guard let o else { return Claims.Verdict.notMeasured.text(lang) }
            let word = o.verdict.text(lang)
            var s = o.verdict == .holds || o.verdict == .doesNotHold ? "**\(word)**" : word
            let shown = o.deciding.isEmpty ? Array(o.values.prefix(1)) : o.deciding
            if !shown.isEmpty, o.verdict != .notMeasured {
                let n = shown.map { "`\($0.name)` " + Format.value($0.value, unit: $0.unit, lang: lang) }.joined(separator: lang.t(", ", "，"))
                s += lang.t(" (\(n))", "（\(n)）")
            }
            return s
        }
        out += table(lang.t("claim", "论断"), claimIDs.map { id in
            ("\(id) " + (Claims.title(id, lang: lang) ?? ""), verdicts.map { v in verdictCell(v.first { $0.id == id }) })
        }) + "\n\n"

        // Switch cost by kind
        out += "## " + lang.t("Switch cost by kind", "各类切换的代价") + "\n\n"
        out += lang.t("Same CPU, median per switch; the system call is per call: a privilege switch only, no task switch. Thread and process rows are 2-task rings. `(noisy)`: CV above 10 %.",
                      "同一处理器上，每次切换的中位数；系统调用按每次调用计，只有特权级切换，不切换任务。线程与进程几行是两个任务的环。“波动大”表示变异系数超过 10 %。") + "\n\n"
        out += table(lang.t("kind", "切换类型"), SwitchKind.allCases.map { kind in
            (kind.label(lang, markdown: true), columns.map { cell($0.switchCost(kind), time) })
        }) + "\n\n"

        // TLB reach
        out += "## " + lang.t("TLB reach per level", "快表（TLB）各级覆盖范围") + "\n\n"
        out += lang.t("""
            Where the translation cost of a pointer chase steps up (tlb harness): the reach in pages (and in 4 KiB-strided \
            bytes), then the extra time per access past it. Knees past the second level are page walks slowing as the page \
            tables leave the caches, not TLB levels.
            """, """
            指针追逐的地址转换代价在何处跳升（`tlb` 测试）：覆盖的页数（按 4 KiB 步长折算的字节数），以及超出后每次访问多花的时间。\
            第二级之后的拐点是页表离开缓存、查页表变慢，不是又一级快表。
            """) + "\n\n"
        let reaches = columns.map(\.tlbReach)
        let levels = reaches.map { $0.value?.levels ?? 0 }.max() ?? 0
        func levelName(_ level: Int) -> String {
            level <= 2 ? TLBHarness.levelName(level - 1, lang)
                : lang.t("knee \(level): ", "第 \(level) 个拐点：") + TLBHarness.levelName(level - 1, lang)
        }
        var tlbRows: [(String, [String])] = []
        for (huge, pageName) in [(false, lang.t("4 KiB pages", "4 KiB 页")), (true, lang.t("2 MiB pages", "2 MiB 大页"))] {
            for level in stride(from: 1, through: max(levels, 1), by: 1) {
                let present = reaches.contains { r in r.value.map { (huge ? $0.huge : $0.small)[level] != nil } ?? false }
                guard present || (level == 1 && levels == 0) else { continue }
                tlbRows.append(("\(pageName)\(lang.t(": ", "："))\(levelName(level))", reaches.map { r in
                    cell(r) { reach in
                        guard let l = (huge ? reach.huge : reach.small)[level] else { return missing }
                        var s = Format.value(l.pages, unit: "pages", lang: lang) + lang.t(" (\(Format.bytes(l.bytes)))", "（\(Format.bytes(l.bytes))）")
                        if let e = l.extraNs { s += lang.t(", then +\(humanTime(e))", "，超出后 +\(humanTime(e))") }
                        return s
                    }
                }))
            }
        }
        tlbRows.append((lang.t("**huge pages (2 MiB)**", "**大页（2 MiB）**"), columns.map { c in cell(c.hugePages) { hugeText($0, lang) } }))
        out += table(lang.t("TLB level", "快表层级"), tlbRows) + "\n\n"

        // Creation costs
        out += "## " + lang.t("Creation costs", "创建代价") + "\n\n"
        out += lang.t("One op = one task created, run to its end and cleaned up (reaped, joined or destroyed), on one CPU. The exec rows name the no-op program they ran: the static `switchbench-noop` (newer runs, from the minimal C parent `switchbench-proc`), or in older runs the switchbench binary (dynamic loading and Swift start-up, far dearer) or `/bin/true`, so compare them only when the program is the same. Older runs also forked the suite's own large process, which made fork dearer than the minimal parent's.",
                      "一次操作 = 在同一处理器上创建一个任务、运行到结束并清理（回收僵尸进程、`join` 或销毁）。`exec` 几行注明了执行的空程序：较新的运行是静态链接的 `switchbench-noop`（由最小的 C 父进程 `switchbench-proc` 启动），较早的运行是 `switchbench` 本身（动态链接加 Swift 运行时启动，贵得多）或 `/bin/true`，程序相同时才好比较。较早的运行还是从套件自己那个大进程 fork 的，比最小父进程的 fork 贵。") + "\n\n"
        let creations = columns.map(\.creationCosts)
        var mechanisms: [String] = []
        for c in creations { for m in c.value?.map(\.mechanism) ?? [] where !mechanisms.contains(m) { mechanisms.append(m) } }
        if mechanisms.isEmpty {
            out += lang.t("No run here measured creation costs.", "这里没有任何一次运行测量了创建代价。") + "\n\n"
        } else {
            var rows = mechanisms.map { m in
                (creationName(m, lang), creations.map { c in
                    cell(c) { rows in
                        rows.first { $0.mechanism == m }.map { r in time(r.cost) + (r.program.map { " (`\($0.rawValue)`)" } ?? "") } ?? missing
                    }
                })
            }
            rows.append((lang.t("zombie: state before → after `waitpid`", "僵尸进程：`waitpid` 之前 → 之后的状态"), columns.map { c in
                cell(c.zombie) { z in "`\(z.fact.before)` → `\(z.fact.after)`" + (z.valid ? "" : lang.t(" (invalid)", "（无效）")) }
            }))
            out += table(lang.t("kind", "类型"), rows) + "\n\n"
        }
        return out
    }

    // MARK: names

    static func creationName(_ mechanism: String, _ lang: Language) -> String {
        lang.name(mechanism, in: creationNames, else: "`\(mechanism)`")
    }
    static let creationNames: [String: (en: String, zh: String)] = [
        "fork-exit-wait": ("process: `fork` + `_exit` + `waitpid`", "进程：`fork` + `_exit` + `waitpid`（回收僵尸进程）"),
        "fork-exec": ("process: `fork` + `execve` + `waitpid`", "进程：`fork` + `execve` + `waitpid`"),
        "posix-spawn": ("process: `posix_spawn` + `waitpid`", "进程：`posix_spawn` + `waitpid`"),
        "pthread": ("thread: `pthread_create` + `pthread_join`", "线程：`pthread_create` + `pthread_join`"),
        "coroutine": ("coroutine: create, first switch, destroy", "协程：创建、首次切换、销毁"),
        "swift-task": ("Swift task: create, run, await", "Swift 任务：创建、运行、等待结果")]

    /// A short cell for the tlb harness's 2 MiB outcome (the long sentence is results.md's), with the grant.
    static func hugeText(_ h: MachineHugePages, _ lang: Language) -> String {
        var s: String
        switch h.outcome {
        case .reachGain(let f):
            if h.lowerBound || f.isInfinite {
                let bound = h.ratio.map { lang.t(" (≥ \(Format.times($0)))", "（至少 \(Format.times($0))）") } ?? ""
                s = lang.t("extend the first-level reach beyond the sweep", "大页让一级快表的覆盖范围超出了扫描范围") + bound
            } else {
                s = lang.t("extend the first-level reach \(Format.times(f))", "大页让一级快表的覆盖范围扩大到 \(Format.times(f))")
            }
        case .noReachGain:
            let r = h.ratio.map { lang.t(" (\(Format.times($0)))", "（\(Format.times($0))）") } ?? ""
            s = lang.t("no reach gain\(r): likely 4 KiB backing on the host", "覆盖范围没有扩大\(r)：宿主机可能仍以 4 KiB 页映射")
        case .partialGain(let f):
            s = lang.t("first-level reach only \(Format.times(f)) (partly small pages?)", "一级覆盖范围只扩大到 \(Format.times(f))（可能部分仍是小页）")
        case .notGranted:
            s = lang.t("not granted: the 2 MiB curve is a 4 KiB curve", "内核没有分配大页：2 MiB 曲线其实是 4 KiB 页的曲线")
        case .unknown where h.grant == .unverified:
            return lang.t("no verdict: whether huge pages were granted is not known (smaps unreadable)", "无结论：不知道内核是否分配了大页（读不到 smaps）")
        case .unknown:
            s = lang.t("no verdict: no first-level knee on the 4 KiB curve", "无结论：4 KiB 曲线没有一级拐点")
        }
        switch h.grant {
        case .partial? where h.outcome != .notGranted: s += lang.t(" (huge pages not fully granted)", "（大页没有全部分配到）")
        case .unverified?: s += lang.t(" (grant not verified: smaps unreadable)", "（无法确认内核是否分配了大页：读不到 smaps）")
        default: break
        }
        return s
    }
}
