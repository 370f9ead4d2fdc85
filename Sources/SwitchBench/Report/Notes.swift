import Foundation

/// notes.md: the page a teacher pastes beside the course note — the machine in one line, the class
/// table (coroutine switch, system call, thread switch, process switch), the note's two steps (the
/// harnesses' `notesSection` blocks), each claim with the note's words, its verdict, the number that
/// decides it and what the note should say on this machine, and the caveats that apply (VM, PCID,
/// mitigations in force). One run, or several side by side (a column per run). results.md and
/// report.md are the appendix (rules, every row, CIs).
public enum NotesReport {
    public static let fileName = "notes.md"

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
            // Debug beside release: say what the build changes (the Swift code, not the kernel's paths).
            let debug = zip(labels, runs).filter { $0.1.environment.build == "debug" }.map(\.0)
            if !debug.isEmpty, runs.contains(where: { $0.environment.build == "release" }) {
                out += lang.t("""
                    \(debug.joined(separator: ", ")) \(debug.count == 1 ? "is a debug build" : "are debug builds"): the suite's own Swift code is not \
                    optimized there, so the rows that time Swift code in user mode (Swift tasks, the event loop, the coroutine harness's drivers) can be \
                    slower than in a release build; the time spent in the kernel does not depend on the build.
                    """,
                               """
                               \(debug.joined(separator: "、")) 是 `debug` 构建：测试程序自己的 Swift 代码没有优化，所以在用户态跑 Swift 代码的行（Swift 任务、事件循环、协程测试的驱动代码）可能比 `release` 构建慢；\
                               花在内核里的时间与构建无关。
                               """) + "\n\n"
            }
        } else if let r = runs.first {
            out += lang.t("**Machine:** ", "**机器：**") + EnvironmentText.machine(r.environment, lang: lang) + build(r.environment)
                + lang.t("; run `\(r.runID)` at \(r.timestampUTC).", "；运行 `\(r.runID)`，时间 \(r.timestampUTC)。") + "\n\n"
        }
        out += (several
            ? lang.t("""
                Each time below is a median of its column's run unless its sentence names another statistic (a percentile, a ratio, a range); the runs side by \
                side are in the appendix `machines.md`, and each run's rules, rows and confidence intervals in the `report.md` that `switchbench report` \
                writes for that run alone.
                """,
                     "下面的时间除非句中另有说明（百分位数、比值、范围），都是该列那次运行的中位数；几次运行的并排对比见附录 `machines.md`，每次运行的判定规则、数据行和置信区间见对那次运行单独执行 `switchbench report` 写出的 `report.md`。")
            : lang.t("""
                Each time below is a median of this run unless its sentence names another statistic (a percentile, a ratio, a range); the rules, every row and \
                the confidence intervals are in the appendix: `results.md` (every measurement) and `report.md` (each claim's rule and evidence rows).
                """,
                     "下面的时间除非句中另有说明（百分位数、比值、范围），都是本次运行的中位数；判定规则、全部数据行和置信区间见附录：`results.md`（全部测量）和 `report.md`（每条说法的判定规则和依据的数据行）。")) + "\n\n"
        out += classSection(runs, labels, lang) + "\n\n"
        out += labelColumns(twoSteps(runs, labels, lang, presenters), runs, labels) + "\n\n"
        out += claimsSection(runs, labels, lang) + "\n\n"
        out += caveatsSection(runs, labels, lang)
        out += "\n\n" + ledgerSection(runs, labels, lang)
        return out
    }

    // MARK: sections

    static func classSection(_ runs: [RunResult], _ labels: [String], _ lang: Language) -> String {
        var out = "## " + lang.t("The four switches the note compares", "笔记比较的四种切换") + "\n\n"
        let ledgers = runs.map(Ledger.of)
        let tables = ledgers.map(\.classTable)
        func name(_ i: Int) -> String { Terms.t(Ledger.idea(Ledger.classTiers[i]).term, lang) + "¹" }
        func time(_ c: Ledger.ClassCell) -> String { humanTime(c.entry.value) + Format.invalidMark(c.entry.valid, lang) }
        func ratio(_ v: Double?) -> String { v.map(Format.times) ?? "–" }
        func count(_ c: Ledger.ClassCell) -> String { c.kernelSwitchesPerSwitch.map { $0 < 0.0005 ? "0" : String(format: "%.2f", $0) } ?? "–" }
        if runs.count == 1 {
            var t = MarkdownTable(lang == .en
                ? ["switch", "time", "÷ system call", "÷ coroutine switch", "context switches per switch (kernel's count)", "how the switch is made"]
                : ["切换", "耗时", "÷ 系统调用", "÷ 协程切换", "每次切换的上下文切换次数（内核统计）", "切换是怎样发生的"])
            for i in Ledger.classTiers.indices {
                guard let c = tables[0][i] else { t.add([name(i), Claims.Verdict.notMeasured.text(lang), "–", "–", "–", "–"]); continue }
                t.add([name(i), time(c), ratio(c.overSyscall), ratio(c.overCoroutine), count(c), c.kind.forced.map { lang.t($0.en, $0.zh) } ?? "–"])
            }
            out += t.text
        } else {
            var t = MarkdownTable([lang.t("switch", "切换")] + labels)
            for i in Ledger.classTiers.indices {
                t.add([name(i)] + tables.map { tab in
                    guard let c = tab[i] else { return Claims.Verdict.notMeasured.text(lang) }
                    return time(c) + lang.t(" (\(ratio(c.overSyscall)) a system call, \(ratio(c.overCoroutine)) a coroutine switch)",
                                            "（系统调用的 \(ratio(c.overSyscall))，协程切换的 \(ratio(c.overCoroutine))）")
                })
            }
            out += t.text
        }
        out += "\n\n¹ " + classFootnote(ledgers, labels, lang)
        for (i, l) in ledgers.enumerated() {
            if let w = threadNotCheaper(l, lang) { out += "\n\n" + (runs.count > 1 ? "**\(labels[i])**" + lang.t(": ", "：") : "") + w }
        }
        if let w = wakeUpLine(ledgers, labels, lang) { out += "\n\n" + w }
        return out
    }

    /// Where each cell of the class table comes from (the ledger's definitions), once per distinct source.
    static func classFootnote(_ ledgers: [Ledger], _ labels: [String], _ lang: Language) -> String {
        var lines: [String] = []
        for (i, l) in ledgers.enumerated() {
            let defs = l.classTable.compactMap { $0 }.map { c in
                Terms.t(c.entry.term, lang) + lang.t(": ", "：") + c.entry.row + lang.t(", ", "，") + lang.t(c.entry.statistic.en, c.entry.statistic.zh)
                    + (c.kind.paired ? lang.t(", timed in alternating pairs with its counterpart", "，与对方交替成对计时") : "")
            }
            let who = ledgers.count > 1 ? "**\(labels[i])**" + lang.t(": ", "：") : ""
            lines.append(who + defs.joined(separator: lang.t("; ", "；")) + lang.t(".", "。"))
            if let p = l[.processSwitch], p.record?.harness != "anatomy" {
                lines.append(lang.t("""
                    The paired `sched_yield()` switches (`anatomy`) were not measured \(ledgers.count > 1 ? "in that run" : "in this run"), so the thread and \
                    process switch are the futex ring's: each switch there includes a futex wake-up and a sleep besides the switch itself, and the two were \
                    timed one after the other, not in pairs.
                    """,
                                    """
                                    \(ledgers.count > 1 ? "那次运行" : "本次运行")没有测成对的 `sched_yield()` 切换（`anatomy`），所以线程切换和进程切换取自用 futex 传递令牌的环：那里的每次切换除了切换本身，\
                                    还包含一次 futex 唤醒和一次睡眠，而且两者是先后测的，不是成对测的。
                                    """))
            }
        }
        let head = lang.t("""
            Same CPU, median per switch (the system call per call: one trip into the kernel and back, no switch of task). Each number is defined once for the \
            whole page (the table at the end); where the rows come from:
            """,
                          "同一处理器上每次切换的中位数（系统调用按每次调用计：进出内核一次，不换任务）。每个数在整页只有一个定义（见文末的表）；数据行：")
        return head + lang.t(" ", "") + lines.joined(separator: lang.t(" ", ""))
    }

    /// The cross-CPU wake-up with its number, or nil when no run measured it.
    static func wakeUpLine(_ ledgers: [Ledger], _ labels: [String], _ lang: Language) -> String? {
        let found = ledgers.enumerated().compactMap { i, l in l[.crossCPUWakeUp].map { (i, $0) } }
        guard !found.isEmpty else { return nil }
        func row(_ e: Ledger.Entry) -> String { lang == .zh ? e.row.replacingOccurrences(of: ", `", with: "，`") : e.row }
        let distinct = Set(found.map { $0.1.row }).count > 1 || found.count == 1
        // Each value with its own row when the runs took it from different rows (futex here, pipe there).
        let values = found.map { i, e in (ledgers.count > 1 ? labels[i] + lang.t(" ", " ") : "") + humanTime(e.value)
            + (distinct ? lang.t(" (\(row(e)))", "（\(row(e))）") : "") + (e.valid ? "" : lang.t(", but the row is invalid: no finding", "，但这一行无效，不作结论")) }
        let rows = distinct ? "" : lang.t(" (\(row(found[0].1)))", "（\(row(found[0].1))）")
        return lang.t("""
            **Cross-CPU wake-up** (not a switch cost): two tasks on two CPUs handing a token over, so each hand-off wakes an idle CPU; one hand-off costs \
            \(values.joined(separator: "; "))\(rows).
            """,
                      "**跨处理器唤醒**（不是切换的代价）：两个任务各在一个处理器上传递令牌，每次交接都要唤醒一个空闲的处理器；一次交接要 \(values.joined(separator: "；"))\(rows)。")
    }

    /// The block of several runs with its columns headed by their labels (M1, M2a …) rather than by a
    /// machine line that two runs of one machine share.
    static func labelColumns(_ block: String, _ runs: [RunResult], _ labels: [String]) -> String {
        guard runs.count > 1 else { return block }
        var lines = block.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let h = lines.firstIndex(where: { $0.hasPrefix("| ") }) else { return block }
        for (l, r) in zip(labels, runs) {
            for lang in Language.allCases {
                let short = " " + EnvironmentText.short(r.environment, lang: lang) + " |"
                if let range = lines[h].range(of: short) { lines[h].replaceSubrange(range, with: " \(l) |"); break }
            }
        }
        return lines.joined(separator: "\n")
    }

    /// One sentence when a run's thread switch is not cheaper than its process switch: by how much, and
    /// whether that is within the 10 % the page counts as noise.
    static func threadNotCheaper(_ l: Ledger, _ lang: Language) -> String? {
        guard let t = l[.threadSwitch], let p = l[.processSwitch], t.valid, p.valid, t.value >= p.value else { return nil }
        let pct = Format.sig3((t.value - p.value) / p.value * 100)
        let within = t.value <= p.value * 1.1
        let how = t.paired ? lang.t("timed in alternating pairs", "交替成对计时") : lang.t("timed one after the other, not in pairs", "先后计时，不是成对计时")
        return lang.t("""
            Here the thread switch (\(humanTime(t.value))) is not cheaper than the process switch (\(humanTime(p.value))): \(pct) % dearer, \
            \(within ? "within the 10 % this page counts as noise" : "beyond the 10 % this page counts as noise"); the two rows were \(how).
            """,
                      """
                      这里线程切换（\(humanTime(t.value))）并不比进程切换（\(humanTime(p.value))）代价小：反而多 \(pct) %，\(within ? "在本页当作噪声的 10 % 以内" : "超出了本页当作噪声的 10 %")；\
                      这两行是\(how)的。
                      """)
    }

    /// What differs between two runs' machines: build, kernel, online CPUs, CPU model, PCID, THP.
    static func differences(_ a: Environment, _ b: Environment, _ lang: Language) -> [String] {
        func cpus(_ e: Environment) -> String { e.onlineCount.map(String.init) ?? lang.t("not recorded", "未记录") }
        var out: [String] = []
        if a.build != b.build { out.append(lang.t("build (\(a.build) against \(b.build))", "构建（\(a.build) 对 \(b.build)）")) }
        if a.kernel != b.kernel { out.append(lang.t("kernel (\(a.kernel) against \(b.kernel))", "内核（\(a.kernel) 对 \(b.kernel)）")) }
        if a.onlineCount != b.onlineCount {
            out.append(lang.t("online CPUs (\(cpus(a)) against \(cpus(b)))",
                              "在线处理器数（前者\(a.onlineCount.map { " \($0) 个" } ?? "未记录")，后者\(b.onlineCount.map { " \($0) 个" } ?? "未记录")）"))
        }
        if a.cpuModel != b.cpuModel { out.append(lang.t("CPU (`\(a.cpuModel)` against `\(b.cpuModel)`)", "处理器（`\(a.cpuModel)` 对 `\(b.cpuModel)`）")) }
        if a.pcid != b.pcid { out.append("PCID") }
        if a.thp != b.thp { out.append("THP") }
        return out
    }

    /// One sentence for a claim judged on several runs: where the verdicts differ, or where runs of one
    /// machine (same CPU model and virtualization) are more than 1.5× apart on the deciding number,
    /// naming what differs between the runs (or that nothing recorded does: noise or the host).
    static func disagreement(_ cs: [Claims.Claim?], _ runs: [RunResult], _ labels: [String], _ lang: Language) -> String? {
        let judged = zip(zip(cs, runs), labels).compactMap { p -> (Claims.Claim, RunResult, String)? in
            guard let c = p.0.0, c.verdict != .notMeasured else { return nil }
            return (c, p.0.1, p.1)
        }
        for (i, x) in judged.enumerated() {
            for y in judged[(i + 1)...] {
                let sameMachine = x.1.environment.cpuModel == y.1.environment.cpuModel && x.1.environment.virtualization == y.1.environment.virtualization
                let vx = x.0.decidingValues.first?.value, vy = y.0.decidingValues.first?.value
                let apart = sameMachine && vx != nil && vy != nil && min(vx!, vy!) > 0 && max(vx!, vy!) / min(vx!, vy!) > 1.5
                guard x.0.verdict != y.0.verdict || apart else { continue }
                let diff = differences(x.1.environment, y.1.environment, lang)
                let what = x.0.verdict != y.0.verdict
                    ? lang.t("\(x.2) and \(y.2) disagree (\(x.0.verdict.text(lang)), \(y.0.verdict.text(lang)))",
                             "\(x.2) 和 \(y.2) 的结论不同（\(x.0.verdict.text(lang))，\(y.0.verdict.text(lang))）")
                    : lang.t("""
                        \(x.2) and \(y.2) show one CPU model yet their deciding numbers are \(Format.sig3(max(vx!, vy!) / min(vx!, vy!))) times apart, more \
                        than the noise of one run (this page calls runs more than 1.5× apart different)
                        """,
                             "\(x.2) 和 \(y.2) 的处理器型号相同，判定依据却相差 \(Format.sig3(max(vx!, vy!) / min(vx!, vy!))) 倍，超出了一次运行的噪声（本页把相差 1.5 倍以上的运行视为不同）")
                let why = diff.isEmpty
                    ? lang.t("nothing recorded differs between the runs, so the difference is noise or the host's load", "两次运行记录下的机器情况没有不同，所以差别来自噪声或宿主机的负载")
                    : lang.t("what differs between the runs: ", "两次运行的不同之处：") + diff.joined(separator: lang.t(", ", "、"))
                return what + lang.t("; ", "；") + why + lang.t(".", "。")
            }
        }
        return nil
    }

    /// The page's ledger: each idea it names, the row it is read from, the statistic, paired or not,
    /// and its number (a column per run).
    static func ledgerSection(_ runs: [RunResult], _ labels: [String], _ lang: Language) -> String {
        let ledgers = runs.map(Ledger.of)
        var t = MarkdownTable([lang.t("idea", "概念"), lang.t("row", "数据行"), lang.t("statistic", "统计量")] + (runs.count > 1 ? labels : [lang.t("value", "数值")]))
        for idea in Ledger.Idea.allCases {
            let es = ledgers.map { $0[idea] }
            // One line per definition: runs that took an idea from different rows (the paired yield
            // switch here, the futex ring there) never share a line that names only one of them.
            func key(_ e: Ledger.Entry) -> String { e.row + "|" + e.statistic.en + "|\(e.paired)" }
            for e in es.compactMap({ $0 }).orderedUnique(by: key) {
                let row = lang == .zh ? e.row.replacingOccurrences(of: ", `", with: "，`") : e.row
                t.add([Terms.t(idea.term, lang), row, lang.t(e.statistic.en, e.statistic.zh) + (e.paired ? lang.t(", paired", "，成对") : "")]
                      + es.map { x in x.flatMap { key($0) == key(e) ? humanTime($0.value) + Format.invalidMark($0.valid, lang) : nil } ?? "–" })
            }
        }
        return "## " + lang.t("Where each number on this page comes from", "本页的数从哪里来") + "\n\n"
            + lang.t("""
                Each idea the page names is defined once; every table and sentence above takes its number from this table (other numbers are a claim's own, \
                defined in `report.md`).
                """,
                     "本页提到的每个概念只有一个定义；上面的表格和句子都从这张表取数（其余的数是各条说法自己的，定义见 `report.md`）。") + "\n\n" + t.text + "\n"
    }

    static func twoSteps(_ runs: [RunResult], _ labels: [String], _ lang: Language, _ presenters: [any Harness]) -> String {
        var out = "## " + lang.t("The note's two steps", "笔记说的两步") + "\n\n"
        out += "> 进程切换分两步：1、切换页表以使用新的地址空间；2、切换内核栈和硬件上下文。线程切换只需要第二步。\n\n"
        // An embedded plot that the run does not write (a harness draws none without its rows) is left
        // out rather than linked to a missing file.
        let written = Set(runs.count == 1 ? SVGPlots.files(for: runs[0], lang: lang).map(\.name) : [])
        let ordered = presenters.enumerated().sorted { ($0.element.notesOrder, $0.offset) < ($1.element.notesOrder, $1.offset) }.map(\.element)
        let blocks = ordered.compactMap { $0.notesSection(runs, lang: lang) }.map { block in
            block.split(separator: "\n", omittingEmptySubsequences: false).filter { line in
                guard line.hasPrefix("!["), let open = line.lastIndex(of: "("), line.hasSuffix(".svg)") else { return true }
                return written.contains(String(line[line.index(after: open)..<line.index(before: line.endIndex)]))
            }.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        }
        // Several runs: say which runs the block's columns come from (those with the `anatomy` rows).
        let measured = zip(labels, runs).filter { SwitchAnatomy.of($0.1) != nil }.map(\.0)
        if runs.count > 1, !blocks.isEmpty, !measured.isEmpty, measured.count < runs.count {
            out += lang.t("Measured on \(measured.joined(separator: ", ")) only (the other runs have no `anatomy` rows).",
                          "只有 \(measured.joined(separator: "、")) 测了这一项（其他运行没有 `anatomy` 数据行）。") + "\n\n"
        }
        out += blocks.isEmpty
            ? (runs.count > 1
               ? lang.t("Not measured in these runs (the `anatomy` harness measures each step on its own).", "这几次运行都没有测量（`anatomy` 测试单独测量每一步）。")
               : lang.t("Not measured in this run (the `anatomy` harness measures each step on its own).", "本次运行没有测量（`anatomy` 测试单独测量每一步）。"))
            : blocks.joined(separator: "\n\n")
        // The two timings of one getppid (the class table's system call, the table's privilege switch), said
        // where the second appears.
        if runs.count == 1, !blocks.isEmpty, let why = Ledger.of(runs[0]).whyTwoCalls(lang) { out += "\n\n" + why }
        return out
    }

    static func claimsSection(_ runs: [RunResult], _ labels: [String], _ lang: Language) -> String {
        let out = "## " + lang.t("The note's claims", "笔记的说法") + "\n\n"
        let judged = runs.map { Claims.evaluate($0, lang: lang) }
        let ids = judged.flatMap { $0.map(\.id) }.orderedUnique()
        var blocks: [String] = []
        for id in ids {
            let cs = judged.map { $0.first { $0.id == id } }
            guard let first = cs.compactMap({ $0 }).first else { continue }
            var b = "### \(id) " + first.title + "\n\n> " + first.quote + "\n\n"
            if runs.count == 1, let c = cs[0] {
                b += lang.t("**Verdict: \(c.verdict.text(lang))**", "**结论：\(c.verdict.text(lang))**")
                if c.verdict != .notMeasured, !c.decidingValues.isEmpty {
                    b += lang.t(" — decided by ", "。判定依据：") + deciding(c, lang)
                }
                b += lang.t(".", "。") + "\n\n"
                b += lang.t("**What the note should say here:** ", "**笔记在这台机器上应当这样说：**") + sentence(c, lang, several: false)
                    + (c.id == "C1" && c.verdict == .notMeasured ? unpairedC1(Ledger.of(runs[0]), lang) : "") + "\n"
                if let fix = c.corrected {
                    b += "\n" + lang.t("**The note's sentence, corrected (ready to paste):**", "**可以直接替换笔记原句的改写：**") + "\n\n> " + fix + "\n"
                }
            } else {
                var t = MarkdownTable([lang.t("machine", "机器"), lang.t("verdict", "结论"), lang.t("deciding number", "判定依据"),
                                       lang.t("what the note should say there", "笔记在那台机器上应当这样说")])
                for (l, c) in zip(labels, cs) {
                    guard let c else { t.add([l, Claims.Verdict.notMeasured.text(lang), "–", "–"]); continue }
                    t.add([l, "**\(c.verdict.text(lang))**", c.verdict == .notMeasured ? "–" : deciding(c, lang), sentence(c, lang, several: true)])
                }
                b += t.text + "\n"
                if let d = disagreement(cs, runs, labels, lang) { b += "\n" + d + "\n" }
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

    /// C1 not measured while the class table shows a thread and a process switch (the futex rings'):
    /// why those two numbers do not decide it.
    static func unpairedC1(_ l: Ledger, _ lang: Language) -> String {
        guard let t = l[.threadSwitch], let p = l[.processSwitch], t.record?.harness != "anatomy" else { return "" }
        return lang.t("""
             C1 is decided by the paired `sched_yield()` switches (`anatomy`); the class table's thread (\(humanTime(t.value))) and process switch \
            (\(humanTime(p.value))) come from the futex rings, timed one after the other, each with a wake-up and a sleep, so they do not decide it.
            """,
                      """
                      C1 由成对测量的 `sched_yield()` 切换（`anatomy`）判定；总表里的线程切换（\(humanTime(t.value))）和进程切换（\(humanTime(p.value))）取自用 futex 传递令牌的环，是先后测的，\
                      每次还包含一次唤醒和一次睡眠，所以不用来判定。
                      """)
    }

    /// "`name` = value" for each deciding number.
    static func deciding(_ c: Claims.Claim, _ lang: Language) -> String {
        c.decidingValues.map { "`\($0.name)` = " + Format.value($0.value, unit: $0.unit, lang: lang) }.joined(separator: lang.t(", ", "，"))
    }

    static func caveatsSection(_ runs: [RunResult], _ labels: [String], _ lang: Language) -> String {
        var out = "## " + lang.t("What applies to these numbers", "读这些数字时要注意") + "\n\n"
        for (i, r) in runs.enumerated() {
            let lines = caveats(r.environment, lang, ledger: Ledger.of(r))
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
    public static func caveats(_ e: Environment, _ lang: Language, ledger: Ledger? = nil) -> [String] {
        var out: [String] = []
        if e.virtualization.isEmpty {
            out.append(lang.t("Whether this is a virtual machine was not recorded.", "没有记录这是不是虚拟机。"))
        } else if e.virtualization == "none" {
            out.append(lang.t("Bare metal: no hypervisor between the kernel and the CPU.", "物理机：内核和处理器之间没有虚拟机管理程序。"))
        } else {
            out.append(virtualMachineCaveat(e, lang, wakeUp: ledger?[.crossCPUWakeUp]))
        }
        out.append(pcidCaveat(e, lang))
        return out + mitigationCaveats(e, lang)
    }

    /// A guest's caveat: the two-dimensional page walk (docs/sources.md), the wake-up with the run's own
    /// number (never a fixed "a few microseconds"), and the host's phases.
    static func virtualMachineCaveat(_ e: Environment, _ lang: Language, wakeUp: Ledger.Entry?) -> String {
        // Measured but invalid (busy neighbours): say so, with no number; absent: say it was not measured.
        let wake = wakeUp.map { w in
            !w.valid ? lang.t("; waking an idle virtual CPU goes through the hypervisor (the cross-CPU rows are invalid, so no number is quoted)",
                              "；唤醒空闲的虚拟处理器要经过虚拟机管理程序（跨处理器的数据行无效，这里不给数）") :
            lang.t("; waking an idle virtual CPU goes through the hypervisor: one cross-CPU hand-off took \(Words.magnitude(w.value, lang)) here",
                   "；唤醒空闲的虚拟处理器要经过虚拟机管理程序：这里一次跨处理器交接要\(Words.magnitude(w.value, lang))")
        } ?? lang.t("; waking an idle virtual CPU goes through the hypervisor (no cross-CPU row measured)",
                    "；唤醒空闲的虚拟处理器要经过虚拟机管理程序（没有测跨处理器的数据行）")
        return lang.t("""
            A virtual machine (`\(e.virtualization)`): with nested paging (Intel EPT, AMD NPT) a TLB miss is one two-dimensional page walk, in which every \
            reference to the guest's page tables is itself translated through the host's, up to 24 memory references with four levels on both sides against 4 \
            on bare metal (docs/sources.md)
            """,
                      """
                      这是虚拟机（`\(e.virtualization)`）：有嵌套分页（Intel 的 EPT、AMD 的 NPT）时，一次快表缺失是一次二维的页表遍历，客户机页表的每一次引用本身又要经宿主机的页表转换，两边都是四级页表时最多要访问内存 24 次，\
                      物理机上是 4 次（出处见 docs/sources.md）
                      """)
            + wake + lang.t("""
                ; and the host can slow the guest for seconds at a time, so a single number can be off: trust differences that hold within one run, and \
                compare runs by their verdicts and ratios rather than by one absolute time.
                """,
                            "；宿主机还可能让客户机连续数秒变慢，所以单个数字可能偏高：同一次运行里成立的差别才可信，比较几次运行时看结论和比值，而不是看某一个绝对时间。")
    }

    /// PCID as Linux uses it (arch/x86/mm/tlb.c: a few dynamic ASIDs per CPU, docs/sources.md).
    static func pcidCaveat(_ e: Environment, _ lang: Language) -> String {
        e.pcid
            ? lang.t("""
                PCID is on: Linux keeps the TLB entries of the last few address spaces used on each CPU (6 per CPU), each tagged with its own id, so switching \
                back to one of them need not flush the TLB; a switch to an address space not among them, or one whose page tables changed meanwhile, still \
                flushes (docs/sources.md). The note's \"进程切换需要清空快表\" is the picture without PCID.
                """,
                     """
                     PCID 已开启：Linux 在每个处理器上为最近用过的几个地址空间（每个处理器 6 个）保留快表表项，各带自己的标签，切回其中之一时可以不清空快表；切到不在其中的地址空间，或者页表在此期间改过的地址空间，仍要清空（出处见 docs/sources.md）。\
                     笔记里“进程切换需要清空快表”说的是没有 PCID 时的情形。
                     """)
            : lang.t("PCID is off: every process switch flushes the TLB's non-global entries, as the note says.",
                     "PCID 未开启：每次进程切换都会清掉快表里非全局的表项，与笔记所说一致。")
    }

    /// The mitigations actually in force (paid for on the kernel paths measured) and those the kernel
    /// reports as vulnerable (not mitigated: nothing is paid for them), from the fingerprint's
    /// /sys/devices/system/cpu/vulnerabilities entries.
    public static func mitigationCaveats(_ e: Environment, _ lang: Language) -> [String] {
        var out: [String] = []
        let entries = e.mitigations.map(splitMitigation).filter { !$0.state.isEmpty && !$0.state.hasPrefix("Not affected") }
        // A mitigation in prctl or seccomp mode is paid only by the tasks that ask for it
        // (Documentation/admin-guide/kernel-parameters.txt, docs/sources.md).
        let optIn = entries.filter { $0.state.hasPrefix("Mitigation") && ($0.state.contains("prctl") || $0.state.contains("seccomp")) }
        let inForce = entries.filter { $0.state.hasPrefix("Mitigation") && !optIn.map(\.name).contains($0.name) }
        let vulnerable = entries.filter { $0.state.hasPrefix("Vulnerable") }
        func list(_ es: [(name: String, state: String)]) -> String {
            es.map { "`\($0.name)`" + lang.t(" (`\($0.state)`)", "（`\($0.state)`）") }.joined(separator: lang.t("; ", "；"))
        }
        if e.mitigations.isEmpty {
            out.append(lang.t("The CPU vulnerability mitigations were not recorded.", "没有记录处理器漏洞的缓解措施。"))
        } else if inForce.isEmpty {
            out.append(lang.t("No CPU vulnerability mitigation is in force for every task: the system calls and switches here pay for none.",
                              "没有对所有任务生效的处理器漏洞缓解措施：这里的系统调用和切换不为任何缓解措施付出代价。"))
        } else {
            out.append(lang.t("""
                Mitigations in force for every task: each acts on some kernel paths (entry and exit, indirect branches, user copies, switches), so the times \
                measured here may include their cost, which no row isolates: \(list(inForce)).
                """,
                              "对所有任务生效的处理器漏洞缓解措施：每一项作用在某些内核路径上（进出内核、间接跳转、与用户空间之间的拷贝、切换），所以这里测的时间可能包含它们的代价，但没有哪一行单独测了它：\(list(inForce))。"))
        }
        if !optIn.isEmpty {
            out.append(lang.t("""
                In `prctl` or `seccomp` mode, paid only by tasks that ask for it through `prctl` or run under `seccomp` (docs/sources.md): \(list(optIn)).
                """,
                              "处于 `prctl` 或 `seccomp` 模式的缓解措施，只有通过 `prctl` 请求它、或在 `seccomp` 下运行的任务才付出代价（出处见 docs/sources.md）：\(list(optIn))。"))
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
