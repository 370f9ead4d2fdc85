import Foundation

/// notes.md: the page a teacher pastes beside the course note — the machine in one line, the class
/// table (coroutine switch, system call, thread switch, process switch), the note's two steps (the
/// harnesses' `notesSection` blocks), each claim with the note's words, its verdict, the number that
/// decides it and what the note should say on this machine, and the caveats that apply (VM, PCID,
/// mitigations in force). One run, or several side by side (a column per run). results.md and
/// report.md are the appendix (rules, every row, CIs).
public enum NotesReport {
    public static let fileName = "notes.md"

    /// The class table's rows: the rows the README's reference table uses for these kinds
    /// (scripts/reference-table.py reads the same from results.json's `class_table`).
    public struct ClassRow: Sendable {
        public var term: (en: String, zh: String)
        public var harness: String
        public var mechanism: String
        public var metric: String
        public var id: String { "\(harness)/\(mechanism)" }
    }

    public static let classRows: [ClassRow] = [
        ClassRow(term: Terms.coroutineSwitch, harness: "coroutine", mechanism: "asm", metric: "per_switch"),
        ClassRow(term: Terms.systemCall, harness: "syscall", mechanism: "getppid", metric: "per_call"),
        ClassRow(term: Terms.threadSwitch, harness: "thread", mechanism: "futex", metric: "per_switch"),
        ClassRow(term: Terms.processSwitch, harness: "process", mechanism: "futex", metric: "per_switch"),
    ]

    /// One cell of the class table: the median and its two ratios (nil where a row is missing).
    public struct ClassCell: Sendable, Equatable {
        public var median: Double
        public var overSyscall: Double?
        public var overCoroutine: Double?
        public var valid: Bool
    }

    /// The class table of one run, in `classRows` order (nil: the row was not measured).
    public static func classTable(_ run: RunResult) -> [ClassCell?] {
        let meds = classRows.map { r in Claims.row(run, r.harness, r.mechanism, r.metric) }
        let coroutine = meds[0]?.stats?.median, syscall = meds[1]?.stats?.median
        return meds.map { r in
            guard let r, let m = r.stats?.median else { return nil }
            return ClassCell(median: m, overSyscall: syscall.flatMap { $0 > 0 ? m / $0 : nil },
                             overCoroutine: coroutine.flatMap { $0 > 0 ? m / $0 : nil }, valid: r.valid)
        }
    }

    public static func render(_ run: RunResult, lang: Language = .en) -> String { render([run], labels: [], lang: lang) }

    /// One run (`labels` empty) or several (a column per run, headed by its label: M1, M2a …).
    public static func render(_ runs: [RunResult], labels: [String], lang: Language = .en,
                              presenters: [any Harness] = Registry.presenters) -> String {
        let several = runs.count > 1
        let labels = several ? (labels.count == runs.count ? labels : runs.indices.map { "M\($0 + 1)" }) : [""]
        var out = "# " + lang.t("The course note's claims tested on this machine", "课程笔记中的说法在本机上的检验") + "\n\n"
        // The build each run was made with (a debug build's coroutine and Swift-task rows are slower).
        func build(_ e: Environment) -> String {
            e.build.isEmpty ? "" : lang.t(", `\(e.build)` build", "，`\(e.build)` 构建")
        }
        if several {
            out = "# " + lang.t("The course note's claims tested on these machines", "课程笔记中的说法在这几台机器上的检验") + "\n\n"
            for (l, r) in zip(labels, runs) {
                out += "- **\(l)**" + lang.t(": ", "：") + EnvironmentText.machine(r.environment, lang: lang) + build(r.environment)
                    + lang.t(" (run `\(r.runID)`)", "（运行 `\(r.runID)`）") + "\n"
            }
            out += "\n"
        } else if let r = runs.first {
            out += lang.t("**Machine:** ", "**机器：**") + EnvironmentText.machine(r.environment, lang: lang) + build(r.environment)
                + lang.t("; run `\(r.runID)` at \(r.timestampUTC).", "；运行 `\(r.runID)`，时间 \(r.timestampUTC)。") + "\n\n"
        }
        out += (several
            ? lang.t("Each number below is a median of its column's run; the runs side by side are in the appendix `machines.md`, and each run's rules, rows and confidence intervals in the `report.md` that `switchbench report` writes for that run alone.",
                     "下面每个数都是该列那次运行的中位数；几次运行的并排对比见附录 `machines.md`，每次运行的判定规则、数据行和置信区间见对那次运行单独执行 `switchbench report` 写出的 `report.md`。")
            : lang.t("Each number below is a median of this run; the rules, every row and the confidence intervals are in the appendix: `results.md` (every measurement) and `report.md` (each claim's rule and evidence rows).",
                     "下面每个数都是本次运行的中位数；判定规则、全部数据行和置信区间见附录：`results.md`（全部测量）和 `report.md`（每条说法的判定规则和依据的数据行）。")) + "\n\n"
        out += classSection(runs, labels, lang) + "\n\n"
        out += twoSteps(runs, lang, presenters) + "\n\n"
        out += claimsSection(runs, labels, lang) + "\n\n"
        out += caveatsSection(runs, labels, lang)
        return out
    }

    // MARK: sections

    static func classSection(_ runs: [RunResult], _ labels: [String], _ lang: Language) -> String {
        var out = "## " + lang.t("The four switches the note compares", "笔记比较的四种切换") + "\n\n"
        let tables = runs.map(classTable)
        func name(_ i: Int) -> String { Terms.t(classRows[i].term, lang) + "¹" }
        func time(_ c: ClassCell) -> String { humanTime(c.median) + (c.valid ? "" : lang.t(" (invalid)", "（无效）")) }
        func ratio(_ v: Double?) -> String { v.map(Format.times) ?? "–" }
        if runs.count == 1 {
            var t = MarkdownTable(lang == .en
                ? ["switch", "time", "÷ system call", "÷ coroutine switch"]
                : ["切换", "耗时", "÷ 系统调用", "÷ 协程切换"])
            for i in classRows.indices {
                guard let c = tables[0][i] else { t.add([name(i), Claims.Verdict.notMeasured.text(lang), "–", "–"]); continue }
                t.add([name(i), time(c), ratio(c.overSyscall), ratio(c.overCoroutine)])
            }
            out += t.text
        } else {
            var t = MarkdownTable([lang.t("switch", "切换")] + labels)
            for i in classRows.indices {
                t.add([name(i)] + tables.map { tab in
                    guard let c = tab[i] else { return Claims.Verdict.notMeasured.text(lang) }
                    return time(c) + lang.t(" (\(ratio(c.overSyscall)) a system call, \(ratio(c.overCoroutine)) a coroutine switch)",
                                            "（系统调用的 \(ratio(c.overSyscall))，协程切换的 \(ratio(c.overCoroutine))）")
                })
            }
            out += t.text
        }
        let ids = classRows.map { "`\($0.harness)/\($0.mechanism)`" + lang.t(" (`\($0.metric)`)", "（`\($0.metric)`）") }
        out += "\n\n¹ " + lang.t(
            "Same CPU, median per switch (the system call per call: one trip into the kernel and back, no switch of task). Rows, as in the README's reference table: coroutine switch \(ids[0]); system call \(ids[1]); thread and process switch \(ids[2]) and \(ids[3]), a ring of 2 tasks handing a token over a futex, so each includes a futex wake and wait besides the switch itself.",
            "同一处理器上每次切换的中位数（系统调用按每次调用计：进出内核一次，不换任务）。所用数据行与 README 的参考表相同：协程切换 \(ids[0])；系统调用 \(ids[1])；线程切换和进程切换 \(ids[2])与 \(ids[3])，两个任务用 futex 传递令牌，所以除了切换本身，每次还包含一次 futex 唤醒和等待。")
        return out
    }

    static func twoSteps(_ runs: [RunResult], _ lang: Language, _ presenters: [any Harness]) -> String {
        var out = "## " + lang.t("The note's two steps", "笔记说的两步") + "\n\n"
        out += "> 进程切换分两步：1、切换页表以使用新的地址空间；2、切换内核栈和硬件上下文。线程切换只需要第二步。\n\n"
        // An embedded plot that the run does not write (a harness draws none without its rows) is left
        // out rather than linked to a missing file.
        let written = Set(runs.count == 1 ? SVGPlots.files(for: runs[0], lang: lang).map(\.name) : [])
        let blocks = presenters.compactMap { $0.notesSection(runs, lang: lang) }.map { block in
            block.split(separator: "\n", omittingEmptySubsequences: false).filter { line in
                guard line.hasPrefix("!["), let open = line.lastIndex(of: "("), line.hasSuffix(".svg)") else { return true }
                return written.contains(String(line[line.index(after: open)..<line.index(before: line.endIndex)]))
            }.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        }
        out += blocks.isEmpty
            ? (runs.count > 1
               ? lang.t("Not measured in these runs (the `anatomy` harness measures each step on its own).", "这几次运行都没有测量（`anatomy` 测试单独测量每一步）。")
               : lang.t("Not measured in this run (the `anatomy` harness measures each step on its own).", "本次运行没有测量（`anatomy` 测试单独测量每一步）。"))
            : blocks.joined(separator: "\n\n")
        return out
    }

    static func claimsSection(_ runs: [RunResult], _ labels: [String], _ lang: Language) -> String {
        let out = "## " + lang.t("The note's claims", "笔记的说法") + "\n\n"
        let judged = runs.map { Claims.evaluate($0, lang: lang) }
        var ids: [String] = []
        for j in judged { for c in j where !ids.contains(c.id) { ids.append(c.id) } }
        var blocks: [String] = []
        for id in ids {
            let cs = judged.map { $0.first { $0.id == id } }
            guard let first = cs.compactMap({ $0 }).first else { continue }
            var b = "### \(id) " + first.title + "\n\n> " + first.quote + "\n\n"
            if runs.count == 1, let c = cs[0] {
                b += lang.t("**Verdict: \(c.verdict.text(lang))**", "**结论：\(c.verdict.text(lang))**")
                if c.verdict != .notMeasured, !c.decidingValues.isEmpty {
                    b += lang.t(" — decided by ", "。判定所依据的数：") + deciding(c, lang)
                }
                b += lang.t(".", "。") + "\n\n"
                b += lang.t("**What the note should say here:** ", "**笔记在这台机器上应当这样说：**") + sentence(c, lang, several: false) + "\n"
            } else {
                var t = MarkdownTable([lang.t("machine", "机器"), lang.t("verdict", "结论"), lang.t("deciding number", "判定所依据的数"), lang.t("what the note should say there", "笔记在那台机器上应当这样说")])
                for (l, c) in zip(labels, cs) {
                    guard let c else { t.add([l, Claims.Verdict.notMeasured.text(lang), "–", "–"]); continue }
                    t.add([l, "**\(c.verdict.text(lang))**", c.verdict == .notMeasured ? "–" : deciding(c, lang), sentence(c, lang, several: true)])
                }
                b += t.text + "\n"
            }
            blocks.append(b)
        }
        return out + blocks.joined(separator: "\n")
    }

    /// The advice, or the verdict's reason; a sentence that ends with its full stop.
    static func sentence(_ c: Claims.Claim, _ lang: Language, several: Bool = false) -> String {
        if c.verdict == .notMeasured {
            return several ? lang.t("Not measured in that run.", "那次运行没有测量。") : lang.t("Not measured in this run.", "本次运行没有测量。")
        }
        var s = c.advice ?? c.why
        if let first = s.first, lang == .en, first.isLowercase { s = first.uppercased() + s.dropFirst() }
        if !(s.hasSuffix(".") || s.hasSuffix("。")) { s += lang.t(".", "。") }
        return s
    }

    /// "`name` = value" for each deciding number.
    static func deciding(_ c: Claims.Claim, _ lang: Language) -> String {
        c.decidingValues.map { "`\($0.name)` = " + Format.value($0.value, unit: $0.unit, lang: lang) }.joined(separator: lang.t(", ", "，"))
    }

    static func caveatsSection(_ runs: [RunResult], _ labels: [String], _ lang: Language) -> String {
        var out = "## " + lang.t("What applies to these numbers", "读这些数字时要注意") + "\n\n"
        for (i, r) in runs.enumerated() {
            let lines = caveats(r.environment, lang)
            if runs.count > 1 { out += "**\(labels[i])**\n\n" }
            out += lines.map { "- " + $0 }.joined(separator: "\n") + "\n\n"
        }
        return out
    }

    /// One mitigation entry: its name and state ("spectre_v2", "Mitigation: Retpolines").
    static func splitMitigation(_ entry: String) -> (name: String, state: String) {
        let parts = entry.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        return (parts[0], parts.count > 1 ? parts[1] : "")
    }

    /// The caveats of one machine: virtualization, PCID, the mitigations actually in force and those
    /// the kernel reports as vulnerable (not mitigated: nothing is paid for them).
    public static func caveats(_ e: Environment, _ lang: Language) -> [String] {
        var out: [String] = []
        if e.virtualization.isEmpty {
            out.append(lang.t("Whether this is a virtual machine was not recorded.", "没有记录这是不是虚拟机。"))
        } else if e.virtualization == "none" {
            out.append(lang.t("Bare metal: no hypervisor between the kernel and the CPU.", "物理机：内核和处理器之间没有虚拟机管理程序。"))
        } else {
            out.append(lang.t(
                "A virtual machine (`\(e.virtualization)`): address translation has two levels (the guest's page tables, then the host's), so a TLB miss walks both and costs more than on bare metal; waking an idle virtual CPU goes through the hypervisor, so cross-CPU wake-ups cost microseconds; and the host can slow the guest for seconds at a time, so a single number can be off: trust differences that hold within one run, and compare runs by their verdicts and ratios rather than by one absolute time.",
                "这是虚拟机（`\(e.virtualization)`）：地址转换有两级（先查客户机的页表，再查宿主机的页表），快表缺失时两级都要查，比物理机更贵；唤醒一个空闲的虚拟处理器要经过虚拟机管理程序，所以跨处理器唤醒要花几微秒；宿主机还可能让客户机连续数秒变慢，所以单个数字可能偏高：同一次运行里成立的差别才可信，比较几次运行时看结论和比值，而不是看某一个绝对时间。"))
        }
        out.append(e.pcid
            ? lang.t("PCID is on: Linux tags each TLB entry with its address space, so a process switch does not flush the TLB; the note's \"进程切换需要清空快表\" is the picture without PCID.",
                     "PCID 已开启：Linux 给每个快表表项标上它所属的地址空间，进程切换时不清空快表；笔记里“进程切换需要清空快表”说的是没有 PCID 时的情形。")
            : lang.t("PCID is off: every process switch flushes the TLB's non-global entries, as the note says.",
                     "PCID 未开启：每次进程切换都会清掉快表里非全局的表项，与笔记所说一致。"))
        return out + mitigationCaveats(e, lang)
    }

    /// The mitigations actually in force (paid for on the kernel paths measured) and those the kernel
    /// reports as vulnerable (not mitigated: nothing is paid for them), from the fingerprint's
    /// /sys/devices/system/cpu/vulnerabilities entries.
    public static func mitigationCaveats(_ e: Environment, _ lang: Language) -> [String] {
        var out: [String] = []
        let entries = e.mitigations.map(splitMitigation).filter { !$0.state.isEmpty && !$0.state.hasPrefix("Not affected") }
        let inForce = entries.filter { $0.state.hasPrefix("Mitigation") }
        let vulnerable = entries.filter { $0.state.hasPrefix("Vulnerable") }
        if e.mitigations.isEmpty {
            out.append(lang.t("The CPU vulnerability mitigations were not recorded.", "没有记录处理器漏洞的缓解措施。"))
        } else if inForce.isEmpty {
            out.append(lang.t("No CPU vulnerability mitigation is in force: the system calls and switches here pay for none.",
                              "没有生效的处理器漏洞缓解措施：这里的系统调用和切换不为任何缓解措施付出代价。"))
        } else {
            let list = inForce.map { "`\($0.name)`" + lang.t(" (`\($0.state)`)", "（`\($0.state)`）") }.joined(separator: lang.t("; ", "；"))
            out.append(lang.t("Mitigations in force, paid for on the kernel paths measured here (entry and exit, indirect branches, switches): \(list).",
                              "生效的处理器漏洞缓解措施，这里测的内核路径（进出内核、间接跳转、切换）都包含它们的代价：\(list)。"))
        }
        if !vulnerable.isEmpty {
            let list = vulnerable.map { "`\($0.name)`" }.joined(separator: lang.t(", ", "、"))
            out.append(lang.t("Reported as vulnerable (not mitigated, so nothing is paid for them here): \(list).",
                              "内核报告为有漏洞、未缓解的（所以这里不为它们付出代价）：\(list)。"))
        }
        return out
    }
}

/// notes.md of one run.
public struct NotesExporter: Exporter {
    public init() {}
    public func files(_ r: RenderedRun, lang: Language) -> [OutputFile] {
        [OutputFile(name: NotesReport.fileName, contents: NotesReport.render(r.run, lang: lang))]
    }
}
