import ArgumentParser
import Foundation
import SwitchBench

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare two runs case by case: regressions, improvements, unchanged, new, missing.",
        discussion: """
        BASELINE and CURRENT are results.csv files or run directories holding one. Cases match on their key
        (harness … metric). A case changed only when its median moved by more than --threshold AND beyond noise
        (the 95 % CIs of the medians are disjoint, or a Mann–Whitney U test on the stored samples gives p < --alpha).
        For time units higher is worse. Environment differences (kernel, CPU, virtualization, mitigations,
        build) are warned about first.

        --format markdown|csv|json picks what is printed (default markdown); --lang en|zh the Markdown's language.

        A reason not to count a change (CV above 10 %, busy neighbours, unpinned) waves off only a change its
        noise could produce (docs/compare.md, "Vetoes"); beyond that the change counts and the note says both.

        Runs from different machines (another CPU model, vendor, family, model, stepping, caches, online CPU
        count or virtualization, or one of these recorded by one run only: unknown is not the same) are not
        comparable: the table and the difference are printed, nothing is gated, and the exit status is 3, unless
        --across-machines asks to gate anyway. A kernel, mitigation or build difference still gates, with a warning.

        Exit status: 0 no regression, 1 a regression, 2 bad input (missing/empty/malformed CSV, no common case,
        a nan/inf or negative time: file, line and column named),
        3 not comparable (different machines; see --across-machines), 4 --require-gate not met (and no regression).

        --require-gate PCT (e.g. 25%): a multi-run baseline can gate, per harness and placement, only a change larger
        than its runs' own spread (the "smallest slowdown" line). With this option, a group that cannot gate a
        slowdown of PCT — or a one-run baseline, whose spread is unknown — makes the exit status 4, so a CI job
        cannot read "cannot see" as "no regression". The Markdown's first line names those groups and from what
        size each can gate; without the option it names the groups that cannot gate +50 % (NOISY BASELINE).

        --confirm RUN (repeatable): a change counts only when every rerun, compared with the same BASELINE, shows
        it again, and it is larger than the spread of CURRENT and the reruns among themselves. On a shared
        machine one case of one run can land wholly in a slow phase of the host; a real regression is slower
        in every rerun. scripts/ci-regression.sh does this for the harnesses it flagged (docs/compare.md).
        """)

    @Argument(help: "Baseline: a results.csv or a run directory.")
    var baseline: String

    @Argument(help: "Current: a results.csv or a run directory.")
    var current: String

    @Option(help: "Relative change a case must exceed to count (0.10 = 10 %).")
    var threshold: Double = 0.10

    @Option(help: "Significance level of the rank test.")
    var alpha: Double = 0.01

    @Flag(help: "Gate (exit 1 on a regression) even when the runs come from different machines; default: exit 3, nothing gated.")
    var acrossMachines = false

    @Option(name: .customLong("require-gate"), help: ArgumentHelp("""
        Exit 4 when a gated group of the baseline cannot gate a slowdown of PCT (e.g. 25%), or the baseline has one run: its reach is unknown.
        """, valueName: "pct"))
    var requireGate: String?

    @Option(name: .customLong("confirm"), help: ArgumentHelp("""
        A rerun (results.csv or run directory) that a change must show again to count; repeat for more. scripts/ci-regression.sh reruns the flagged \
        harnesses and passes them here.
        """, valueName: "run"))
    var confirm: [String] = []

    /// `--format`: the root command's RunFlags consume it before a subcommand is parsed, and
    /// ArgumentParser hands an already-decoded option group of the same type on to the subcommand,
    /// so we read it from there (hidden: the other run flags mean nothing to compare).
    @OptionGroup(visibility: .hidden) var runFlags: RunFlags
    var format: String { runFlags.format }

    func run() throws {
        guard threshold.isFinite, threshold >= 0, threshold < 10 else {
            throw SwitchBenchError.usage("--threshold \(threshold) is out of range; expected a fraction such as 0.10 (0 to 10)")
        }
        guard alpha > 0, alpha < 1 else {
            throw SwitchBenchError.usage("--alpha \(alpha) is out of range; expected 0 < alpha < 1, e.g. 0.01")
        }
        guard RunFlags.formats.contains(format) else {
            throw SwitchBenchError.usage("unknown format '\(format)'; valid: \(RunFlags.formats.joined(separator: ", "))")
        }
        let required = try requireGate.map { try Self.percent($0, threshold: threshold) }
        let b = try RunLoader.load(baseline)
        let c = try RunLoader.load(current)
        var comparison = try Comparison.make(baseline: b, baselineSource: baseline, current: c, currentSource: current,
                                             threshold: threshold, alpha: alpha, acrossMachines: acrossMachines)
        let reruns = try confirm.map {
            try Comparison.make(baseline: b, baselineSource: baseline, current: RunLoader.load($0), currentSource: $0,
                                threshold: threshold, alpha: alpha, acrossMachines: acrossMachines)
        }
        comparison.confirm(by: reruns)
        comparison.requiredGate = required
        for w in comparison.warnings {
            FileHandle.standardError.write(Data("switchbench: warning: \(w)\n".utf8))
        }
        if comparison.cannotGate, let line = comparison.gateLine(.en) {
            FileHandle.standardError.write(Data("switchbench: \(line.replacingOccurrences(of: "**", with: ""))\n".utf8))
        }
        let exporter = Exporters.comparison[format] ?? ComparisonMarkdown()
        for f in exporter.files(comparison, lang: try runFlags.language()) { print(f.contents, terminator: "") }
        FileHandle.standardError.write(Data("switchbench: \(comparison.summaryLine)\n".utf8))
        if comparison.exitCode != 0 { throw ExitCode(comparison.exitCode) }
    }

    /// `--require-gate`: "25%", "25 %" or "25" as a fraction (0.25); at least the threshold (no group gates
    /// less), at most 1000 %. Throws `.usage`.
    static func percent(_ text: String, threshold: Double) throws -> Double {
        var t = text.trimmingCharacters(in: .whitespaces)
        if t.hasSuffix("%") { t = String(t.dropLast()).trimmingCharacters(in: .whitespaces) }
        guard let v = Double(t), v.isFinite, v > 0, v <= 1000 else {
            throw SwitchBenchError.usage("--require-gate '\(text)' is not a percentage from 0 to 1000, e.g. 25%")
        }
        guard v / 100 >= threshold else {
            throw SwitchBenchError.usage("""
                --require-gate \(text) is below --threshold \(String(format: "%g", threshold * 100)) %: no group gates a change smaller than the \
                threshold
                """)
        }
        return v / 100
    }
}

