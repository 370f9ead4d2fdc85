import Foundation

/// results.json: the whole run (environment fingerprint, every record with its samples, failures),
/// the Codable `RunResult` as pretty, key-sorted JSON.
public struct JSONExporter: Exporter {
    public init() {}
    public func files(_ run: RunResult, lang: Language) -> [OutputFile] {
        [OutputFile(name: "results.json", contents: Self.render(run))]
    }

    public static func render(_ run: RunResult) -> String { JSONText.encode(run) }

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
    public func files(_ run: RunResult, lang: Language) -> [OutputFile] {
        [OutputFile(name: "benchmark-action.json", contents: Self.render(run))]
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
