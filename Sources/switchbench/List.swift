import ArgumentParser
import SwitchBench

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List harnesses, their mechanisms, placements and options.",
        discussion: """
        --format json prints one JSON object instead: `harnesses` (id, summary, claims, op, mechanisms, placements, options, \
        included_in_all: whether --all runs it), \
        `csv_columns` (the columns results.csv has, in order) and `switch_kinds` (the kinds of switch compared, \
        with harness, mechanism, metric and label en/zh). Scripts read these lists from here rather than repeat them. \
        --format docs prints README.md's harness list and docs/harnesses.md's harness table as Markdown blocks \
        between their marker lines (scripts/harness-docs.py writes them into those files).
        """)

    /// `--format`: the root command's RunFlags consume it before a subcommand is parsed (see Compare);
    /// its default there ("markdown") stands for this command's text.
    @OptionGroup(visibility: .hidden) var runFlags: RunFlags

    func run() throws {
        switch runFlags.format {
        case "markdown", "text": printText()
        case "json": print(Listing.json(), terminator: "")
        case "docs": print(HarnessDocs.render(), terminator: "")
        default:
            throw SwitchBenchError.usage("unknown format '\(runFlags.format)' for list; valid: text, json, docs")
        }
    }

    func printText() {
        for h in Registry.harnesses {
            print("\(h.id) — \(h.summary) [\(h.claims.joined(separator: ", "))]")
            for m in h.mechanisms { print("    \(m.id.padding(toLength: max(16, m.id.count), withPad: " ", startingAt: 0)) \(m.summary)") }
            print("    placements: \(h.placements.map(\.rawValue).joined(separator: ", "))")
            for o in h.declaredOptions { print("    option: \(o.flag) <\(o.example)>  \(o.help)") }
            if !h.includedInAll { print("    not run by --all (run it by name)") }
        }
        print("""

        placements:
            same-cpu   every task pinned to one CPU: each hand-off is a real context switch
            cross-cpu  tasks pinned to distinct CPUs, nearest first (SMT sibling, same LLC, other NUMA node)
            unpinned   the scheduler decides
        """)
    }
}
