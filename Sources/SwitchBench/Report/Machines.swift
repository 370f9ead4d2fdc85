import Foundation

// Machines side by side (`switchbench report A B …`): one column per run, each headed by the
// machine's fingerprint. Everything the side-by-side report shows comes through `MachineColumn`
// (verdicts, switchCosts here; a harness's own values, e.g. the tlb harness's reach, in an extension
// beside it), which reads the typed facts the harnesses and claims already expose; the Markdown is in
// MachinesMarkdown.swift and each harness's `machinesSection`.

/// What the column header shows of a run's machine. Host names are not part of it: machines are often
/// all called `vm` or `localhost`. Whether two runs are the same machine is `Environment.sameMachine`
/// (`Environment.machineColumns`: compare's rule); kernel, PCID and THP are shown, not used for that.
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

    /// Whether the run has any row of the harness (`MachineCell.notMeasured` when not).
    public func ran(_ harness: String) -> Bool { run.records.contains { $0.harness == harness } }

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
            let key = (["run_id", "kernel", "pcid", "thp"] + Environment.machineColumns).map { f[$0] ?? "" }
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
