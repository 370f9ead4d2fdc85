import Foundation

/// The claims of the course note, each judged from a run's rows by a rule written out beside the
/// verdict. Each harness declares the claims it measures (`Harness.claims(_:lang:)`); this file holds
/// the types, the shared rule shapes and the assembly in claim order.
public enum Claims {
    /// A claim's outcome on one run. The raw values are stable (English, for machines and tests).
    public enum Verdict: String, Sendable, Codable, CaseIterable {
        case holds = "holds"
        case doesNotHold = "does not hold here"
        case inconclusive = "inconclusive"
        case notMeasured = "not measured"

        /// The verdict as a reader sees it.
        public func text(_ lang: Language) -> String {
            switch self {
            case .holds: return lang.t("holds", "成立")
            case .doesNotHold: return lang.t("does not hold here", "在这台机器上不成立")
            case .inconclusive: return lang.t("inconclusive", "无法判定")
            case .notMeasured: return lang.t("not measured", "未测量")
            }
        }
    }

    /// A number a verdict rests on (a ratio, a difference, a share), typed for other reports.
    public struct Value: Sendable, Equatable, Codable {
        /// A stable English id, e.g. "futex.process_over_thread".
        public var name: String
        public var value: Double
        /// "ratio", "ns", "percent", "pages", …
        public var unit: String
        public init(_ name: String, _ value: Double, unit: String) {
            self.name = name
            self.value = value
            self.unit = unit
        }
    }

    public struct Claim: Sendable {
        /// C1 … C7.
        public var id: String
        /// The claim in the report's language.
        public var title: String
        /// The note's own words (Chinese in every language: a quotation).
        public var quote: String
        /// The rule the verdict follows from, in words.
        public var rule: String
        public var evidence: [Record] = []
        /// The numbers the verdict rests on, typed.
        public var values: [Value] = []
        /// The names (in `values`) of the numbers that decided the verdict; empty: the first value.
        /// machines.md and notes.md print these beside the verdict, results.json records them.
        public var deciding: [String] = []
        /// The rule's stable id (`Text.ruleID`): which rule, in which version, gave the verdict.
        public var ruleID: String = ""
        /// One sentence in the claim's language: what the note should say about this claim on this
        /// machine, built from the numbers (notes.md). nil: notes.md shows `why`.
        public var advice: String?
        /// The note's sentence rewritten so that it holds on this machine, ready to paste over the
        /// original (in Chinese, the note's language, in both reports); nil when the note's sentence holds as written.
        public var corrected: String?
        /// Lines naming those numbers for people.
        public var measured: [String] = []
        public var verdict: Verdict = .notMeasured
        public var why: String
        /// Fingerprint facts that explain the outcome.
        public var facts: [String] = []

        public init(id: String, title: String, quote: String, rule: String, lang: Language, facts: [String] = []) {
            self.id = id
            self.title = title
            self.quote = quote
            self.rule = rule
            self.why = lang.t("not measured in this run", "本次运行没有测量")
            self.facts = facts
        }

        /// Sets the verdict and the sentence that goes with it (inconclusive takes `otherwise`).
        public mutating func decide(_ v: Verdict, holds: String, doesNotHold: String, otherwise: String) {
            verdict = v
            why = v == .holds ? holds : (v == .doesNotHold ? doesNotHold : otherwise)
        }

        /// Rows are present but the rule cannot decide: inconclusive, with why.
        public mutating func undecided(_ why: String) {
            verdict = .inconclusive
            self.why = why
        }

        /// The values that decided the verdict: those named in `deciding`; without names, the first
        /// value of a decided claim (holds / does not hold), none for an undecided one (its `why` says why).
        public var decidingValues: [Value] {
            let named = deciding.compactMap { n in values.first { $0.name == n } }
            guard named.isEmpty else { return named }
            return verdict == .holds || verdict == .doesNotHold ? Array(values.prefix(1)) : []
        }
    }

    /// A claim's fixed words in both languages: what a harness declares for each claim it judges.
    public struct Text: Sendable {
        public var id: String
        public var title: (en: String, zh: String)
        /// The note's own words.
        public var quote: String
        public var rule: (en: String, zh: String)
        /// A stable id of the rule ("C1.ci-disjoint.v1"): a changed rule gets a new id, so a verdict in
        /// results.json says which rule gave it. Default "<id>.v1".
        public var ruleID: String

        public init(_ id: String, title: (en: String, zh: String), quote: String, rule: (en: String, zh: String), ruleID: String? = nil) {
            self.id = id
            self.title = title
            self.quote = quote
            self.rule = rule
            self.ruleID = ruleID ?? "\(id).v1"
        }

        /// A claim not measured yet, in a language, with the machine facts that bear on it.
        public func claim(_ lang: Language, facts: [String] = []) -> Claim {
            var c = Claim(id: id, title: lang.t(title.en, title.zh), quote: quote, rule: lang.t(rule.en, rule.zh), lang: lang, facts: facts)
            c.ruleID = ruleID
            return c
        }
    }

    /// A section of results.md: its heading, its paragraphs and tables (the environment is written once,
    /// at the top of the file).
    public static func section(_ heading: String, _ blocks: [String], _ run: RunResult, _ lang: Language) -> String {
        ([heading] + blocks.filter { !$0.isEmpty }).joined(separator: "\n\n")
    }

    /// A claim's verdict and the numbers it rests on: the one canonical record of a verdict. results.json
    /// carries it (`claims`), machines.md, notes.md, report.md and the scripts read it.
    public struct Outcome: Sendable, Codable, Equatable {
        public var id: String
        public var verdict: Verdict
        /// The rule that gave the verdict (`Text.ruleID`).
        public var ruleID: String
        /// The numbers that decided it (a subset of `values`).
        public var deciding: [Value]
        /// Every number the rule computed.
        public var values: [Value]
        /// What the note should say here, in English and Chinese (nil when the claim gives none).
        public var adviceEN: String?
        public var adviceZH: String?

        enum CodingKeys: String, CodingKey {
            case id, verdict, values, deciding
            case ruleID = "rule_id", adviceEN = "advice_en", adviceZH = "advice_zh"
        }

        public init(id: String, verdict: Verdict, ruleID: String = "", deciding: [Value] = [], values: [Value], adviceEN: String? = nil,
                    adviceZH: String? = nil) {
            (self.id, self.verdict, self.ruleID, self.deciding, self.values) = (id, verdict, ruleID, deciding, values)
            (self.adviceEN, self.adviceZH) = (adviceEN, adviceZH)
        }

        public func advice(_ lang: Language) -> String? { lang == .en ? adviceEN : adviceZH }
    }

    /// Every claim the registered harnesses declare, judged on this run, in id order.
    public static func evaluate(_ run: RunResult, lang: Language = .en) -> [Claim] {
        Registry.presenters.flatMap { $0.judgeClaims(run, lang: lang) }.sorted { $0.id.localizedStandardCompare($1.id) == .orderedAscending }
    }

    /// The verdicts of a run (the canonical record): claim id, verdict, rule id, deciding and all values,
    /// and the advice sentence in both languages.
    public static func verdicts(_ run: RunResult) -> [Outcome] {
        let zh = Dictionary(evaluate(run, lang: .zh).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        return evaluate(run, lang: .en).map { c in
            Outcome(id: c.id, verdict: c.verdict, ruleID: c.ruleID, deciding: c.decidingValues, values: c.values,
                    adviceEN: c.advice, adviceZH: zh[c.id]?.advice)
        }
    }

    /// A claim's statement in a language ("A thread switch is cheaper than a process switch."), nil for an unknown id.
    public static func title(_ id: String, lang: Language) -> String? {
        evaluate(RunResult(runID: "", timestampUTC: "", environment: .blank), lang: lang).first { $0.id == id }?.title
    }

    // MARK: shared rule shapes

    static func med(_ r: Record) -> Double { r.stats!.median }

    /// The one shape most claims share: is a ÷ b at least k, beyond noise?
    /// - `failsBelow` nil (CI edges): holds when a's CI low is above k × b's CI high; does not hold
    ///   when a's CI high is below k × b's CI low; otherwise `otherwise`.
    /// - `failsBelow` m: holds when the median ratio is ≥ k and the CIs are disjoint (a above b);
    ///   does not hold when the median ratio is below m; otherwise `otherwise`.
    public static func ratioVerdict(_ a: Record, over b: Record, atLeast k: Double, failsBelow m: Double? = nil,
                                    otherwise: Verdict = .inconclusive) -> Verdict {
        guard let sa = a.stats, let sb = b.stats else { return .inconclusive }
        guard let m else {
            if sa.ci95Low > k * sb.ci95High { return .holds }
            if sa.ci95High < k * sb.ci95Low { return .doesNotHold }
            return otherwise
        }
        let r = sa.median / max(sb.median, 1e-12)
        if r >= k && sa.ci95Low > sb.ci95High { return .holds }
        if r < m { return .doesNotHold }
        return otherwise
    }

    static func name(_ r: Record) -> String { "`\(r.harness) \(r.mechanism) \(r.placement) \(r.metric)`" }

    /// Why rows cannot be used: some are invalid (their notes are in the evidence table and the CSV).
    static func invalidWhy(_ rs: [Record], _ lang: Language) -> String? {
        let bad = rs.filter { !$0.valid }
        guard !bad.isEmpty else { return nil }
        return lang.t("the rows it needs are marked invalid: ", "判定所需的数据行被标为无效：") + bad.map(name).joined(separator: lang.t(", ", "，"))
            + lang.t(" (why: the `note` column of results.csv)", "（原因见 results.csv 的 `note` 列）")
    }

    static func pcidFact(_ e: Environment, _ lang: Language) -> String { NotesReport.pcidCaveat(e, lang) }

    static func virtFact(_ e: Environment, _ lang: Language) -> String {
        e.virtualization == "none" || e.virtualization.isEmpty
            ? lang.t("Bare metal (no hypervisor flag).", "物理机（没有 `hypervisor` 标志）。")
            : lang.t("""
                Virtualized (\(e.virtualization)): with nested paging a TLB miss is one two-dimensional walk (every guest page-table reference translated \
                through the host's tables, up to 24 memory references), and waking an idle vCPU goes through the hypervisor (docs/sources.md).
                """,
                     "运行在虚拟机里（\(e.virtualization)）：有嵌套分页时，一次快表缺失是一次二维页表遍历（客户机页表的每次引用都要经宿主机的页表转换，最多访问内存 24 次），唤醒空闲的虚拟处理器还要经过虚拟机管理程序（出处见 docs/sources.md）。")
    }

    /// The mitigations in force (paid for) and those reported vulnerable (not paid for): notes.md's caveat lines.
    static func mitigationFact(_ e: Environment, _ lang: Language) -> String {
        NotesReport.mitigationCaveats(e, lang).joined(separator: lang.t(" ", ""))
    }

    // MARK: Rendering

    /// report.md: the claims, each with rule, evidence rows, measured ratios, verdict and the facts that explain it.
    public static func render(_ run: RunResult, plots: [(name: String, title: String)] = [], lang: Language = .en) -> String {
        let e = run.environment
        var out = lang.t("# switchbench claims report\n\n", "# switchbench 结论报告\n\n")
        out += lang.t("""
            Run `\(run.runID)` at \(run.timestampUTC). The course note's claims, each judged from this run's rows by the rule stated with it; the numbers the \
            rule uses are beside the verdict.\n\n
            """,
                      "运行 `\(run.runID)`，时间 \(run.timestampUTC)。下面逐条检验课程笔记里的说法：每条都写明判定规则，用本次运行的数据来判，规则用到的数字就列在结论旁边。\n\n")
        out += lang.t("**Machine:** ",
                      "**机器：**") + EnvironmentText.machine(e, lang: lang) + lang.t("; \(e.build) build; switchbench \(e.suiteVersion) (`\(e.gitCommit)`).\n",
                                                                                                  """
                                                                                                  ；\(e.build) 构建；switchbench \
                                                                                                  \(e.suiteVersion)（`\(e.gitCommit)`）。\n
                                                                                                  """)
        out += lang.t("**Mitigations:** ", "**漏洞缓解：**") + mitigationFact(e, lang) + "\n\n"
        let claims = evaluate(run, lang: lang)
        var summary = MarkdownTable(lang == .en ? ["claim", "the note says", "verdict", "why"] : ["说法", "笔记原文", "结论", "理由"])
        for c in claims {
            summary.add([c.id, c.title + lang.t(" (", "（") + c.quote + lang.t(")", "）"), "**\(c.verdict.text(lang))**", c.why])
        }
        out += lang.t("## Summary\n\n", "## 总览\n\n") + summary.text + "\n\n"
        for c in claims {
            out += "## \(c.id): \(c.title)\n\n"
            out += "> \(c.quote)\n\n"
            out += lang.t("**Verdict: \(c.verdict.text(lang))** — \(c.why)\n\n", "**结论：\(c.verdict.text(lang))**。\(c.why)\n\n")
            out += lang.t("_Rule:_ ", "_判定规则：_") + c.rule + "\n\n"
            if !c.measured.isEmpty {
                out += lang.t("**Measured:**\n\n", "**测得：**\n\n") + c.measured.map { "- \($0)" }.joined(separator: "\n") + "\n\n"
            }
            if !c.evidence.isEmpty { out += lang.t("**Evidence rows:**\n\n", "**依据的数据行：**\n\n") + evidenceTable(c.evidence, lang) + "\n\n" }
            if !c.facts.isEmpty {
                out += lang.t("**Machine facts that bear on it:** ", "**与此相关的机器情况：**") + c.facts.joined(separator: lang.t(" ", "")) + "\n\n"
            }
        }
        if !plots.isEmpty {
            out += lang.t("## Plots\n\n", "## 图\n\n") + plots.map { "![\($0.title)](\($0.name))" }.joined(separator: "\n\n") + "\n\n"
        }
        out += EnvironmentText.line(e, lang: lang) + "\n"
        return out
    }

    /// The rows a verdict used. Notes are commentary in English: printed in the English report; the
    /// Chinese one points to the CSV's note column instead.
    static func evidenceTable(_ rows: [Record], _ lang: Language) -> String {
        var t = MarkdownTable(lang == .en
            ? ["harness", "mechanism", "placement", "pages", "metric", "median", "95 % CI", "switches/op", "valid", "note"]
            : ["测试（`harness`）", "机制（`mechanism`）", "放置（`placement`）", "页数", "指标（`metric`）", "中位数", "95 % 置信区间", "每次操作的上下文切换次数（内核统计）", "有效"])
        for r in rows {
            var cells = ["`\(r.harness)`", "`\(r.mechanism)`", "`\(r.placement)`", r.workingSetPages.map(String.init) ?? "", "`\(r.metric)`",
                         Format.median(r, lang: lang), Format.ci(r, lang: lang),
                         r.switchesPerOp.map { String(format: "%.2f", $0) } ?? "", Format.valid(r.valid, lang: lang)]
            if lang == .en { cells.append(r.note) }
            t.add(cells)
        }
        return t.text
    }
}
