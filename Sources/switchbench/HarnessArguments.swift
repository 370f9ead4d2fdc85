import ArgumentParser
import SwitchBench

/// The options harnesses declare (`Registry.options`: `--population`, `--node`, …) are not
/// ArgumentParser options: main.swift takes them out of the command line of `run` and `--all`
/// before parsing (`HarnessOption.extract`), and `RunFlags.makeOptions` validates them here.
enum HarnessArguments {
    /// Set once by main.swift before the command is parsed; read by `RunFlags.makeOptions`.
    nonisolated(unsafe) static var given: [String: String] = [:]

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
