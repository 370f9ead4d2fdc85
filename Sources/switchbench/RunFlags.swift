import ArgumentParser
import Foundation
import SwitchBench

/// Options shared by `switchbench --all` and `switchbench run`. Lists are comma-separated.
struct RunFlags: ParsableArguments {
    @Option(help: "Mechanisms to run (comma list, e.g. pipe,futex); default: each harness's all. See 'switchbench list'.")
    var mechanism: String?

    @Option(help: "Placements: same-cpu, cross-cpu, unpinned (comma list); default: all a harness supports.")
    var placement: String?

    @Option(help: "CPUs to use, taskset style (e.g. 0-3,8); the first is the same-cpu CPU. Default: this process's allowed CPUs.")
    var cpus: String?

    @Option(help: "Task counts for process/thread rings (comma list, each 2–64). One op is one lap = N switches.")
    var tasks: String = "2"

    @Option(help: "Bytes each task touches per hop, lmbench lat_ctx -s style (comma list; K/M suffix; 0–256M).")
    var footprint: String = "0"

    @Option(help: "Timed samples per case (3–1000). Default 31, or 11 with --quick.")
    var samples: Int?

    @Flag(help: "Fewer and shorter samples (11 × 2 ms): a quick look, or a CI smoke test.")
    var quick = false

    @Option(help: "What to print on stdout: markdown, csv or json. Every file kind is always written.")
    var format: String = "markdown"

    @Option(help: """
        Directory for the run's files (default: results/runs/<UTC time>-<host>/). Its filesystem must have room for them (about 4.6 MiB for --all): \
        checked before the first case.
        """)
    var output: String?

    @Option(name: .long,
            help: "Language of the files written for people (results.md, report.md, SVG text, compare's Markdown): en or zh. CSV and JSON stay English.")
    var lang: String = "en"

    /// --lang as the report layer's type; throws `.usage` for anything else.
    func language() throws -> Language {
        guard let l = Language(rawValue: lang) else {
            throw SwitchBenchError.usage("unknown language '\(lang)'; valid: \(Language.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return l
    }

    /// Set by `run` (the user named the harnesses), not an option: with --all a harness that has no
    /// case under, say, --placement cross-cpu is simply skipped.
    var harnessesNamed = false

    /// The harness options of the command line (`HarnessOption`, by name, as typed), taken out of it by
    /// main.swift before parsing; not an ArgumentParser option.
    var harnessValues: [String: String] = [:]

    static let formats = ["markdown", "csv", "json"]

    func commaList(_ s: String) -> [String] {
        s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// The comma list given to option `name`, each item through `parse`; throws `.usage` when it is
    /// empty ("expected e.g. `example`").
    func list<T>(_ s: String, _ name: String, example: String, _ parse: (String) throws -> T) throws -> [T] {
        try HarnessOption.list(s, name, example: example, parse)
    }

    /// A comma list of whole numbers in `range`, each `what` ("a task count"); throws `.usage`.
    func numbers(_ s: String, _ name: String, _ what: String, _ range: ClosedRange<Int>, example: String) throws -> [Int] {
        try list(s, name, example: example) {
            guard let n = Int($0), range.contains(n) else {
                throw SwitchBenchError.usage("\(name) '\($0)' is not \(what) from \(range.lowerBound) to \(range.upperBound)")
            }
            return n
        }
    }

    /// Validates everything before any case runs or any file is written; throws `.usage`.
    func makeOptions(for harnesses: [any Harness]) throws -> RunOptions {
        var o = RunOptions()
        if let mechanism {
            let known = Set(harnesses.flatMap { $0.mechanisms.map(\.id) })
            let wanted = commaList(mechanism)
            for m in wanted where !known.contains(m) {
                throw SwitchBenchError.usage("""
                    unknown mechanism '\(m)' for \(harnesses.map(\.id).joined(separator: ", ")); valid: \(known.sorted().joined(separator: ", "))
                    """)
            }
            o.mechanisms = wanted
        }
        if let placement {
            o.placements = try commaList(placement).map {
                guard let p = Placement(rawValue: $0) else {
                    throw SwitchBenchError.usage("unknown placement '\($0)'; valid: same-cpu, cross-cpu, unpinned")
                }
                return p
            }
        }
        let allowed = Affinity.current()
        if let cpus {
            let list = try CPUList.parse(cpus)
            let bad = list.filter { !allowed.contains($0) }
            guard bad.isEmpty else {
                throw SwitchBenchError.usage("CPU \(CPUList.format(bad)) is not allowed for this process; allowed: \(CPUList.format(allowed))")
            }
            o.cpus = list
        }
        o.tasks = try numbers(tasks, "--tasks", "a task count", 2...64, example: "2,4,8")
        o.footprints = try list(footprint, "--footprint", example: "0,16K") { try Self.bytes($0, name: "--footprint", max: 256 << 20) }
        o.quick = quick
        o.sampler = quick ? .quick : .standard
        if let samples {
            guard (3...1000).contains(samples) else { throw SwitchBenchError.usage("--samples \(samples) is out of range; expected 3 to 1000") }
            o.sampler.samples = samples
        }
        guard Self.formats.contains(format) else {
            throw SwitchBenchError.usage("unknown format '\(format)'; valid: \(Self.formats.joined(separator: ", "))")
        }
        // The harnesses' own options: each parsed by its declaration, and given only to a run that has
        // a harness reading it (`run syscall --population 10` would be silently ignored otherwise).
        for option in Registry.options {
            guard let text = harnessValues[option.name] else { continue }
            o[option] = try option.parse(text)
            let readers = Registry.harnesses.filter { $0.declaredOptions.contains(option) }.map(\.id)
            if !harnesses.contains(where: { readers.contains($0.id) }) {
                throw SwitchBenchError.usage("\(option.flag) is read by \(readers.joined(separator: ", ")), none of which is selected")
            }
        }

        _ = try language()
        return o
    }

    /// "4096", "16K", "2M", "1G" → bytes; throws `.usage` for anything else or above max.
    static func bytes(_ s: String, name: String, max: Int) throws -> Int {
        try HarnessOption.bytes(s, name: name, max: max)
    }
}
