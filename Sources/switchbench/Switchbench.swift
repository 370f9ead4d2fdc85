import ArgumentParser
import Foundation
import SwitchBench

struct Switchbench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchbench",
        abstract: "Measure what context switches cost on this Linux machine, with the kernel's proof that they happened.",
        discussion: """
        Each switch row carries the kernel's own count of context switches per op; a row that did not switch the way it claims is marked invalid. \
        Results go to stdout; CSV and Markdown files to results/runs/<UTC time>-<host>/ (or --output).

        Examples:
          switchbench --all               every harness with its defaults
          switchbench --all --quick       the same, fewer and shorter samples
          switchbench run process thread --placement same-cpu --tasks 2,4
          switchbench list                harnesses, mechanisms, placements, options
          switchbench env                 the environment fingerprint (--machine-id: this machine's baseline name)
          switchbench validate            beside `perf bench sched pipe`
          switchbench compare BASE CUR    regressions between two runs (exit 1 on one)
          switchbench report RUN_DIR      claims report (C1–C9) and plots from a run's CSV
          switchbench report A B …        several runs side by side (machines.md), --lang en|zh

        Exit status: 0 ok, 1 a case failed (compare: a regression), 2 bad input, 3 compare: runs of different
        machines, not gated (see compare --across-machines), 4 compare --require-gate not met (and no
        regression), 130/143 interrupted.

        """ + HarnessArguments.help,
        version: Environment.suiteVersion,
        subcommands: [Run.self, List.self, Env.self, Validate.self, Compare.self, Report.self])

    @Flag(name: .long, help: "Run every harness with its defaults.")
    var all = false

    @OptionGroup var options: RunFlags

    func run() throws {
        guard all else {
            print(Switchbench.helpMessage())
            return
        }
        try Run.execute(harnesses: Registry.all, flags: options)
    }
}
