import Foundation

/// `switchbench list --format json`: what the binary knows and scripts must not repeat — the harnesses
/// (`Registry.harnesses`), the CSV exporter's columns (`CSVExporter.columns`, the list its header is
/// written from), each harness's own options, and the kinds of switch the suite compares
/// (`SwitchKind.allCases`, each declared by its harness).
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
        /// What one op of its rows is (docs/harnesses.md's "one op").
        var op: String
        var mechanisms: [Mechanism]
        var placements: [String]
        /// The options it declares (`HarnessOption`): flag, example, help.
        var options: [Option]
        /// Whether `switchbench --all` runs it (`Harness.includedInAll`); false: only `run NAME` does.
        var includedInAll: Bool
        enum CodingKeys: String, CodingKey {
            case id, summary, claims, mechanisms, placements, options, includedInAll = "included_in_all"
        }
        struct Mechanism: Encodable { var id: String; var summary: String }
        struct Option: Encodable { var flag: String; var example: String; var help: String }
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
                HarnessEntry(id: h.id, summary: h.summary, claims: h.claims, op: h.info.op,
                             mechanisms: h.mechanisms.map { .init(id: $0.id, summary: $0.summary) },
                             placements: h.placements.map(\.rawValue),
                             options: h.declaredOptions.map { .init(flag: $0.flag, example: $0.example, help: $0.help) },
                             includedInAll: h.includedInAll)
            },
            csvColumns: CSVExporter.columns,
            switchKinds: SwitchKind.allCases.map { k in
                KindEntry(id: k.id, harness: k.harness, mechanism: k.mechanism, metric: k.metric,
                          label: ["en": k.label(.en), "zh": k.label(.zh)])
            })
        return JSONText.encode(doc)
    }
}
