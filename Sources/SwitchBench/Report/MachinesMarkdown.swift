import Foundation

/// machines.md: several runs side by side, a column per run, each column headed by its machine's
/// fingerprint. Reads only `MachineColumn`'s typed values (Machines.swift); words come from where the
/// single-run report takes them (claim titles, verdict words, switch kinds, TLB level names, `Format`).
public enum MachinesReport {
    public static let fileName = "machines.md"

    /// The machine of each column, numbered from 0 in order of first appearance: `Environment.sameMachine`,
    /// the rule compare uses (`Environment.machineColumns`: CPU model, vendor, family, model, stepping,
    /// caches, online CPUs, virtualization), whatever the kernel, PCID or THP. A run joins a machine only
    /// when it is the same machine as every run already in it; a fact one run recorded and the other did
    /// not is unknown, not the same, so such runs get their own numbers. Host names play no part.
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
        let page = MachinesPage(columns: columns, labels: labels, lang: lang)
        func table(_ first: String, _ rows: [(String, [String])]) -> String { page.table(first, rows) }
        func code(_ s: String) -> String { s.isEmpty ? "?" : "`\(s.replacingOccurrences(of: "`", with: "'"))`" }
        func cell<T>(_ c: MachineCell<T>, _ show: (T) -> String) -> String { page.cell(c, show) }
        func time(_ t: MachineTiming) -> String { page.time(t) }

        var out = "# " + lang.t("Machines side by side", "多台机器对比") + "\n\n"
        // The example of a shared number names this page's own columns (M1a, M1b), or none when each
        // run is its own machine.
        let shared = labels.filter { $0.last?.isLetter ?? false }
        let example = shared.isEmpty ? "" : lang.t(" (\(shared.joined(separator: ", ")))", "（\(shared.joined(separator: "、"))）")
        out += lang.t("""
            \(columns.count == 1 ? "One run" : "\(columns.count) runs"), one column each. Runs are told apart by machine — CPU model, vendor, family, model, \
            stepping, caches, online CPUs, \
            virtualization, the rule \
            `switchbench compare` uses — never by host name; runs of one machine share a number\(example) even when their kernel, PCID \
            or THP differ (the rows below show them). `not measured`: the run did not include that harness; `–`: the harness ran but has no such row; \
            `not recorded`: the run's results.csv predates that column.
            """, """
            共 \(columns.count) 次运行，每次一列。区分机器只看处理器型号、厂商、系列、型号编号、步进、缓存、在线处理器数和虚拟化（与 `switchbench compare` \
            的规则相同；一次运行记录了而另一次没有记录的事实算作未知，不算相同），不看主机名；同一台机器的几次运行共用一个编号\(example)，即使内核、PCID 或 THP 不同（见下表）。“未测量”表示那次运行没有包含该测试，\
            “–”表示测试运行了但没有这一行，“未记录”表示那次运行的 results.csv 早于这一列。
            """) + "\n\n"

        out += fingerprintSection(columns, page, lang)
        out += verdictSection(columns, labels, page, lang)

        // Switch cost by kind
        out += "## " + lang.t("Switch cost by kind", "各类切换的代价") + "\n\n"
        out += lang.t("""
            Same CPU, median per switch; the system call is per call: a privilege switch only, no task switch. Thread and process rows are 2-task rings. \
            `(noisy)`: CV above 10 %.
            """,
                      "同一处理器上，每次切换的中位数；系统调用按每次调用计，只有特权级切换，不切换任务。线程与进程几行是两个任务的环。“波动大”表示变异系数超过 10 %。") + "\n\n"
        out += table(lang.t("kind", "切换类型"), SwitchKind.allCases.map { kind in
            (kind.label(lang, markdown: true), columns.map { cell($0.switchCost(kind), time) })
        }) + "\n\n"

        // What each harness adds (the tlb harness its reach per level, create its creation costs, …).
        for h in Registry.presenters { if let section = h.machinesSection(page) { out += section } }
        return out
    }
}

extension MachinesReport {
    /// Where runs disagree on a claim, or runs of one CPU model are far apart: one sentence each, naming
    /// what differs between them (the same sentence as notes.md's); empty when none.
    static func disagreements(_ columns: [MachineColumn], _ labels: [String], _ ids: [String], _ lang: Language) -> String {
        let judged = columns.map { Claims.evaluate($0.run, lang: lang) }
        let runs = columns.map(\.run)
        let lines = ids.compactMap { id in
            NotesReport.disagreement(judged.map { $0.first { $0.id == id } }, runs, labels, lang).map { "- \(id)" + lang.t(": ", "：") + $0 }
        }
        return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n\n"
    }
}

/// What a harness's block of machines.md is made with (`Harness.machinesSection`): the columns, their
/// labels, and the page's one way to draw a table and a cell.
public struct MachinesPage {
    public let columns: [MachineColumn]
    public let labels: [String]
    public let lang: Language
    /// The cell of a harness that ran but has no such row.
    public let missing = "–"

    /// A table: a first column named `first`, then a column per run.
    public func table(_ first: String, _ rows: [(String, [String])]) -> String {
        var t = MarkdownTable([first] + labels)
        for (name, cells) in rows { t.add([name] + cells) }
        return t.text
    }

    /// A cell: "not measured", `missing`, or the value shown.
    public func cell<T>(_ c: MachineCell<T>, _ show: (T) -> String) -> String {
        switch c {
        case .notMeasured: return Claims.Verdict.notMeasured.text(lang)
        case .missing: return missing
        case .value(let v): return show(v)
        }
    }

    /// A timed row's median, with "(invalid)" or "(noisy)".
    public func time(_ t: MachineTiming) -> String {
        var s = humanTime(t.median)
        if !t.valid { s += Format.invalidMark(false, lang) } else if t.noisy { s += lang.t(" (noisy)", "（波动大）") }
        return s
    }

}

extension MachinesReport {
    /// The machine facts of every run: what tells machines apart, and what does not (host name).
    static func fingerprintSection(_ columns: [MachineColumn], _ page: MachinesPage, _ lang: Language) -> String {
        func table(_ first: String, _ rows: [(String, [String])]) -> String { page.table(first, rows) }
        func code(_ s: String) -> String { s.isEmpty ? "?" : "`\(s.replacingOccurrences(of: "`", with: "'"))`" }
        var out = "## " + lang.t("Fingerprint", "机器指纹") + "\n\n"
        let envs = columns.map(\.run.environment)
        func fact(_ v: String) -> String { v.isEmpty ? lang.t("not recorded", "未记录") : code(v) }
        out += table(lang.t("machine", "机器"), [
            (lang.t("CPU model", "处理器型号"), envs.map { code($0.cpuModel) }),
            (lang.t("CPU vendor, family/model/stepping", "处理器厂商、系列/型号/步进"), envs.map {
                $0.cpuFamily.isEmpty ? lang.t("not recorded", "未记录")
                    : code("\($0.cpuVendor) \($0.cpuFamily)/\($0.cpuModelNumber)/\($0.cpuStepping)")
                        + (CPUIdentity.microarchitecture(vendor: $0.cpuVendor, family: $0.cpuFamily, model: $0.cpuModelNumber,
                                                         stepping: $0.cpuStepping).map { lang.t(" (`\($0)`)", "（`\($0)`）") } ?? "")
            }),
            (lang.t("caches", "缓存"), envs.map { fact($0.cpuCaches) }),
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

        return out
    }

    /// Each claim's verdict per run, and a sentence where runs disagree.
    static func verdictSection(_ columns: [MachineColumn], _ labels: [String], _ page: MachinesPage, _ lang: Language) -> String {
        func table(_ first: String, _ rows: [(String, [String])]) -> String { page.table(first, rows) }
        // Claims: every id any run's harnesses judge, in id order (C8, C9… appear when their harnesses register).
        var out = "## " + lang.t("Claim verdicts", "各条说法的结论") + "\n\n"
        out += lang.t("""
            Each claim of the course note judged from each run's rows by the rules of `report.md` (`switchbench report RUN`); in brackets the numbers that \
            decided the verdict (`deciding` in results.json).
            """,
                      "课程笔记中的每条说法，按 `report.md`（`switchbench report RUN`）中的规则，分别用每次运行的数据判定；括号里是决定结论的数（results.json 中的 `deciding`）。") + "\n\n"
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
        out += table(lang.t("claim", "说法"), claimIDs.map { id in
            ("\(id) " + (Claims.title(id, lang: lang) ?? ""), verdicts.map { v in verdictCell(v.first { $0.id == id }) })
        }) + "\n\n"
        out += disagreements(columns, labels, claimIDs, lang)

        return out
    }
}
