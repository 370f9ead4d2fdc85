import Foundation

// Machines side by side (`switchbench report A B …`): one column per run, each headed by the
// machine's fingerprint. Everything the side-by-side report shows comes through `MachineColumn`
// (verdicts, switchCosts, tlbReach, hugePageVerdict, creationCosts): the one place that reads a
// run's rows for it. The Markdown is in MachinesMarkdown.swift and reads only these typed values.

/// What tells one machine from another. Host names are not part of it: machines are often all
/// called `vm` or `localhost`.
public struct MachineFingerprint: Hashable, Sendable {
    public var cpuModel: String
    /// Online CPUs, taskset style ("0-15"); empty when the run did not record them (CSVs written
    /// before the `online_cpus` column).
    public var onlineCPUs: String
    public var virtualization: String
    public var kernel: String
    public var pcid: Bool
    public var thp: String

    public init(_ e: Environment) {
        cpuModel = e.cpuModel
        onlineCPUs = e.onlineCPUs
        virtualization = e.virtualization
        kernel = e.kernel
        pcid = e.pcid
        thp = e.thp
    }

    /// How many CPUs were online, when recorded and readable.
    public var onlineCount: Int? {
        onlineCPUs.isEmpty ? nil : (try? CPUList.parse(onlineCPUs)).map(\.count)
    }
}

/// One cell of the report: the harness did not run at all (`notMeasured`), it ran but has no such
/// row (`missing`), or a value.
public enum MachineCell<Value> {
    case notMeasured
    case missing
    case value(Value)

    public var value: Value? {
        if case .value(let v) = self { return v }
        return nil
    }
}

extension MachineCell: Equatable where Value: Equatable {}
extension MachineCell: Sendable where Value: Sendable {}

/// A timed row reduced to what a side-by-side cell shows.
public struct MachineTiming: Equatable, Sendable {
    public var median: Double
    public var valid: Bool
    /// CV above 10 % (`Statistics.isNoisy`).
    public var noisy: Bool

    public init?(_ r: Record?) {
        guard let r, let s = r.stats else { return nil }
        median = s.median
        valid = r.valid
        noisy = s.isNoisy
    }
}

/// The rows of the "switch cost by kind" comparison: same-cpu medians per switch (system call: per call),
/// the rows of the single-run table of that name.
public enum MachineSwitchKind: String, CaseIterable, Sendable {
    case syscall, coroutineAsm, coroutineGenerator, ucontext, swiftTask, swiftTaskYield
    case threadFutex, threadPipe, processFutex, processPipe

    /// (harness, mechanism, metric, tasks) of the row, same CPU.
    var row: (harness: String, mechanism: String, metric: String, tasks: Int?) {
        switch self {
        case .syscall: return ("syscall", "getppid", "per_call", nil)
        case .coroutineAsm: return ("coroutine", "asm", "per_switch", nil)
        case .coroutineGenerator: return ("coroutine", "asm-generator", "per_switch", nil)
        case .ucontext: return ("coroutine", "ucontext", "per_switch", nil)
        case .swiftTask: return ("coroutine", "swift-task", "per_switch", nil)
        case .swiftTaskYield: return ("coroutine", "swift-task-yield", "per_switch", nil)
        case .threadFutex: return ("thread", "futex", "per_switch", 2)
        case .threadPipe: return ("thread", "pipe", "per_switch", 2)
        case .processFutex: return ("process", "futex", "per_switch", 2)
        case .processPipe: return ("process", "pipe", "per_switch", 2)
        }
    }
}

/// One knee of the tlb sweep: the reach (pages, 4 KiB-strided) and the extra ns per access past it.
public struct MachineTLBLevel: Equatable, Sendable {
    public var pages: Double
    public var extraNs: Double?
    public var bytes: Double { pages * 4096 }
}

/// The knees of the 4 KiB and 2 MiB curves, by level (1 = L1 dTLB, 2 = STLB, 3… page walks slowing).
public struct MachineTLBReach: Equatable, Sendable {
    public var small: [Int: MachineTLBLevel]
    public var huge: [Int: MachineTLBLevel]
    public var levels: Int { max(small.keys.max() ?? 0, huge.keys.max() ?? 0) }
}

/// The 2 MiB outcome, from the numbers alone: the `huge_page_reach_ratio` row (first-level reach of the
/// 2 MiB curve ÷ that of the 4 KiB curve) and whether the 2 MiB curve had a first knee at all.
/// Whether the huge pages were granted is not in the CSV's numbers, so `.notGranted` does not come up here.
public struct MachineHugePages: Equatable, Sendable {
    public var outcome: TLBAnalysis.HugeOutcome
    /// nil when the 4 KiB curve had no first knee.
    public var ratio: Double?
    /// The 2 MiB curve had no knee in the sweep: `ratio` is a lower bound.
    public var lowerBound: Bool
}

/// One column of the side-by-side report: one run of one machine.
public struct MachineColumn: Sendable {
    public var run: RunResult
    /// The path it was read from (for the reader; not used to tell machines apart).
    public var source: String
    public var fingerprint: MachineFingerprint

    public init(run: RunResult, source: String = "") {
        self.run = run
        self.source = source
        fingerprint = MachineFingerprint(run.environment)
    }

    func ran(_ harness: String) -> Bool { run.records.contains { $0.harness == harness } }

    // MARK: the five kinds of fact

    /// C1–C7 as `Claims.evaluate` judges them; `.notMeasured` when the claim had no evidence row.
    public var verdicts: [(id: String, verdict: MachineCell<Claims.Verdict>)] {
        Claims.evaluate(run).map { c in (c.id, c.evidence.isEmpty && c.verdict == .inconclusive ? .notMeasured : .value(c.verdict)) }
    }

    /// Same-cpu median per switch (per call for the system call) of each kind.
    public var switchCosts: [(kind: MachineSwitchKind, cost: MachineCell<MachineTiming>)] {
        MachineSwitchKind.allCases.map { ($0, switchCost($0)) }
    }

    public func switchCost(_ kind: MachineSwitchKind) -> MachineCell<MachineTiming> {
        let k = kind.row
        guard ran(k.harness) else { return .notMeasured }
        return MachineTiming(run.find(k.harness, k.mechanism, Placement.sameCPU.rawValue, metric: k.metric, tasks: k.tasks))
            .map { .value($0) } ?? .missing
    }

    /// The tlb harness's `reach_l<i>_pages` and `miss_l<i>_extra_ns` rows of the 4k and 2m curves.
    public var tlbReach: MachineCell<MachineTLBReach> {
        guard ran("tlb") else { return .notMeasured }
        func levels(_ variant: String) -> [Int: MachineTLBLevel] {
            var out: [Int: MachineTLBLevel] = [:]
            for r in run.records(harness: "tlb") where r.mechanism == variant {
                guard let level = Self.level(r.metric, prefix: "reach_l", suffix: "_pages"), let pages = r.stats?.median else { continue }
                let extra = run.records.first {
                    $0.harness == "tlb" && $0.mechanism == variant && $0.metric == "miss_l\(level)_extra_ns"
                }?.stats?.median
                out[level] = MachineTLBLevel(pages: pages, extraNs: extra)
            }
            return out
        }
        let reach = MachineTLBReach(small: levels("4k"), huge: levels("2m"))
        return reach.levels == 0 ? .missing : .value(reach)
    }

    /// The level number of "reach_l2_pages" → 2.
    static func level(_ metric: String, prefix: String, suffix: String) -> Int? {
        guard metric.hasPrefix(prefix), metric.hasSuffix(suffix) else { return nil }
        return Int(metric.dropFirst(prefix.count).dropLast(suffix.count))
    }

    /// From the numeric `huge_page_reach_ratio` row, judged by the tlb harness's own rule
    /// (`TLBAnalysis.hugeOutcome`, called with the two first-level reaches, not copied).
    public var hugePageVerdict: MachineCell<MachineHugePages> {
        guard ran("tlb") else { return .notMeasured }
        let tlb = run.records(harness: "tlb")
        guard let row = tlb.first(where: { $0.metric == "huge_page_reach_ratio" }) else { return .missing }
        guard let ratio = row.stats?.median, ratio.isFinite, ratio > 0 else {
            return .value(MachineHugePages(outcome: .unknown, ratio: nil, lowerBound: false))
        }
        let twoMKnee = tlb.contains { $0.mechanism == "2m" && $0.metric == "reach_l1_pages" && $0.stats != nil }
        func knee(_ x: Double) -> Knee { Knee(lastBelow: x, firstAbove: x, lower: 0, upper: 0) }
        let outcome = TLBAnalysis.hugeOutcome(granted: true, knees4k: [knee(1)], knees2m: twoMKnee ? [knee(ratio)] : [])
        return .value(MachineHugePages(outcome: outcome, ratio: ratio, lowerBound: !twoMKnee))
    }

    /// The create harness's `create_cleanup` rows, by mechanism in run order.
    public var creationCosts: MachineCell<[(mechanism: String, cost: MachineTiming)]> {
        guard ran("create") else { return .notMeasured }
        return .value(run.records(harness: "create").filter { $0.metric == "create_cleanup" }
            .compactMap { r in MachineTiming(r).map { (r.mechanism, $0) } })
    }
}

/// Reading runs for the side-by-side report: each path is a run directory or a CSV; a CSV may hold
/// several runs (files concatenated, header lines repeated, or rows of several runs under one header).
public enum MachineRuns {
    /// The runs a path holds, in order of first appearance.
    public static func load(_ path: String) throws -> [RunResult] {
        let file = try RunLoader.csvPath(path)
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw SwitchBenchError.usage("cannot read '\(file)': not a readable UTF-8 file")
        }
        return try parse(text, source: file)
    }

    /// Rows grouped by run_id (and fingerprint, so two machines that started a run in the same second
    /// with the same host name still come apart). Throws `.usage` like `RunLoader.parse`.
    public static func parse(_ text: String, source: String) throws -> [RunResult] {
        var rows: [(record: Record, fields: [String: String])] = []
        for segment in try segments(text) {
            do {
                rows += try CSVExporter.read(segment, source: source)
            } catch SwitchBenchError.usage(let m) where !m.contains(source) {
                throw SwitchBenchError.usage("\(source): \(m)")
            }
        }
        guard !rows.isEmpty else { throw SwitchBenchError.usage("\(source) has a header but no rows: nothing was measured") }
        var order: [[String]] = []
        var groups: [[String]: [(record: Record, fields: [String: String])]] = [:]
        for row in rows {
            let f = row.fields
            let key = ["run_id", "cpu_model", "kernel", "virtualization", "pcid", "thp", "online_cpus"].map { f[$0] ?? "" }
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(row)
        }
        return order.map { key in
            let group = groups[key]!
            let first = group[0].fields
            var env = RunLoader.environment(from: first)
            if env.onlineCPUs.isEmpty { env.onlineCPUs = first["online_cpus"] ?? "" }
            return RunResult(runID: first["run_id"] ?? "", timestampUTC: first["timestamp_utc"] ?? "",
                             environment: env, records: group.map(\.record))
        }
    }

    /// The text as is when every header line is the same; otherwise one piece per header (files written
    /// by different versions, with and without the appended columns, concatenated).
    static func segments(_ text: String) throws -> [String] {
        let rows = try CSV.parse(text)
        let headers = rows.indices.filter { Set(rows[$0]).isSuperset(of: CSVExporter.contractColumns) }
        guard headers.first == 0, Set(headers.map { rows[$0] }).count > 1 else { return [text] }
        var out: [String] = []
        for (n, start) in headers.enumerated() {
            let end = n + 1 < headers.count ? headers[n + 1] : rows.count
            out.append(rows[start..<end].map(CSV.line).joined(separator: "\n") + "\n")
        }
        return out
    }
}
