import Foundation

/// results.md: tables a course note can paste, each with the environment under it. The sections
/// are the registered harnesses' own (`Harness.markdownSection`), in registry order, then the
/// plots and every row.
public struct MarkdownExporter: Exporter {
    public init() {}

    public func files(_ r: RenderedRun, lang: Language) -> [OutputFile] {
        [OutputFile(name: "results.md", contents: Self.render(r.run, plots: r.plotTitles, lang: lang))]
    }

    public static func render(_ run: RunResult, plots: [(name: String, title: String)]? = nil, lang: Language = .en) -> String {
        var parts = [lang.t("# switchbench results", "# switchbench 测量结果"),
                     lang.t("Run `\(run.runID)` at \(run.timestampUTC). The appendix of `notes.md`: every table, every row with its confidence interval.",
                            "运行 `\(run.runID)`，时间 \(run.timestampUTC)。这是 `notes.md` 的附录：全部表格，每一行都带置信区间。"),
                     EnvironmentText.line(run.environment, lang: lang)]
        if !run.failures.isEmpty {
            // Failure messages are errors for the person running the suite, in code spans.
            parts.append(lang.t("**Failed cases:**", "**失败的测试：**") + "\n" + run.failures.map { "- `\($0)`" }.joined(separator: "\n"))
        }
        if !run.skipped.isEmpty {
            // The reason names CPUs and flags: a code span in Chinese output.
            parts.append(run.skipped.map { lang.t("_Not measured: \($0)._", "_未测量：`\($0)`。_") }.joined(separator: "\n"))
        }
        let crowded = run.records.filter(Neighbours.invalidatedByNeighbours).count
        if crowded > 0 {
            parts.append(lang.t("""
                _\(crowded) row(s) are `valid=false` because other tasks kept this machine's CPUs busy while they ran (\(Neighbours.rules(lang))): their time \
                depends on what ran there (shared caches and memory, wake-ups on other CPUs, a task queued on a hand-off row's CPU, or samples not checked for \
                preemption: see each row's note); rerun on a quiet machine._
                """,
                                """
                                _有 \(crowded) 行标为 `valid=false`：测量时别的程序让这台机器的 CPU 很忙（\(Neighbours.rules(lang))），这些行的耗时受那里运行的程序影响（共享缓存和内存、在别的 CPU 上唤醒、\
                                交接行的 CPU 上有别的任务排队，或样本没有检查抢占，见各行的说明）；请在空闲的机器上重跑。_
                                """))
        }
        parts += Registry.presenters.compactMap { $0.markdownSection(run, lang: lang) }
        parts += [Self.plots(plots ?? SVGPlots.files(for: run, lang: lang).map { ($0.name, $0.title) }, lang), allRows(run, lang)].compactMap { $0 }
        return parts.joined(separator: "\n\n") + "\n"
    }

    /// The SVG plots written beside this file (RunWriter writes exactly these), by relative path.
    static func plots(_ files: [(name: String, title: String)], _ lang: Language) -> String? {
        guard !files.isEmpty else { return nil }
        return lang.t("## Plots", "## 图") + "\n\n" + files.map { "![\($0.title)](\($0.name))" }.joined(separator: "\n\n")
    }

    /// Every row, for the record — but the points of a sweep (rows with a working set), which have
    /// their own section and are all in results.csv. Notes are English commentary: the Chinese
    /// rendering leaves them to the CSV.
    static func allRows(_ run: RunResult, _ lang: Language) -> String? {
        let sweepPoints = run.records.filter { $0.workingSetPages != nil }.count
        let rows = run.records.filter { $0.workingSetPages == nil }
        guard !rows.isEmpty else { return nil }
        var t = MarkdownTable(lang == .en
            ? ["harness", "mechanism", "placement", "cpus", "tasks", "footprint", "metric", "median", "95 % CI", "CV", "switches/op", "valid", "note"]
            : ["测试（`harness`）", "机制（`mechanism`）", "放置（`placement`）", "处理器", "任务数", "每次接触的内存（字节）", "指标（`metric`）", "中位数", "95 % 置信区间", "CV",
               "每次操作的上下文切换次数（内核统计）", "有效"])
        for r in rows {
            let ids: [String] = ["`\(r.harness)`", "`\(r.mechanism)`", "`\(r.placement)`", r.cpus.isEmpty ? "–" : r.key.cpusText, String(r.tasks),
                                 String(r.footprintBytes), "`\(r.metric)`" + r.parameters.map { " `\($0.label)`" }.joined()]
            let median: String = r.stats == nil ? (r.factsText.isEmpty ? "–" : "`\(r.factsText)`") : Format.median(r, lang: lang)
            // A per hand-off row's spread is that of single hand-offs, which its percentiles show: no CV.
            let cv: String = r.latency != nil ? "–" : r.stats.map { Format.sig3($0.cv * 100) + " %" } ?? ""
            let spo: String = r.switchesPerOp.map { String(format: "%.2f", $0) } ?? ""
            var cells: [String] = ids + [median, Format.ci(r, lang: lang), cv, spo, Format.valid(r.valid, lang: lang)]
            if lang == .en { cells.append(r.note) }
            t.add(cells)
        }
        let omitted = sweepPoints == 0 ? "" : "\n\n" + lang.t(
            "\(sweepPoints) sweep points (rows with a working set) are left out here; results.csv has every row.",
            "这里略去了 \(sweepPoints) 个扫描点（带工作集的行）；results.csv 里有全部数据，每行的说明在它的 note 列。")
        return lang.t("## All rows", "## 全部数据行") + "\n\n" + t.text + omitted
    }
}
