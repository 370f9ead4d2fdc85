import ArgumentParser
import Foundation
import SwitchBench

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the named harnesses (see 'switchbench list').",
        discussion: "Example: switchbench run process thread --mechanism pipe --placement same-cpu --tasks 2,8 --footprint 0,64K\n\n" + HarnessArguments.help)

    @Argument(help: "Harness ids, space or comma separated (e.g. process thread syscall).")
    var harnesses: [String] = []

    @OptionGroup var options: RunFlags

    func run() throws {
        let ids = harnesses.flatMap { $0.split(separator: ",").map(String.init) }
        guard !ids.isEmpty else {
            throw SwitchBenchError.usage("no harness named; valid: \(Registry.harnesses.map(\.id).joined(separator: ", "))")
        }
        let selected = try ids.map { id -> any Harness in
            guard let h = Registry.harness(id) else {
                throw SwitchBenchError.usage("unknown harness '\(id)'; valid: \(Registry.harnesses.map(\.id).joined(separator: ", "))")
            }
            return h
        }
        var flags = options
        flags.harnessesNamed = true
        try Run.execute(harnesses: selected, flags: flags)
    }

    /// Validate, run, write files, print the chosen format; exit 1 if a case failed.
    static func execute(harnesses: [any Harness], flags: RunFlags) throws {
        let options = try flags.makeOptions(for: harnesses)
        // Every named harness must have something to run under these options, or the user asked for
        // something it does not measure: say so instead of printing an empty table.
        let empty = harnesses.filter { $0.cases(options).isEmpty }
        if !empty.isEmpty && (empty.count == harnesses.count || flags.harnessesNamed) {
            let h = empty[0]
            throw SwitchBenchError.usage("""
                no case of \(h.id) matches the options; it has mechanisms \(h.mechanisms.map(\.id).joined(separator: ", ")) and placements \
                \(h.placements.map(\.rawValue).joined(separator: ", "))
                """)
        }
        let environment = Environment.read()
        let context = RunContext(options: options, environment: environment)
        // A placement asked for by name that these CPUs cannot honour is refused before anything runs
        // (without --placement, such cases are skipped by the Runner with one line saying why).
        for p in options.placements ?? [] {
            if let reason = context.unhonourable(p) {
                throw SwitchBenchError.usage("--placement \(p.rawValue) cannot be honoured: \(reason)")
            }
        }
        var result = RunResult.start(environment: environment)
        let dir = flags.output ?? RunWriter.defaultDirectory(for: result)
        // A full disk and an unwritable output fail here, before the first case, and make nothing.
        try RunSpace.check(dir, harnesses: harnesses, options: options)
        try RunWriter.prepare(dir)

        let stderr = FileHandle.standardError
        stderr.write(Data("""
            switchbench \(Environment.suiteVersion): \(environment.cpuModel), CPUs \(CPUList.format(context.allowedCPUs)), \(environment.build) \
            build\n
            """.utf8))
        let t0 = Date()
        Runner(context: context, progress: { stderr.write(Data(($0 + "\n").utf8)) })
            .run(harnesses, into: &result)
        result.durationSeconds = Date().timeIntervalSince(t0)

        let files = try RunWriter.writeAll(result, to: dir, lang: try flags.language())
        let shown = ["csv": "results.csv", "json": "results.json"][flags.format] ?? "results.md"
        print(files.first { $0.name == shown }?.contents ?? "", terminator: "")
        stderr.write(Data(String(format: "switchbench: %d rows in %.1f s; files in %@\n",
                                 result.records.count, result.durationSeconds ?? 0, dir).utf8))
        if !result.failures.isEmpty {
            stderr.write(Data("switchbench: \(result.failures.count) case(s) failed:\n".utf8))
            for f in result.failures { stderr.write(Data("  \(f)\n".utf8)) }
            throw ExitCode(1)
        }
    }
}
