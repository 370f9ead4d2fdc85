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

    @Option(help: "Directory for the run's files (default: results/runs/<UTC time>-<host>/).")
    var output: String?

    @Option(help: "NUMA node for memory-heavy harnesses (needs libnuma and more than one node).")
    var node: Int?

    @Option(help: "memory/events: tasks alive at once (comma list, 1–100000). Default 10,1000; full range: 1,10,100,1000,10000.")
    var population: String?

    @Option(help: "events: tasks made ready at once per burst (comma list, 1–1024; a K above N is not run). Default 1,16.")
    var burst: String?

    @Option(help: "memory: stack bytes per thread / asm coroutine (comma list; K/M suffix; 0 = the mechanism's default: pthread 8 MiB, coroutine 256 KiB).")
    var stackSize: String?

    @Option(name: .long, help: "Language of the files written for people (results.md, report.md, SVG text, compare's Markdown): en or zh. CSV and JSON stay English.")
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

    static let formats = ["markdown", "csv", "json"]

    func commaList(_ s: String) -> [String] {
        s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// The comma list given to option `name`, each item through `parse`; throws `.usage` when it is
    /// empty ("expected e.g. `example`").
    func list<T>(_ s: String, _ name: String, example: String, _ parse: (String) throws -> T) throws -> [T] {
        let items = try commaList(s).map(parse)
        if items.isEmpty { throw SwitchBenchError.usage("\(name) is empty; expected e.g. \(example)") }
        return items
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
                throw SwitchBenchError.usage("unknown mechanism '\(m)' for \(harnesses.map(\.id).joined(separator: ", ")); valid: \(known.sorted().joined(separator: ", "))")
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
        if let population { o.population = try numbers(population, "--population", "a task count", 1...100_000, example: "10,1000") }
        if let burst { o.bursts = try numbers(burst, "--burst", "a burst size", 1...1024, example: "1,16") }
        if let stackSize {
            o.stackSizes = try list(stackSize, "--stack-size", example: "0,64K") { try Self.bytes($0, name: "--stack-size", max: 1 << 30) }
        }

        _ = try language()
        if let node {
            guard node >= 0 else { throw SwitchBenchError.usage("--node \(node) is negative") }
            o.node = node
        }
        return o
    }

    /// "4096", "16K", "2M", "1G" → bytes; throws `.usage` for anything else or above max.
    static func bytes(_ s: String, name: String, max: Int) throws -> Int {
        var t = s.uppercased()
        var mult = 1
        if let last = t.last, let m = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30][String(last)] {
            mult = m
            t.removeLast()
            if t.hasSuffix("I") { t.removeLast() }
        } else if t.hasSuffix("B") { t.removeLast() }
        guard let v = Int(t), v >= 0 else {
            throw SwitchBenchError.usage("\(name) '\(s)' is not a byte count (e.g. 0, 4096, 16K, 1M)")
        }
        let (bytes, overflow) = v.multipliedReportingOverflow(by: mult)
        guard !overflow, bytes <= max else {
            throw SwitchBenchError.usage("\(name) '\(s)' is too large; at most \(max >> 20) MiB")
        }
        return bytes
    }
}
