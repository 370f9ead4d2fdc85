import ArgumentParser
import CSwitchBench
import Foundation
import SwitchBench

/// Side by side with the kernel's own benchmark: `perf bench sched pipe` (processes) and
/// `perf bench sched pipe -T` (threads), pinned to the CPU of our same-cpu pipe rows, interleaved
/// A B A B … so that drift on a shared machine hits both alike.
struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare our same-cpu pipe round trips with `perf bench sched pipe` run interleaved on the same CPU.",
        discussion: "Exit status: 0 when every ratio is within --tolerance of 1, 1 when one is not, 2 when perf is missing.")

    @Option(help: "Interleaved rounds (each: ours, perf, for processes and for threads).")
    var rounds: Int = 5

    @Option(help: "Loops per `perf bench sched pipe` run.")
    var loops: Int = 100_000

    @Option(help: "Accepted |ratio − 1|.")
    var tolerance: Double = 0.05

    @Option(help: "CPU to pin both to (default: the first allowed).")
    var cpu: Int?

    @Option(help: "Path of the perf binary (default: found on PATH).")
    var perf: String?

    func run() throws {
        guard (1...100).contains(rounds) else { throw SwitchBenchError.usage("--rounds \(rounds) is out of range; expected 1 to 100") }
        guard loops >= 1000 else { throw SwitchBenchError.usage("--loops \(loops) is too small; expected at least 1000") }
        guard let perfPath = perf ?? Validate.which("perf") else {
            throw SwitchBenchError.usage("perf not found on PATH; install it (Debian: apt-get install linux-perf) or pass --perf PATH")
        }
        guard FileManager.default.isExecutableFile(atPath: perfPath) else {
            throw SwitchBenchError.usage("--perf '\(perfPath)' is not an executable file")
        }
        let allowed = Affinity.current()
        let pin = cpu ?? allowed[0]
        guard allowed.contains(pin) else {
            throw SwitchBenchError.usage("CPU \(pin) is not allowed for this process; allowed: \(CPUList.format(allowed))")
        }
        var options = RunOptions()
        options.mechanisms = ["pipe"]
        options.placements = [.sameCPU]
        options.cpus = [pin]
        let context = RunContext(options: options, environment: Environment.read())

        var ours: [String: [Double]] = ["process": [], "thread": []]
        var theirs: [String: [Double]] = ["process": [], "thread": []]
        let err = FileHandle.standardError
        for round in 1...rounds {
            for kind in [TaskKind.process, .thread] {
                let h = TokenRingHarness(kind: kind)
                let spec = h.plan(options)[0]
                let rows = try h.run(spec, context: context)
                guard let rt = rows.first(where: { $0.metric == "round_trip" }), let m = rt.stats?.median else {
                    throw SwitchBenchError.caseFailed("no round trip measured for \(kind.rawValue)")
                }
                ours[kind.rawValue]!.append(m)
                let p = try Affinity.pinned([pin]) {
                    try Validate.perfPipe(perfPath, loops: loops, threads: kind == .thread)
                }
                theirs[kind.rawValue]!.append(p)
                err.write(Data(String(format: "round %d/%d %@: switchbench %.0f ns, perf %.0f ns\n",
                                      round, rounds, kind.rawValue, m, p).utf8))
            }
        }
        // perf -T calls glibc's read/write in a multi-threaded process: cancellation points, with
        // bookkeeping around the system call that our plain system calls skip. Measure that difference
        // here (this process has had threads by now), per write+read, on the same CPU.
        let wrapper = try Affinity.pinned([pin]) { try Validate.glibcWrapperCost(config: .quick) }
        var t = MarkdownTable(["tasks", "switchbench round trip (median)", "perf bench sched pipe (median)", "ratio", "agree"])
        var allAgree = true
        for kind in ["process", "thread"] {
            let a = Statistics(ours[kind]!).median, b = Statistics(theirs[kind]!).median
            let r = a / b
            if kind == "process" {
                let ok = abs(r - 1) <= tolerance
                allAgree = allAgree && ok
                t.add([kind, humanTime(a), humanTime(b), String(format: "%.3f", r), ok ? "yes" : "**no**"])
            } else {
                // Each side of the ping-pong does one write+read per round trip: two wrapper costs.
                let adjusted = a + 2 * wrapper
                let ra = adjusted / b
                let ok = abs(ra - 1) <= tolerance
                allAgree = allAgree && ok
                t.add([kind, humanTime(a), humanTime(b) + " (-T)", String(format: "%.3f", r), "(see next row)"])
                t.add(["thread + 2 × glibc wrapper cost (\(humanTime(wrapper)))", humanTime(adjusted), humanTime(b) + " (-T)",
                       String(format: "%.3f", ra), ok ? "yes" : "**no**"])
            }
        }
        print("## switchbench vs perf bench sched pipe, same CPU (\(pin)), \(rounds) interleaved rounds\n")
        print(t.text)
        print("""

        Both sides time a one-byte ping-pong over two pipes between two tasks pinned to CPU \(pin). \
        switchbench calls read/write as plain system calls in both rows; `perf bench sched pipe -T` uses glibc's \
        wrappers in a multi-threaded process, where they are cancellation points with extra bookkeeping around \
        the system call. That cost was measured here (glibc write+read minus plain write+read on one pipe, one \
        task, same CPU) and added back for the thread comparison, which is the one judged. \
        `perf bench sched pipe` without -T runs in single-threaded processes, whose wrappers skip that path.
        """)
        print(EnvironmentText.line(context.environment, lang: .en))
        if !allAgree { throw ExitCode(1) }
    }

    /// ns per write+read of one byte on one pipe through glibc's wrappers minus through plain system
    /// calls, in this (multi-threaded) process; medians of interleaved samples.
    static func glibcWrapperCost(config: SamplerConfig) throws -> Double {
        var p: [Int32] = [0, 0]
        guard pipe(&p) == 0 else { throw SwitchBenchError.caseFailed("pipe() failed") }
        defer { close(p[0]); close(p[1]) }
        let r = p[0], w = p[1]
        var byte: UInt8 = 0
        var glibc: [Double] = [], raw: [Double] = []
        for _ in 0..<3 {
            glibc += try Sampler.run(config) { k in
                for _ in 0..<k { guard write(w, &byte, 1) == 1, read(r, &byte, 1) == 1 else { throw SwitchBenchError.caseFailed("pipe I/O failed") } }
            }.perOp
            raw += try Sampler.run(config) { k in
                for _ in 0..<k { guard sb_sys_write(w, &byte, 1) == 1,
                                sb_sys_read(r, &byte, 1) == 1 else { throw SwitchBenchError.caseFailed("pipe I/O failed") } }
            }.perOp
        }
        return Statistics(glibc).median - Statistics(raw).median
    }

    static func which(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    /// Runs `perf bench sched pipe [-T] -l loops` and returns its round trip in ns (its usecs/op).
    static func perfPipe(_ perf: String, loops: Int, threads: Bool) throws -> Double {
        let args = [perf, "bench", "sched", "pipe", "-l", String(loops)] + (threads ? ["-T"] : [])
        guard let r = Subprocess.run(args) else {
            throw SwitchBenchError.caseFailed("could not start \(perf)")
        }
        guard r.status == 0,
              let line = r.output.split(separator: "\n").first(where: { $0.contains("usecs/op") }),
              let us = Double(line.split(separator: " ").first ?? "") else {
            throw SwitchBenchError.caseFailed("perf bench sched pipe failed (status \(r.status)): \(r.output.prefix(200))")
        }
        return us * 1000
    }
}
