import Foundation

/// `switchbench list --format json`: what the binary knows and scripts must not repeat — the harnesses
/// (`Registry.harnesses`), the CSV exporter's columns (`CSVExporter.columns`, the list its header is
/// written from) and the kinds of switch the suite compares (`SwitchKind.allCases`).
public enum Listing {
    struct Document: Encodable {
        var harnesses: [HarnessEntry]
        var csvColumns: [String]
        var switchKinds: [KindEntry]
        enum CodingKeys: String, CodingKey { case harnesses, csvColumns = "csv_columns", switchKinds = "switch_kinds" }
    }

    struct HarnessEntry: Encodable {
        var id: String
        var summary: String
        var claims: [String]
        var mechanisms: [Mechanism]
        var placements: [String]
        struct Mechanism: Encodable { var id: String; var summary: String }
    }

    struct KindEntry: Encodable {
        var id: String
        var harness: String
        var mechanism: String
        var metric: String
        var label: [String: String]
    }

    /// The listing as one pretty, key-sorted JSON object (arrays keep their order).
    public static func json(_ harnesses: [any Harness] = Registry.harnesses) -> String {
        let doc = Document(
            harnesses: harnesses.map { h in
                HarnessEntry(id: h.id, summary: h.summary, claims: h.claims,
                             mechanisms: h.mechanisms.map { .init(id: $0.id, summary: $0.summary) },
                             placements: h.placements.map(\.rawValue))
            },
            csvColumns: CSVExporter.columns,
            switchKinds: SwitchKind.allCases.map { k in
                KindEntry(id: k.rawValue, harness: k.harness, mechanism: k.mechanism, metric: k.metric,
                          label: ["en": k.label(.en), "zh": k.label(.zh)])
            })
        return JSONText.encode(doc)
    }
}
