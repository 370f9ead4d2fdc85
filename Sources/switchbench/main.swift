import ArgumentParser
import CSwitchBench
import Foundation
import SwitchBench

// Exit codes (README.md, Usage; DocsTests): 0 ok · 1 a regression or a failed case · 2 bad input or usage ·
// 3 compare of different machines · 4 compare --require-gate not met · 130/143 interrupted (the handler kills and reaps children first).
sb_install_interrupt_cleanup()
signal(SIGPIPE, SIG_IGN)

func fail(_ message: String, code: Int32) -> Never {
    let line = message.split(separator: "\n").first.map(String.init) ?? message
    FileHandle.standardError.write(Data("switchbench: error: \(line)\n".utf8))
    exit(code)
}

do {
    var arguments = Array(CommandLine.arguments.dropFirst())
    var given: [String: String] = [:]
    if HarnessArguments.applies(to: arguments) {
        (arguments, given) = try HarnessOption.extract(arguments, options: Registry.options)
    }
    var command = try Switchbench.parseAsRoot(arguments)
    if var runs = command as? any RunsHarnesses {
        runs.options.harnessValues = given
        command = runs
    }
    try command.run()
} catch let e as SwitchBenchError {
    fail(e.description, code: e.exitCode)
} catch let e as ExitCode {
    exit(e.rawValue)
} catch {
    let code = Switchbench.exitCode(for: error)
    if code == .success {
        print(Switchbench.fullMessage(for: error))
        exit(0)
    }
    var message = Switchbench.message(for: error)
    if message.hasPrefix("Error: ") { message.removeFirst("Error: ".count) }
    fail(message + " (see 'switchbench --help')", code: 2)
}
