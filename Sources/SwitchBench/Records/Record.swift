/// Where the tasks of a case run.
public enum Placement: String, Sendable, CaseIterable, Codable {
    /// Every task pinned to one CPU: each hand-off is a real context switch.
    case sameCPU = "same-cpu"
    /// Tasks pinned to distinct CPUs chosen from the topology.
    case crossCPU = "cross-cpu"
    /// Affinity left to the scheduler.
    case unpinned

    /// Distinct CPUs the placement needs to mean what its name says: cross-cpu needs two.
    public var minimumCPUs: Int { self == .crossCPU ? 2 : 1 }
}

/// One measured case and metric: one CSV row. Plain values; harnesses make them, exporters print them.
/// The key of a case (`CaseKey`) is every field from `harness` to `metric`.
public struct Record: Sendable, Equatable, Codable {
    /// What was measured: harness, mechanism, placement, CPUs, tasks, footprint, page size, working set, metric.
    public var key: CaseKey
    public var harness: String { get { key.harness } set { key.harness = newValue } }
    public var mechanism: String { get { key.mechanism } set { key.mechanism = newValue } }
    public var placement: String { get { key.placement } set { key.placement = newValue } }
    /// CPUs the tasks were pinned to, taskset style ("0" or "0,1"); empty when unpinned.
    public var cpus: [Int] { get { key.cpus } set { key.cpus = Array(Set(newValue)).sorted() } }
    public var tasks: Int { get { key.tasks } set { key.tasks = newValue } }
    public var footprintBytes: Int { get { key.footprintBytes } set { key.footprintBytes = newValue } }
    public var pageSizeBytes: Int? { get { key.pageSizeBytes } set { key.pageSizeBytes = newValue } }
    public var workingSetPages: Int? { get { key.workingSetPages } set { key.workingSetPages = newValue } }
    public var parameters: [CaseParameter] { get { key.parameters } set { key.parameters = newValue.sorted() } }
    public var metric: String { get { key.metric } set { key.metric = newValue } }
    /// The value of the case parameter `name` (`CaseParameter`), nil when the row has none.
    public func parameter(_ name: CaseParameter.Name) -> Int? { key.parameters[name] }
    public var unit: String
    public var samples: Int
    public var opsPerSample: Int
    /// nil when the metric is not a timing (a fact or a count row may leave them empty).
    public var stats: Statistics?
    /// Kernel-counted context switches of all participating tasks per op (the case's op:
    /// one round trip, one ring lap, one call), nil when not counted.
    public var switchesPerOp: Double?
    /// What switchesPerOp should be for the row to be valid.
    public var expectedSwitchesPerOp: Double?
    public var valid: Bool
    /// Why a row is invalid, `noisy`, what was subtracted, …; "; "-separated.
    public var note: String
    /// The per-op sample values (ns), kept so `compare` can run a rank test.
    public var sampleValues: [Double]
    /// Where switchesPerOp came from (perf-sw-context-switches, proc-status, none).
    public var counterSource: String
    /// CPUs each task was seen on by sched_getcpu() (task order, "/" between first and last look when they differ).
    public var cpusSeen: String
    /// Facts that are not this row's number, as typed values a harness writes and reads back
    /// (the zombie's state, the pollution answer, the NUMA binding, …): the `facts` CSV column,
    /// `key=value` pairs joined by ";" in key order. nil: none (and every row of an old CSV).
    /// Reports read them only through the owning harness's typed accessors, never through `note`.
    public var facts: [String: String]?
    /// Timed samples taken again because they were preempted (docs/busy-machines.md); nil when the
    /// row's samples were not checked (facts, counts, rows whose tasks wait on purpose, old CSVs).
    public var samplesRetaken: Int?
    /// Median, over every timed sample taken for the row (kept and retaken), of the share of the
    /// sample's window in which none of the row's tasks ran (wall − their CPU time) / wall; nil where
    /// that difference is not stolen time (tasks that wait on purpose) or not measured.
    public var stolenFraction: Double?
    /// How much of the machine other tasks used while the case ran, 0–1 (`Neighbours.Shares.busy`: the
    /// larger of the other CPUs' mean busy share and the share of the row's own CPUs not used by this
    /// suite); nil when not measured (a case under 0.1 s, old CSVs).
    public var neighbourBusy: Double?
    /// Per hand-off latency distribution (the ring's `hand_off_*` rows: percentiles with counts and
    /// intervals, histogram, the tail's causes); nil for every other row and old CSVs.
    public var latency: LatencySummary?

    public init(harness: String, mechanism: String, placement: String, cpus: [Int], tasks: Int,
                footprintBytes: Int = 0, pageSizeBytes: Int? = nil, workingSetPages: Int? = nil,
                parameters: [CaseParameter] = [], metric: String, unit: String = "ns", samples: [Double], opsPerSample: Int,
                switchesPerOp: Double? = nil, expectedSwitchesPerOp: Double? = nil,
                valid: Bool = true, note: String = "", counterSource: String = "", cpusSeen: String = "",
                flagNoisy: Bool = true) {
        self.key = CaseKey(harness: harness, mechanism: mechanism, placement: placement, cpus: cpus, tasks: tasks,
                           footprintBytes: footprintBytes, pageSizeBytes: pageSizeBytes,
                           workingSetPages: workingSetPages, parameters: parameters, metric: metric)
        (self.unit, self.samples, self.opsPerSample, self.sampleValues) = (unit, samples.count, opsPerSample, samples)
        self.stats = samples.isEmpty ? nil : Statistics(samples)
        (self.switchesPerOp, self.expectedSwitchesPerOp) = (switchesPerOp, expectedSwitchesPerOp)
        (self.valid, self.note, self.counterSource, self.cpusSeen) = (valid, note, counterSource, cpusSeen)
        // flagNoisy: false for values whose mean is near zero (a difference), where the CV says nothing.
        if flagNoisy, let s = stats, s.isNoisy { addNote("noisy (CV \(String(format: "%.1f", s.cv * 100)) %)") }
    }

    public mutating func addNote(_ text: String) {
        note = note.isEmpty ? text : note + "; " + text
    }

    public mutating func invalidate(_ reason: String) {
        valid = false
        addNote("invalid: " + reason)
    }

    /// One fact of this row, nil when not recorded.
    public func fact(_ key: String) -> String? { facts?[key] }

    /// A numeric fact, nil when not recorded or not a number.
    public func factNumber(_ key: String) -> Double? { fact(key).flatMap(Double.init) }

    public mutating func setFact(_ key: String, _ value: String) {
        var f = facts ?? [:]
        f[key] = value
        facts = f
    }

    public mutating func setFact(_ key: String, _ value: Double) { setFact(key, String(format: "%.6g", value)) }

    /// The `facts` column's text: "k=v;k=v" in key order (keys and values hold no ";" or "=").
    public var factsText: String {
        (facts ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ";")
    }

    /// Parses the `facts` column; nil for an empty cell.
    public static func parseFacts(_ text: String) -> [String: String]? {
        var d: [String: String] = [:]
        for pair in text.split(separator: ";") {
            let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
            if kv.count == 2 { d[kv[0]] = kv[1] }
        }
        return d.isEmpty ? nil : d
    }

    /// Records how the samples of `m` were checked for preemption: samplesRetaken, stolenFraction,
    /// and `valid=false` when the retakes ran out (kept samples then contain stolen time).
    public mutating func applySampling(_ m: Measured) {
        guard m.checked else { return }
        samplesRetaken = m.retaken
        stolenFraction = m.stolenFraction
        if m.retakesExhausted {
            invalidate("preempted samples: \(m.retaken) retakes (\(Sampler.retakeFactor) × samples) ran out, so kept samples include time other tasks ran")
        }
    }

    /// A readable name of the case and metric (compare's tables, github-action-benchmark names).
    public var label: String { key.label }
}
