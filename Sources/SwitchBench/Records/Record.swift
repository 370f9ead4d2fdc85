/// Where the tasks of a case run.
public enum Placement: String, Sendable, CaseIterable, Codable {
    /// Every task pinned to one CPU: each hand-off is a real context switch.
    case sameCPU = "same-cpu"
    /// Tasks pinned to distinct CPUs chosen from the topology.
    case crossCPU = "cross-cpu"
    /// Affinity left to the scheduler.
    case unpinned
}

/// One measured case and metric: one CSV row. Plain values; harnesses make them, exporters print them.
/// The key of a case is every field from `harness` to `metric`.
public struct Record: Sendable, Equatable, Codable {
    public var harness: String
    public var mechanism: String
    public var placement: String
    /// CPUs the tasks were pinned to, taskset style ("0" or "0,1"); empty when unpinned.
    public var cpus: String
    public var tasks: Int
    public var footprintBytes: Int
    public var pageSizeBytes: Int?
    public var workingSetPages: Int?
    public var metric: String
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

    public init(harness: String, mechanism: String, placement: String, cpus: String, tasks: Int,
                footprintBytes: Int = 0, pageSizeBytes: Int? = nil, workingSetPages: Int? = nil,
                metric: String, unit: String = "ns", samples: [Double], opsPerSample: Int,
                switchesPerOp: Double? = nil, expectedSwitchesPerOp: Double? = nil,
                valid: Bool = true, note: String = "", counterSource: String = "", cpusSeen: String = "",
                flagNoisy: Bool = true) {
        self.harness = harness
        self.mechanism = mechanism
        self.placement = placement
        self.cpus = cpus
        self.tasks = tasks
        self.footprintBytes = footprintBytes
        self.pageSizeBytes = pageSizeBytes
        self.workingSetPages = workingSetPages
        self.metric = metric
        self.unit = unit
        self.samples = samples.count
        self.opsPerSample = opsPerSample
        self.stats = samples.isEmpty ? nil : Statistics(samples)
        self.switchesPerOp = switchesPerOp
        self.expectedSwitchesPerOp = expectedSwitchesPerOp
        self.valid = valid
        self.note = note
        self.sampleValues = samples
        self.counterSource = counterSource
        self.cpusSeen = cpusSeen
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

    /// A readable name of the case and metric (compare's tables, github-action-benchmark names).
    public var label: String {
        Record.label(harness: harness, mechanism: mechanism, placement: placement, tasks: tasks,
                     footprintBytes: footprintBytes, pageSizeBytes: pageSizeBytes,
                     workingSetPages: workingSetPages, metric: metric)
    }

    public static func label(harness: String, mechanism: String, placement: String, tasks: Int, footprintBytes: Int,
                             pageSizeBytes: Int?, workingSetPages: Int?, metric: String) -> String {
        var s = "\(harness) \(mechanism) \(placement)"
        if tasks > 1 { s += " tasks=\(tasks)" }
        if footprintBytes > 0 { s += " footprint=\(footprintBytes)" }
        if let p = pageSizeBytes { s += " page=\(p)" }
        if let w = workingSetPages { s += " pages=\(w)" }
        return s + " \(metric)"
    }

    /// The identity `compare` matches on: every column from harness to metric.
    public var key: String {
        [harness, mechanism, placement, cpus, String(tasks), String(footprintBytes),
         pageSizeBytes.map(String.init) ?? "", workingSetPages.map(String.init) ?? "", metric]
            .joined(separator: "|")
    }
}

import Foundation
