import Foundation

/// results.json: the whole run (environment fingerprint, every record with its samples, failures),
/// the Codable `RunResult` as pretty, key-sorted JSON, plus `claims`: every claim's verdict with its
/// rule id, deciding numbers and advice sentence (`Claims.Outcome`, the one canonical record of a
/// verdict that notes.md, report.md, machines.md and the scripts read).
public struct JSONExporter: Exporter {
    public init() {}
    public func files(_ r: RenderedRun, lang: Language) -> [OutputFile] {
        [OutputFile(name: "results.json", contents: Self.render(r.run))]
    }

    public static func render(_ run: RunResult, claims: [Claims.Outcome]? = nil) -> String {
        JSONText.encode(Document(run: run, claims: claims ?? Claims.verdicts(run), classTable: classTable(run),
                                 twoSteps: TwoSteps(SwitchAnatomy.of(run))))
    }

    /// One row of the class table (`Ledger.classTable`, the one computation notes.md and the README's
    /// table script read): the kind, its row, its time, both ratios and the kernel's count per switch.
    public struct ClassTableRow: Codable, Sendable, Equatable {
        public var kind: String
        public var row: String
        public var metric: String
        public var medianNs: Double?
        public var overSystemCall: Double?
        public var overCoroutineSwitch: Double?
        /// Context switches the kernel counted per switch (per call for the system call): 1 for a task
        /// switch, 0 for a coroutine switch or a system call.
        public var kernelSwitchesPerSwitch: Double?
        public var paired: Bool?
        public var valid: Bool?
        enum CodingKeys: String, CodingKey {
            case kind, row, metric, valid, paired
            case medianNs = "median_ns", overSystemCall = "over_system_call", overCoroutineSwitch = "over_coroutine_switch",
                 kernelSwitchesPerSwitch = "kernel_switches_per_switch"
        }
    }

    public static func classTable(_ run: RunResult) -> [ClassTableRow] {
        let ledger = Ledger.of(run)
        return zip(Ledger.classTiers, ledger.classTable).map { tier, c in
            guard let c else {
                return ClassTableRow(kind: Ledger.idea(tier).term.en, row: "", metric: "")
            }
            return ClassTableRow(kind: c.entry.term.en, row: "\(c.kind.harness)/\(c.kind.mechanism)", metric: c.kind.metric,
                                 medianNs: c.entry.value, overSystemCall: c.overSyscall, overCoroutineSwitch: c.overCoroutine,
                                 kernelSwitchesPerSwitch: c.kernelSwitchesPerSwitch, paired: c.kind.paired, valid: c.entry.valid)
        }
    }

    /// The note's two steps as the anatomy harness took one process switch apart (`SwitchAnatomy`):
    /// each part in ns per switch (nil where a row it needs is missing or invalid) and the prediction check.
    public struct TwoSteps: Encodable, Sendable {
        public var parts: [Part]
        public var processSwitchNs: Double?
        public var predictedFutexNs: Double?
        public var measuredFutexNs: Double?
        public var predictedOverMeasured: Double?
        /// The futex and pipe hand-offs, process and thread, each predicted from parts timed alone.
        public var handOffs: [HandOff]
        /// Step 2's hardware context (XSAVE bytes, AVX-512 in use − clean per switch) and the page fault.
        public var xsaveBytes: Double?
        public var vectorStateNs: Double?
        public var pageFaultNs: Double?
        public struct Part: Encodable, Sendable {
            public var name: String
            public var ns: Double?
        }
        public struct HandOff: Encodable, Sendable {
            public var ipc: String
            public var kind: String
            public var predictedNs: Double?
            public var measuredNs: Double?
            public var predictedOverMeasured: Double?
            enum CodingKeys: String, CodingKey {
                case ipc, kind, predictedNs = "predicted_ns", measuredNs = "measured_ns", predictedOverMeasured = "predicted_over_measured"
            }
        }
        enum CodingKeys: String, CodingKey {
            case parts, processSwitchNs = "process_switch_ns", predictedFutexNs = "predicted_futex_ns",
                 measuredFutexNs = "measured_futex_ns", predictedOverMeasured = "predicted_over_measured", handOffs = "hand_offs",
                 xsaveBytes = "xsave_bytes", vectorStateNs = "vector_state_ns", pageFaultNs = "page_fault_ns"
        }
        init?(_ a: SwitchAnatomy?) {
            guard let a else { return nil }
            parts = a.parts(.en).map { Part(name: $0.name, ns: $0.ns) }
            processSwitchNs = a.processSwitch
            predictedFutexNs = a.predictedFutex
            measuredFutexNs = a.measuredFutex
            predictedOverMeasured = a.predictionRatio
            (xsaveBytes, vectorStateNs, pageFaultNs) = (a.xsaveBytes, a.vectorState, a.pageFault)
            handOffs = a.handOffs.map {
                HandOff(ipc: $0.ipc, kind: $0.kind.rawValue, predictedNs: $0.predicted, measuredNs: $0.measured, predictedOverMeasured: $0.ratio)
            }
        }
    }

    /// RunResult's keys with `claims`, `class_table` and `two_steps` beside them (decoding a RunResult ignores them).
    struct Document: Encodable {
        var run: RunResult
        var claims: [Claims.Outcome]
        var classTable: [ClassTableRow]
        var twoSteps: TwoSteps?
        enum Keys: String, CodingKey { case claims, classTable = "class_table", twoSteps = "two_steps" }
        func encode(to encoder: any Encoder) throws {
            try run.encode(to: encoder)
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(claims, forKey: .claims)
            try c.encode(classTable, forKey: .classTable)
            try c.encodeIfPresent(twoSteps, forKey: .twoSteps)
        }
    }

    /// The `claims` of a results.json (empty for files written before it existed).
    public static func claims(_ text: String) throws -> [Claims.Outcome] {
        struct Only: Decodable { var claims: [Claims.Outcome]? }
        do {
            return try JSONDecoder().decode(Only.self, from: Data(text.utf8)).claims ?? []
        } catch {
            throw SwitchBenchError.usage("not a switchbench results.json: \(error)")
        }
    }

    public static func decode(_ text: String) throws -> RunResult {
        do {
            let d = JSONDecoder()
            d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            return try d.decode(RunResult.self, from: Data(text.utf8))
        } catch {
            throw SwitchBenchError.usage("not a switchbench results.json: \(error)")
        }
    }
}

/// benchmark-action.json: the `customSmallerIsBetter` input of github-action-benchmark
/// (https://github.com/benchmark-action/github-action-benchmark): a JSON array of
/// `{name, unit, value, range?, extra?}`, one entry per timed row whose smaller value is better.
public struct BenchmarkActionExporter: Exporter {
    public init() {}
    public func files(_ r: RenderedRun, lang: Language) -> [OutputFile] {
        [OutputFile(name: "benchmark-action.json", contents: Self.render(r.run))]
    }

    public struct Entry: Codable, Sendable, Equatable {
        public var name: String
        public var unit: String
        public var value: Double
        public var range: String?
        public var extra: String?
    }

    public static func entries(_ run: RunResult) -> [Entry] {
        run.records.compactMap { r in
            guard let s = r.stats, Comparison.higherIsWorse(unit: r.unit, metric: r.metric) else { return nil }
            let name = r.label
            let half = max(s.median - s.ci95Low, s.ci95High - s.median)
            var extra = "95% CI \(fmt(s.ci95Low))–\(fmt(s.ci95High)) \(r.unit); \(r.samples) samples; valid=\(r.valid)"
            if let spo = r.switchesPerOp { extra += String(format: "; switches/op=%.2f", spo) }
            if !r.note.isEmpty { extra += "; " + r.note }
            return Entry(name: name, unit: r.unit, value: (s.median * 1000).rounded() / 1000,
                         range: "± \(fmt(half))", extra: extra)
        }
    }

    static func fmt(_ v: Double) -> String { String(format: "%.3f", v) }

    public static func render(_ run: RunResult) -> String { JSONText.encode(entries(run)) }
}
