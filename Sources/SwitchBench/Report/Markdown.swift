import Foundation

/// Human units for a duration in nanoseconds: "3.2 ns", "412 ns", "2.91 µs", "20.1 ms".
public func humanTime(_ ns: Double?) -> String {
    guard let ns, ns.isFinite else { return "n/a" }
    let a = abs(ns)
    switch a {
    case ..<10: return String(format: "%.2f ns", ns)
    case ..<1000: return String(format: "%.1f ns", ns)
    case ..<1_000_000: return String(format: "%.2f µs", ns / 1e3)
    case ..<1_000_000_000: return String(format: "%.2f ms", ns / 1e6)
    default: return String(format: "%.2f s", ns / 1e9)
    }
}

/// A Markdown table builder: header, rows, pipes escaped.
public struct MarkdownTable {
    public var header: [String]
    public var rows: [[String]] = []
    public init(_ header: [String]) { self.header = header }
    public mutating func add(_ row: [String]) { rows.append(row) }
    public var text: String {
        func line(_ cells: [String]) -> String {
            "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |"
        }
        return ([line(header), line(header.map { _ in "---" })] + rows.map(line)).joined(separator: "\n")
    }
}

/// The Markdown exporter: tables a course note can paste, each with the environment under it.
/// Sections are functions of the run; one returns nil when its harness did not run.
public enum MarkdownExporter {
    public typealias Section = @Sendable (RunResult) -> String?

    /// In report order. A harness adds its section here.
    public static let sections: [Section] = [
        processVsThread,
        syscalls,
        switchCostByKind,
        creationCosts,
        blockingResult,
        tlbSweep,
        pollution,
        plots,
        allRows,
    ]

    public static func render(_ run: RunResult) -> String {
        var parts = ["# switchbench results", "Run `\(run.runID)` at \(run.timestampUTC)."]
        if !run.failures.isEmpty {
            parts.append("**Failed cases:**\n" + run.failures.map { "- \($0)" }.joined(separator: "\n"))
        }
        if !run.skipped.isEmpty { parts.append(run.skipped.map { "_Not measured: \($0)._" }.joined(separator: "\n")) }
        parts += sections.compactMap { $0(run) }
        return parts.joined(separator: "\n\n") + "\n"
    }

    public static func environmentLine(_ run: RunResult) -> String {
        "_Environment: \(run.environment.oneLine)._"
    }

    static func median(_ r: Record?) -> Double? { r?.stats?.median }

    static func ratio(_ a: Double?, _ b: Double?) -> String {
        guard let a, let b, b > 0 else { return "n/a" }
        return String(format: "%.2f×", a / b)
    }

    static func validity(_ rs: [Record?]) -> String {
        let present = rs.compactMap { $0 }
        if present.isEmpty { return "n/a" }
        let bad = present.filter { !$0.valid }
        return bad.isEmpty ? "yes" : "**no**: " + bad.map { "\($0.harness): " + $0.note.split(separator: ";").filter { $0.contains("invalid") }.joined(separator: ";") }.joined(separator: "; ")
    }

    static func spo(_ r: Record?) -> String {
        guard let v = r?.switchesPerOp else { return "n/a" }
        return String(format: "%.2f", v)
    }

    /// Claim C1: the same ring with processes and with threads, side by side.
    static let processVsThread: Section = { run in
        let procs = run.records(harness: "process").filter { $0.metric == "round_trip" }
        let threads = run.records(harness: "thread").filter { $0.metric == "round_trip" }
        guard !procs.isEmpty || !threads.isEmpty else { return nil }
        var t = MarkdownTable(["mechanism", "placement", "tasks", "footprint", "process round trip", "thread round trip",
                               "process / switch", "thread / switch", "process ÷ thread", "process net", "thread net",
                               "switches / round trip (p, t)", "valid"])
        var keys: [(String, String, String, Int, Int)] = []
        for r in procs + threads where !keys.contains(where: { $0 == (r.mechanism, r.placement, r.cpus, r.tasks, r.footprintBytes) }) {
            keys.append((r.mechanism, r.placement, r.cpus, r.tasks, r.footprintBytes))
        }
        for (m, p, cpus, n, f) in keys {
            func get(_ h: String, _ metric: String) -> Record? {
                run.records.first { $0.harness == h && $0.mechanism == m && $0.placement == p && $0.cpus == cpus && $0.tasks == n && $0.footprintBytes == f && $0.metric == metric }
            }
            let pr = get("process", "round_trip"), tr = get("thread", "round_trip")
            let ps = get("process", "per_switch"), ts = get("thread", "per_switch")
            let pn = get("process", "net_switch"), tn = get("thread", "net_switch")
            t.add([m, p == "cross-cpu" ? "cross-cpu (CPUs \(cpus))" : p, String(n), f == 0 ? "0" : "\(f) B", humanTime(median(pr)), humanTime(median(tr)),
                   humanTime(median(ps)), humanTime(median(ts)), ratio(median(ps), median(ts)),
                   humanTime(median(pn)), humanTime(median(tn)), "\(spo(pr)), \(spo(tr))", validity([pr, tr])])
        }
        return """
        ## Process vs thread switch (claim C1)

        One round trip passes a token through every task once (two tasks: there and back). On one CPU
        (`same-cpu`) each hand-off is a context switch, so per switch = round trip ÷ tasks; *net* also subtracts
        the cost of the same IPC in one task with no switch. The difference between the process and thread
        columns is what changing the address space adds. `switches / round trip` is the kernel's own count.
        On `cross-cpu` rows no task waits for another's CPU: each hand-off wakes an idle CPU, so those
        numbers are cross-CPU wake-up latency (in a VM: waking a halted virtual CPU), not switch cost.

        \(t.text)

        \(environmentLine(run))
        """
    }

    /// Claim C7: the privilege switch alone.
    static let syscalls: Section = { run in
        let rows = run.records(harness: "syscall")
        guard !rows.isEmpty else { return nil }
        var t = MarkdownTable(["call", "per call", "95 % CI", "kernel switches / call", "what it does"])
        for r in rows {
            t.add([r.mechanism, humanTime(median(r)),
                   "\(humanTime(r.stats?.ci95Low)) – \(humanTime(r.stats?.ci95High))",
                   r.switchesPerOp.map { String(format: "%.4f", $0) } ?? "n/a", r.note])
        }
        return """
        ## System call: the privilege switch alone (claim C7)

        \(t.text)

        \(environmentLine(run))
        """
    }

    /// The SVG plots written beside this file (RunWriter writes exactly these), by relative path.
    static let plots: Section = { run in
        let files = SVGPlots.files(for: run)
        guard !files.isEmpty else { return nil }
        return "## Plots\n\n" + files.map { "![\($0.title)](\($0.name))" }.joined(separator: "\n\n")
    }

    /// Every row, for the record — but the points of a sweep (rows with a working set), which have
    /// their own section and are all in results.csv.
    static let allRows: Section = { run in
        let sweepPoints = run.records.filter { $0.workingSetPages != nil }.count
        let rows = run.records.filter { $0.workingSetPages == nil }
        guard !rows.isEmpty else { return nil }
        var t = MarkdownTable(["harness", "mechanism", "placement", "cpus", "tasks", "footprint", "metric", "median",
                               "95 % CI", "CV", "switches/op", "valid", "note"])
        for r in rows {
            let value: String
            let ci: String
            if r.unit == "ns" {
                value = humanTime(r.stats?.median)
                ci = r.stats.map { "\(humanTime($0.ci95Low)) – \(humanTime($0.ci95High))" } ?? ""
            } else {
                value = r.stats.map { String(format: "%.3f %@", $0.median, r.unit) } ?? ""
                ci = r.stats.map { String(format: "%.3f – %.3f", $0.ci95Low, $0.ci95High) } ?? ""
            }
            t.add([r.harness, r.mechanism, r.placement, r.cpus.isEmpty ? "–" : r.cpus, String(r.tasks),
                   String(r.footprintBytes), r.metric, value, ci,
                   r.stats.map { String(format: "%.1f %%", $0.cv * 100) } ?? "",
                   r.switchesPerOp.map { String(format: "%.2f", $0) } ?? "", r.valid ? "yes" : "**no**", r.note])
        }
        let omitted = sweepPoints > 0 ? "\n\n\(sweepPoints) sweep points (rows with a working set) are left out here; results.csv has every row." : ""
        return """
        ## All rows

        \(t.text)\(omitted)

        \(environmentLine(run))
        """
    }
}
