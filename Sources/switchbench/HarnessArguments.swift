import ArgumentParser
import SwitchBench

/// The options harnesses declare (`Registry.options`: `--population`, `--node`, …) are not
/// ArgumentParser options: main.swift takes them out of the command line of `run` and `--all`
/// before parsing (`HarnessOption.extract`), hands them to the parsed command's `RunFlags`
/// (`RunsHarnesses`), and `RunFlags.makeOptions` validates them.
enum HarnessArguments {
    /// Whether a command line runs harnesses (`run …` or the root command's `--all`), so that harness
    /// options belong to it; the other subcommands keep theirs to ArgumentParser.
    static func applies(to arguments: [String]) -> Bool {
        guard let first = arguments.first else { return false }
        let others = Switchbench.configuration.subcommands.map { $0._commandName }.filter { $0 != Run._commandName }
        return !others.contains(first) && first != "help"
    }

    /// The "Harness options" paragraph of `--help`.
    static var help: String {
        "Harness options (each read by the harnesses in brackets):\n" + Registry.optionsHelp
    }
}

/// A command whose flags carry the harness options main.swift took out of its command line.
protocol RunsHarnesses: ParsableCommand {
    var options: RunFlags { get set }
}

extension Run: RunsHarnesses {}
extension Switchbench: RunsHarnesses {}
