import Foundation

/// RFC 4180 CSV: fields with a comma, quote, CR or LF are quoted; quotes doubled; CRLF-free output
/// (LF line ends, which RFC 4180 readers accept).
public enum CSV {
    public static func field(_ s: String) -> String {
        if s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return s
    }

    public static func line(_ fields: [String]) -> String { fields.map(field).joined(separator: ",") }

    /// Parses CSV text into rows of fields. Throws `.usage` on an unterminated quote.
    public static func parse(_ text: String) throws -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var inQuotes = false
        var it = Array(text.unicodeScalars)[...]
        var sawAny = false
        while let c = it.popFirst() {
            sawAny = true
            if inQuotes {
                if c == "\"" {
                    if it.first == "\"" { field.unicodeScalars.append("\""); it.removeFirst() } else { inQuotes = false }
                } else {
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"": inQuotes = true
            case ",": row.append(field); field = ""
            case "\r": if it.first == "\n" { it.removeFirst() }; fallthrough
            case "\n": row.append(field); rows.append(row); row = []; field = ""; sawAny = false
            default: field.unicodeScalars.append(c)
            }
        }
        if inQuotes { throw SwitchBenchError.usage("malformed CSV: a quoted field is not closed") }
        if sawAny || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }
}

/// The CSV exporter: one row per case and metric, the column contract (docs/csv.md) first.
public struct CSVExporter: Exporter {
    public init() {}
    public func files(_ r: RenderedRun, lang: Language) -> [OutputFile] {
        [OutputFile(name: "results.csv", contents: Self.render(r.run))]
    }

    /// The contract (docs/csv.md): these names, in this order.
    public static let contractColumns = [
        "suite_version", "run_id", "timestamp_utc", "host", "kernel", "cpu_model", "virtualization", "build",
        "harness", "mechanism", "placement", "cpus", "tasks", "footprint_bytes", "page_size_bytes",
        "working_set_pages", "metric", "unit", "samples", "ops_per_sample", "median", "min", "mean", "max",
        "stddev", "cv", "ci95_low", "ci95_high", "outliers", "switches_per_op", "valid", "note",
    ]
    /// Added after the contract.
    public static let extraColumns = [
        "expected_switches_per_op", "counter_source", "cpus_seen", "git_commit", "pcid", "thp",
        "mitigations", "sample_values",
        // Appended after sample_values (new columns go at the end; docs/csv.md); absent from older runs.
        "online_cpus", "samples_retaken", "stolen_fraction",
        // Typed facts of a row (Record.facts), "key=value;…".
        "facts",
        // How busy the rest of the machine was during the case (Neighbours.Shares.busy); absent from older runs.
        "neighbour_busy",
        // The rest of the environment line of results.md, so that a report made from the CSV alone says
        // the same; absent from older runs (loaded as empty: "?").
        "online_cpu_list", "clocksource",
        // The silicon (Environment.cpuVendor…, CPUIdentity): machine columns; absent from older runs (not recorded).
        "cpu_vendor", "cpu_family", "cpu_model_number", "cpu_stepping", "cpu_caches",
        // Per hand-off latency rows (Record.latency: the ring's hand_off_* metrics); empty elsewhere.
        "p90", "p99", "p99_9", "p99_99", "percentiles", "latency_histogram", "tail_causes",
    ] + parameterColumns
    /// One column per case parameter (`CaseParameter.Name`), after the others; absent from older runs,
    /// whose rows carried the parameter in the metric name (read back by `CaseKey.upgraded`).
    public static let parameterColumns = CaseParameter.Name.allCases.map(\.column)
    public static var columns: [String] { contractColumns + extraColumns }

    public static func render(_ run: RunResult) -> String {
        var out = CSV.line(columns) + "\n"
        for r in run.records { out += CSV.line(row(r, run: run)) + "\n" }
        return out
    }

    static func num(_ v: Double?, _ places: Int = 3) -> String {
        guard let v, v.isFinite else { return "" }
        return String(format: "%.\(places)f", v)
    }

    /// A statistic, read back as the stored, authoritative value (`read` does not recompute): plain
    /// decimals with at least nine significant digits (three decimals at least), so that a report
    /// read from the CSV prints the same three significant digits as the run that wrote it
    /// (with "%.3f" a CI low of 1.13492 came back as 1.135 and printed 1.14× beside the run's 1.13×).
    static func stat(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "" }
        let magnitude = v == 0 ? 0 : Int(floor(log10(abs(v))))
        return String(format: "%.\(min(12, max(3, 8 - magnitude)))f", v)
    }

    public static func row(_ r: Record, run: RunResult) -> [String] {
        let e = run.environment
        let s = r.stats
        let fields: [String] = [
            e.suiteVersion, run.runID, run.timestampUTC, e.host, e.kernel, e.cpuModel, e.virtualization, e.build,
            r.harness, r.mechanism, r.placement, r.key.cpusText, String(r.tasks), String(r.footprintBytes),
            r.pageSizeBytes.map(String.init) ?? "", r.workingSetPages.map(String.init) ?? "",
            r.metric, r.unit, String(r.samples), String(r.opsPerSample),
            stat(s?.median), stat(s?.min), stat(s?.mean), stat(s?.max), stat(s?.stddev), num(s?.cv, 4),
            stat(s?.ci95Low), stat(s?.ci95High), s.map { String($0.outliers) } ?? "",
            num(r.switchesPerOp, 6), r.valid ? "true" : "false", r.note,
            num(r.expectedSwitchesPerOp, 2), r.counterSource, r.cpusSeen, e.gitCommit, e.pcid ? "yes" : "no",
            e.thp, e.mitigationsCSV, r.sampleValues.map { String(format: "%.3f", $0) }.joined(separator: " "),
            e.onlineCPUCount.map(String.init) ?? "",
            r.samplesRetaken.map(String.init) ?? "", num(r.stolenFraction, 4),
            r.factsText,
            num(r.neighbourBusy, 4),
            e.onlineCPUs, e.clocksource,
            e.cpuVendor, e.cpuFamily, e.cpuModelNumber, e.cpuStepping, e.cpuCaches,
        ] + latencyFields(r.latency)
        return fields + r.parameters.cells
    }

    /// The latency columns: p90 … p99.99 (ns), every percentile with its 95 % interval and count
    /// above, the histogram, the tail's causes.
    static func latencyFields(_ l: LatencySummary?) -> [String] {
        guard let l else { return Array(repeating: "", count: 7) }
        return ["p90", "p99", "p99.9", "p99.99"].map { stat(l.percentile($0)?.ns) }
            + [l.text, l.histogram.text, l.causes?.text ?? ""]
    }

    /// Reads a CSV written by `render` (or a concatenation of several, header lines repeated) back
    /// into records with their run-level columns. Throws `.usage` naming what is wrong.
    public static func read(_ text: String, source: String = "CSV") throws -> [(record: Record, fields: [String: String])] {
        let rows = try CSV.parse(text).filter { !($0.count == 1 && $0[0].isEmpty) }
        guard let header = rows.first else { throw SwitchBenchError.usage("\(source) is empty: expected a header line starting with \(contractColumns[0])") }
        let missing = contractColumns.filter { !header.contains($0) }
        guard missing.isEmpty else {
            throw SwitchBenchError.usage("\(source) is not a switchbench CSV: missing column(s) \(missing.joined(separator: ", "))")
        }
        let unknown = header.filter { !columns.contains($0) }
        guard unknown.isEmpty else {
            throw SwitchBenchError.usage("\(source) has unknown column(s) \(unknown.joined(separator: ", ")); known: \(columns.joined(separator: ","))")
        }
        var result: [(Record, [String: String])] = []
        for (lineNo, fields) in rows.dropFirst().enumerated() {
            if fields == header { continue }
            guard fields.count == header.count else {
                throw SwitchBenchError.usage("\(source) line \(lineNo + 2): \(fields.count) fields, header has \(header.count)")
            }
            let line = Line(f: Dictionary(uniqueKeysWithValues: zip(header, fields)), at: "\(source) line \(lineNo + 2)")
            result.append((try line.record(), line.f))
        }
        return result
    }

    /// One data line of a CSV being read: its fields by column, and where it is (for the one-line errors).
    struct Line {
        let f: [String: String]
        let at: String
        /// Every number finite; a time (and a spread, a count) never negative unless the metric is a difference.
        var nonNegative: Bool { CSVExporter.isTime(f["unit"] ?? "") && !CSVExporter.mayBeNegative(metric: f["metric"] ?? "") }

        func int(_ k: String) throws -> Int {
            guard let v = Int(f[k] ?? "") else { throw SwitchBenchError.usage("\(at): \(k) '\(f[k] ?? "")' is not an integer") }
            return v
        }
        /// The case parameter `name` from its column: a whole number, or one of the name's choices.
        func parameter(_ name: CaseParameter.Name) throws -> CaseParameter {
            let t = f[name.column] ?? ""
            guard let p = CaseParameter(name, cell: t) else {
                let expected = name.choices.isEmpty ? "an integer" : "one of " + name.choices.joined(separator: ", ")
                throw SwitchBenchError.usage("\(at): \(name.column) '\(t)' is not \(expected)")
            }
            return p
        }
        func cpuList(_ k: String) throws -> [Int] {
            let t = f[k] ?? ""
            do { return t.isEmpty ? [] : try CPUList.parse(t) } catch {
                throw SwitchBenchError.usage("\(at): \(k) '\(t)' is not a CPU list")
            }
        }
        func dbl(_ k: String, signed: Bool = true) throws -> Double? {
            let t = f[k] ?? ""
            if t.isEmpty { return nil }
            guard let v = Double(t) else { throw SwitchBenchError.usage("\(at): \(k) '\(t)' is not a number") }
            try CSVExporter.checkValue(v, text: t, column: k, signed: signed, at: at, unit: f["unit"] ?? "")
            return v
        }
        func stat(_ k: String) throws -> Double? { try dbl(k, signed: !nonNegative) }
        func samples() throws -> [Double] {
            try (f["sample_values"] ?? "").split(separator: " ").compactMap { t -> Double? in
                guard let v = Double(t) else { return nil }
                try CSVExporter.checkValue(v, text: String(t), column: "sample_values", signed: !nonNegative, at: at, unit: f["unit"] ?? "")
                return v
            }
        }

        /// The record this line stores, its statistics as stored (authoritative: not recomputed).
        func record() throws -> Record {
            var r = Record(harness: f["harness"]!, mechanism: f["mechanism"]!, placement: f["placement"]!,
                           cpus: try cpuList("cpus"), tasks: try int("tasks"), footprintBytes: try int("footprint_bytes"),
                           pageSizeBytes: Int(f["page_size_bytes"]!), workingSetPages: Int(f["working_set_pages"]!),
                           metric: f["metric"]!, unit: f["unit"]!, samples: [],
                           opsPerSample: try int("ops_per_sample"),
                           switchesPerOp: try dbl("switches_per_op"),
                           expectedSwitchesPerOp: try dbl("expected_switches_per_op"),
                           valid: f["valid"] == "true", note: f["note"]!,
                           counterSource: f["counter_source"] ?? "", cpusSeen: f["cpus_seen"] ?? "")
            for name in CaseParameter.Name.allCases where !(f[name.column] ?? "").isEmpty {
                r.key.parameters.set(try parameter(name), for: name)
            }
            r.key = r.key.upgraded
            r.facts = Record.parseFacts(f["facts"] ?? "")
            r.sampleValues = try samples()
            // Columns a file written before they existed lacks: nil.
            r.samplesRetaken = (f["samples_retaken"] ?? "").isEmpty ? nil : try int("samples_retaken")
            r.stolenFraction = try dbl("stolen_fraction")
            r.neighbourBusy = try dbl("neighbour_busy")
            if let h = f["latency_histogram"], !h.isEmpty {
                r.latency = LatencySummary.parse(percentiles: f["percentiles"] ?? "", histogram: h,
                                                 min: try dbl("min") ?? 0, max: try dbl("max") ?? 0)
                r.latency?.causes = TailCauses.parse(f["tail_causes"] ?? "")
            }
            r.samples = try int("samples")
            for k in ["samples", "ops_per_sample"] where try int(k) < 0 {
                throw SwitchBenchError.usage("\(at), column \(k): '\(f[k]!)' is negative")
            }
            r.stats = try statistics(count: r.samples)
            return r
        }

        func statistics(count: Int) throws -> Statistics? {
            guard let median = try stat("median") else { return nil }
            return Statistics(count: count, median: median, min: try stat("min") ?? median,
                              mean: try stat("mean") ?? median, max: try stat("max") ?? median,
                              stddev: try dbl("stddev", signed: false) ?? 0,
                              cv: try dbl("cv", signed: CSVExporter.mayBeNegative(metric: f["metric"] ?? "")) ?? 0,
                              ci95Low: try stat("ci95_low") ?? median, ci95High: try stat("ci95_high") ?? median,
                              outliers: Int(f["outliers"] ?? "") ?? 0)
        }
    }

    /// Refuses a value the gate cannot read: `nan`/`inf` anywhere, a negative one where `signed` is false.
    /// `compare` would otherwise class a NaN median `unchanged` (ratio NaN) and exit 0.
    static func checkValue(_ v: Double, text: String, column: String, signed: Bool, at place: String, unit: String) throws {
        guard v.isFinite else {
            throw SwitchBenchError.usage("\(place), column \(column): '\(text)' is not a finite number; a run that printed it measured nothing")
        }
        if !signed && v < 0 {
            throw SwitchBenchError.usage("\(place), column \(column): '\(text)' is negative; a time in \(unit.isEmpty ? "this unit" : unit) cannot be")
        }
    }

    /// Time units (a time is never negative).
    static func isTime(_ unit: String) -> Bool { ["ns", "us", "µs", "ms", "s", "ps", "cycles"].contains(unit) }

    /// Metrics that are differences of two times and may be negative: `…_minus_…`, penalties, `net_…`,
    /// `…overhead` (one row less another, per pair or of medians).
    static func mayBeNegative(metric: String) -> Bool {
        metric.contains("_minus_") || metric.contains("penalty") || metric.hasPrefix("net_") || metric.hasSuffix("overhead")
    }
}
