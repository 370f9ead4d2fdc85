import Foundation

/// What `compare` writes: warnings, the summary and gate lines, Markdown, CSV and JSON, en and zh.
extension Comparison {

    static func fmt(_ v: Double?, unit: String) -> String { Format.value(v, unit: unit) }

    static func pct(_ r: Double?) -> String {
        guard let r else { return "–" }
        return String(format: "%+.1f %%", (r - 1) * 100)
    }

    /// Warnings a reader must see before the table: environment changes, invalid rows, duplicates.
    /// Warnings a reader must see before the table, in English (stderr, JSON).
    public var warnings: [String] { warnings(.en) }

    public func warnings(_ lang: Language) -> [String] {
        var w: [String] = []
        if !comparable {
            let diff = machineChanges.map { $0.text(lang) }.joined(separator: "; ")
            w.append(acrossMachines
                ? lang.t("DIFFERENT MACHINES (\(diff)); gated anyway (--across-machines): a change may be the hardware's, not the code's.",
                         "不同机器（\(diff)）；按 `--across-machines` 照样判定：变化可能来自硬件，而不是代码。")
                : lang.t("NOT COMPARABLE — the runs come from different machines (\(diff)): nothing is gated (exit 3). " +
                         """
                         Compare against a baseline made on this machine (results/baselines/<machine id>.csv; `switchbench env --machine-id`), or pass \
                         --across-machines to gate anyway.
                         """,
                         "不可比——两次运行来自不同机器（\(diff)）：不作任何判定（退出码 3）。" +
                         "请与本机做的基线比较（`results/baselines/<machine id>.csv`，见 `switchbench env --machine-id`），或加 `--across-machines` 照样判定。"))
        }
        let important = environmentChanges.filter(\.important)
        if !important.isEmpty {
            let list = important.map { $0.text(lang) }.joined(separator: "; ")
            let kernel = important.contains { $0.fact == "kernel" }
            w.append(lang.t("ENVIRONMENT DIFFERS — these numbers may have moved for that reason, not because of the code: " + list
                                + (kernel ? ". A kernel change is news, not noise." : "."),
                            "环境不同——这些数字的变化可能来自环境，而不是代码：" + list + (kernel ? "。换了内核本身就是新闻，不是噪声。" : "。")))
        }
        let loose = gateLimits.filter { $0.smallestChange > Self.noisyBaselineLimit }
        if !loose.isEmpty {
            let list = loose.map {
                String(format: "%@ %@ +%.0f %%", lang == .en ? $0.harness : "`\($0.harness)`", lang == .en ? $0.placement : "`\($0.placement)`",
                       $0.smallestChange * 100)
            }
                .joined(separator: lang.t(", ", "，"))
            w.append(lang.t("""
                NOISY BASELINE — its \(baselineRuns) runs disagree, so in these groups only a slowdown larger than shown can be gated: \(list). Make it again \
                in a quieter minute (scripts/ci-regression.sh --refresh) or with more runs (RUNS=5).
                """,
                            """
                            基线噪声大——它的 \(baselineRuns) 次运行彼此不一致，这些组里只有超过下列幅度的变慢才能被判定：\(list)。请在机器更安静时重做基线（`scripts/ci-regression.sh --refresh`），或多跑几次（`RUNS=5`）。
                            """))
        }
        let inv = invalidChanges
        if !inv.isEmpty {
            let list = inv.map { lang == .en ? $0.label : "`\($0.label)`" }.joined(separator: "; ")
            w.append(lang.t("\(inv.count) regression/improvement(s) involve a row marked valid=false (its switch count or setup was off): " + list
                            + ". Check the row's note before trusting the change.",
                            "有 \(inv.count) 个变慢/变快涉及标为 valid=false 的行（切换次数或设置不对）：" + list + "。相信这个变化之前，先看看那一行的说明。"))
        }
        let otherInvalid = invalidRows.count - inv.count
        if otherInvalid > 0 {
            w.append(lang.t("\(otherInvalid) other case(s) have a row marked valid=false; see the note column.",
                            "另有 \(otherInvalid) 个用例有标为 valid=false 的行，见说明列。"))
        }
        if !duplicates.isEmpty {
            w.append(lang.t("\(duplicates.count) duplicate case key(s) within one input; the first row of each was used.",
                            "同一个输入里有 \(duplicates.count) 个重复的用例键，各取了第一行。"))
        }
        return w
    }

    /// The counts and the rule, in English (stderr).
    public var summaryLine: String { summaryLine(.en) }

    public func summaryLine(_ lang: Language) -> String {
        let parts = Class.allCases.map { "\(count($0)) " + Self.className($0, lang) }
        let (th, cv, a) = (String(format: "%g", threshold * 100), String(format: "%g", Statistics.noisyCV * 100), String(format: "%g", alpha))
        let noise = baselineRuns > 1
            ? lang.t("outside the 99 % prediction interval from the baseline's \(baselineRuns) runs", "落在基线 \(baselineRuns) 次运行给出的 99 % 预测区间之外")
            : lang.t("CIs disjoint or Mann–Whitney p < \(a)", "置信区间不重叠，或 Mann–Whitney p < \(a)")
        let gate = comparable || acrossMachines ? "" : lang.t("not comparable (different machines), nothing gated: ", "不可比（不同机器），不作判定：")
        let reruns = confirmedBy.isEmpty ? "" : lang.t("; a change counts only when each of \(confirmedBy.count) rerun(s) shows it too",
                                                       "；只有 \(confirmedBy.count) 次重测都再次出现的变化才算数")
        return gate + lang.t("""
            \(parts.joined(separator: ", ")) (a change counts when beyond ±\(th) % and beyond noise — \(noise) — and, on an unpinned row or one with CV > \
            \(cv) %, beyond what that noise can produce\(reruns))
            """,
                      "\(parts.joined(separator: "，"))（变化超过 ±\(th) % 且超出噪声——\(noise)——才算数；没有绑核或 CV > \(cv) % 的行，还要超出这种噪声可能造成的幅度\(reruns)）")
    }

    /// The first line of the Markdown (a CI job summary's first line): which groups cannot gate a slowdown
    /// of `gateSize` and from what size each can, or, under `--require-gate`, that every group can. nil when
    /// nothing is required and no group is blind at the NOISY BASELINE limit.
    public func gateLine(_ lang: Language) -> String? {
        let size = String(format: "+%.0f %%", gateSize * 100)
        let exit = exitCode == Self.cannotGateExit ? lang.t(" (exit 4)", "（退出码 4）") : ""
        let flag = requiredGate == nil ? "" : lang.t(" (`--require-gate`)", "（`--require-gate`）")
        if requiredGate != nil && gateLimits.isEmpty {
            return lang.t("""
                🚫 **CANNOT SAY WHAT IT GATES:** the baseline has \(baselineRuns) run(s) of each case, so its run-to-run spread is unknown and no group can be \
                shown to gate a \(size) slowdown\(flag)\(exit). Make it from several runs: `scripts/ci-regression.sh --refresh` (`RUNS=3`).
                """,
                          """
                          🚫 **无法说明能判定什么：** 基线每个用例只有 \(baselineRuns) 次运行，看不出运行之间的离散程度，没有哪一组能证明可以判定 \(size) 的变慢\(flag)\(exit)。请用多次运行做基线：\
                          `scripts/ci-regression.sh --refresh`（`RUNS=3`）。
                          """)
        }
        let blind = blindGroups
        if blind.isEmpty {
            guard requiredGate != nil else { return nil }
            let worst = gateLimits.max { $0.smallestChange < $1.smallestChange }
            let most = worst.map { String(format: "`%@ %@` +%.0f %%", $0.harness, $0.placement, $0.smallestChange * 100) } ?? ""
            return lang.t("✅ **Every group can gate a \(size) slowdown**\(flag): the widest limit is \(most).",
                          "✅ **每一组都能判定 \(size) 的变慢**\(flag)：最宽的界限是 \(most)。")
        }
        let list = blind.map {
            String(format: "`%@ %@` ", $0.harness, $0.placement) + lang.t("from ", "要 ")
                + String(format: "+%.0f %%", $0.smallestChange * 100) + lang.t("", " 以上")
        }
            .joined(separator: lang.t(", ", "，"))
        let others = gateLimits.count - blind.count
        let rest = others == 0 ? lang.t("; no group can.", "；没有一组能判定。") : lang.t("; the other \(others) group(s) can.", "；其余 \(others) 组可以。")
        return lang.t("🚫 **CANNOT GATE a \(size) slowdown\(flag)\(exit)** in \(blind.count) group(s), the baseline's runs disagree too much: \(list)\(rest)",
                      "🚫 **无法判定 \(size) 的变慢\(flag)\(exit)**：基线各次运行分歧太大，共 \(blind.count) 组：\(list)\(rest)")
    }

    /// A Markdown diff table, pasteable into a pull request, in a language (notes, warnings, summary too).
    /// Its first line is `gateLine` when there is one.
    public func markdown(lang: Language = .en) -> String {
        var out = gateLine(lang).map { $0 + "\n\n" } ?? ""
        out += lang.t("## switchbench compare\n\n", "## switchbench 对比\n\n")
        let runs = baselineRuns > 1
            ? lang.t(" (\(baselineRuns) runs per case: noise = the 99 % prediction interval from the run-to-run spread, pooled per harness and placement)",
                     "（每个用例 \(baselineRuns) 次运行：噪声取各次运行之间离散程度给出的 99 % 预测区间，按 harness 和 placement 合并估计）")
            : ""
        let reruns = confirmedBy.map { "`\($0)`" }.joined(separator: ", ")
        let confirm = confirmedBy.isEmpty ? "" : lang.t(" Reruns that a change had to show again: \(reruns).", "变化必须在重测中再次出现：\(reruns)。")
        out += lang.t("Baseline `\(baselineSource)`\(runs) → current `\(currentSource)`.\(confirm)\n\n",
                      "基线 `\(baselineSource)`\(runs) → 本次 `\(currentSource)`。\(confirm)\n\n")
        if !gateLimits.isEmpty {
            let list = gateLimits.map { "`\($0.harness) \($0.placement)` +" + String(format: "%.0f %%", $0.smallestChange * 100) }
                .joined(separator: lang.t(", ", "，"))
            out += lang.t("""
                Smallest slowdown this baseline can gate, per harness and placement (its run-to-run spread, for a typical case; at least the threshold): \
                \(list).\n\n
                """,
                          "这份基线按 harness 和 placement 分组能判定的最小变慢幅度（由各次运行之间的离散程度得出，按典型用例计；不低于阈值）：\(list)。\n\n")
        }
        let warnings = warnings(lang)
        for w in warnings { out += "> **⚠️ \(w)**\n>\n" }
        if !warnings.isEmpty { out += "\n" }
        let other = environmentChanges.filter { !$0.important }
        var t = MarkdownTable(lang == .en
            ? ["class", "case", "baseline", "current", "change", "95 % CIs", "Mann–Whitney p", "note"]
            : ["类别", "用例", "基线", "本次", "变化", "95 % 置信区间", "Mann–Whitney p", "说明"])
        let rank: [Class: Int] = [.regression: 0, .improvement: 1, .noisy: 2, .new: 3, .missing: 4, .unchanged: 5]
        for c in cases.enumerated().sorted(by: { (rank[$0.element.classification]!, $0.offset) < (rank[$1.element.classification]!, $1.offset) })
            .map(\.element) {
            let cls: String
            switch c.classification {
            case .regression: cls = lang.t("🔴 **regression**", "🔴 **变慢**")
            case .improvement: cls = lang.t("🟢 **improvement**", "🟢 **变快**")
            case .noisy: cls = lang.t("noisy", "噪声")
            case .new: cls = lang.t("new", "新增")
            case .missing: cls = lang.t("missing", "缺失")
            case .unchanged: cls = lang.t("unchanged", "不变")
            }
            var note = c.note(lang)
            if c.isChange, c.baselineValid == false || c.currentValid == false { note = "⚠️ " + note }
            t.add([cls, "`\(c.label)`", Self.fmt(c.baselineMedian, unit: c.unit), Self.fmt(c.currentMedian, unit: c.unit),
                   Self.pct(c.ratio), c.ciOverlap.map { $0 ? lang.t("overlap", "重叠") : lang.t("disjoint", "不重叠") } ?? "–",
                   c.pValue.map { String(format: "%.2g", $0) } ?? "–", note])
        }
        out += t.text + lang.t("\n\n**Summary:** ", "\n\n**小结：**") + summaryLine(lang) + "\n"
        if !other.isEmpty {
            out += lang.t("\n_Other differences: ",
                          "\n_其他不同：") + other.map { "\($0.fact) \($0.baseline) → \($0.current)" }.joined(separator: "; ") + lang.t("._\n", "。_\n")
        }
        return out
    }

    public static let csvColumns = [
        "class", "harness", "mechanism", "placement", "cpus", "tasks", "footprint_bytes", "page_size_bytes",
        "working_set_pages", "metric", "unit", "baseline_median", "current_median", "ratio", "ci_overlap",
        "mann_whitney_p", "beyond_threshold", "beyond_noise", "baseline_valid", "current_valid", "note",
    ] + CSVExporter.parameterColumns

    public func csv() -> String {
        func n(_ v: Double?) -> String { v.map { String(format: "%.6g", $0) } ?? "" }
        func b(_ v: Bool?) -> String { v.map { $0 ? "true" : "false" } ?? "" }
        var out = CSV.line(Self.csvColumns) + "\n"
        for c in cases {
            let k = c.key
            let keyCells = [k.harness, k.mechanism, k.placement, k.cpusText, String(k.tasks), String(k.footprintBytes),
                            k.pageSizeBytes.map(String.init) ?? "", k.workingSetPages.map(String.init) ?? "", k.metric]
            let cells = [n(c.baselineMedian), n(c.currentMedian), n(c.ratio), b(c.ciOverlap), n(c.pValue),
                         b(c.beyondThreshold), b(c.beyondNoise), b(c.baselineValid), b(c.currentValid), c.note]
            out += CSV.line([c.classification.rawValue] + keyCells + [c.unit] + cells + k.parameters.cells) + "\n"
        }
        return out
    }

    struct JSONForm: Codable {
        var baseline: String
        var current: String
        var baselineRuns: Int
        var threshold: Double
        var alpha: Double
        var summary: [String: Int]
        var warnings: [String]
        var environmentChanges: [EnvironmentChange]
        /// false: the runs come from different machines (exit 3 unless --across-machines).
        var comparable: Bool
        /// Reruns a change had to appear in again (`compare --confirm`); empty when none.
        var confirmedBy: [String]
        /// Multi-run baselines: the smallest change each (harness, placement) group can gate.
        var gateLimits: [GateLimit]
        /// `--require-gate` as a fraction (absent when not given), and whether it was not met (exit 4).
        var requiredGate: Double?
        var cannotGate: Bool
        /// The groups that cannot gate `requiredGate` (else the NOISY BASELINE limit, +50 %).
        var blindGroups: [GateLimit]
        var cases: [Case]
    }

    public func json() -> String {
        let form = JSONForm(baseline: baselineSource, current: currentSource, baselineRuns: baselineRuns, threshold: threshold, alpha: alpha,
                            summary: Dictionary(uniqueKeysWithValues: Class.allCases.map { ($0.rawValue, count($0)) }),
                            warnings: warnings, environmentChanges: environmentChanges, comparable: comparable, confirmedBy: confirmedBy,
                            gateLimits: gateLimits,
                            requiredGate: requiredGate, cannotGate: cannotGate, blindGroups: blindGroups, cases: cases)
        return JSONText.encode(form)
    }
}
