import Foundation

// Machines side by side (`switchbench report A B …`): one column per run, each headed by the
// machine's fingerprint. Everything the side-by-side report shows comes through `MachineColumn`
// (verdicts, switchCosts, tlbReach, hugePages, creationCosts, zombie), which reads the typed facts
// the harnesses and claims already expose; the Markdown is in MachinesMarkdown.swift.

/// What the column header shows of a run's machine. Host names are not part of it: machines are often
/// all called `vm` or `localhost`. Whether two runs are the same machine is `Environment.sameMachine`
/// (CPU model, online CPUs, virtualization: compare's rule); kernel, PCID and THP are shown, not used for that.
public struct MachineFingerprint: Hashable, Sendable {
    public var cpuModel: String
    /// nil when the run did not record it (CSVs written before the `online_cpus` column).
    public var onlineCount: Int?
    public var virtualization: String
    public var kernel: String
    public var pcid: Bool
    public var thp: String

    public init(_ e: Environment) {
        cpuModel = e.cpuModel
        onlineCount = e.onlineCount
        virtualization = e.virtualization
        kernel = e.kernel
        pcid = e.pcid
        thp = e.thp
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

/// The 2 MiB outcome as the tlb harness recorded it (`TLBAnalysis.HugeOutcome.of`: its `outcome` fact,
/// or for an older CSV its rule applied to the ratio) and whether the kernel granted the huge pages
/// (`HugeGrant.of`, nil in older CSVs).
public struct MachineHugePages: Equatable, Sendable {
    public var outcome: TLBAnalysis.HugeOutcome
    public var grant: HugeGrant?
    /// The `huge_page_reach_ratio` row's value; nil when the row has none.
    public var ratio: Double?
    /// The 2 MiB curve had no knee in the sweep: `ratio` is a lower bound.
    public var lowerBound: Bool
}

/// An exec row of the create harness with the program it exec'ed (nil when not recorded).
public struct MachineCreation: Equatable, Sendable {
    public var mechanism: String
    public var cost: MachineTiming
    public var program: ExecProgram?
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

    /// Every claim the registered harnesses judge (`Claims.verdicts`), in id order.
    public var verdicts: [Claims.Outcome] { Claims.verdicts(run) }

    /// Same-cpu median per switch (per call for the system call) of each kind.
    public var switchCosts: [(kind: SwitchKind, cost: MachineCell<MachineTiming>)] {
        SwitchKind.allCases.map { ($0, switchCost($0)) }
    }

    public func switchCost(_ kind: SwitchKind) -> MachineCell<MachineTiming> {
        guard ran(kind.harness) else { return .notMeasured }
        return MachineTiming(kind.row(run)).map { .value($0) } ?? .missing
    }

    /// The tlb harness's `reach_l<i>_pages` and `miss_l<i>_extra_ns` fact rows of the 4k and 2m curves.
    public var tlbReach: MachineCell<MachineTLBReach> {
        guard ran("tlb") else { return .notMeasured }
        let rows = run.records(harness: "tlb")
        func levels(_ variant: String) -> [Int: MachineTLBLevel] {
            var out: [Int: MachineTLBLevel] = [:]
            var level = 1
            while let r = rows.first(where: { $0.mechanism == variant && $0.metric == "reach_l\(level)_pages" }) {
                if let pages = r.stats?.median {
                    let extra = rows.first { $0.mechanism == variant && $0.metric == "miss_l\(level)_extra_ns" }?.stats?.median
                    out[level] = MachineTLBLevel(pages: pages, extraNs: extra)
                }
                level += 1
            }
            return out
        }
        let reach = MachineTLBReach(small: levels("4k"), huge: levels("2m"))
        return reach.levels == 0 ? .missing : .value(reach)
    }

    /// The harness's own 2 MiB verdict and grant; `.missing` when the run has no `huge_page_reach_ratio` row.
    public var hugePages: MachineCell<MachineHugePages> {
        guard ran("tlb") else { return .notMeasured }
        guard let outcome = TLBAnalysis.HugeOutcome.of(run) else {
            // smaps unreadable: the harness judged nothing, but says why
            return HugeGrant.of(run) == .unverified ? .value(MachineHugePages(outcome: .unknown, grant: .unverified, ratio: nil, lowerBound: false)) : .missing
        }
        let tlb = run.records(harness: "tlb")
        let ratio = tlb.first { $0.metric == "huge_page_reach_ratio" }?.stats?.median
        let twoMKnee = tlb.contains { $0.mechanism == "2m" && $0.metric == "reach_l1_pages" && $0.stats != nil }
        return .value(MachineHugePages(outcome: outcome, grant: HugeGrant.of(run), ratio: ratio, lowerBound: !twoMKnee))
    }

    /// The create harness's `create_cleanup` rows, by mechanism in run order, with the program the exec rows ran.
    public var creationCosts: MachineCell<[MachineCreation]> {
        guard ran("create") else { return .notMeasured }
        return .value(run.records(harness: "create").filter { $0.metric == "create_cleanup" && $0.footprintBytes == 0 }
            .compactMap { r in MachineTiming(r).map { MachineCreation(mechanism: r.mechanism, cost: $0, program: ExecProgram.of(r)) } })
    }

    /// The zombie check (create harness); `.missing` when create ran without it or the CSV does not hold it.
    public var zombie: MachineCell<(fact: ZombieFact, valid: Bool)> {
        guard ran("create") else { return .notMeasured }
        guard let r = ZombieFact.row(run), let z = ZombieFact.from(r) else { return .missing }
        return .value((z, r.valid))
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
            return RunResult(runID: first["run_id"] ?? "", timestampUTC: first["timestamp_utc"] ?? "",
                             environment: RunLoader.environment(from: first), records: group.map(\.record))
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
