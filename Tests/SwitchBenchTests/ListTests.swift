import Foundation
import SwitchBench
import Testing

/// `switchbench list --format json`: the lists scripts read from the binary instead of repeating them.
@Suite struct ListTests {
    static func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not one JSON object")
    }

    @Test func theColumnsAreTheHeaderTheCSVExporterWrites() throws {
        let doc = try Self.object(Listing.json())
        let columns = try #require(doc["csv_columns"] as? [String])
        let csv = CSVExporter.render(RunResult(runID: "r", timestampUTC: "t", environment: .blank))
        let header = try #require(try CSV.parse(csv).first)
        #expect(columns == header)
    }

    @Test func everyHarnessIsListedWithItsMechanismsAndPlacements() throws {
        let doc = try Self.object(Listing.json())
        let harnesses = try #require(doc["harnesses"] as? [[String: Any]])
        #expect(harnesses.compactMap { $0["id"] as? String } == Registry.harnesses.map(\.id))
        for (entry, h) in zip(harnesses, Registry.harnesses) {
            let mechanisms = try #require(entry["mechanisms"] as? [[String: String]], "\(h.id)")
            #expect(mechanisms.map { $0["id"] } == h.mechanisms.map(\.id), "\(h.id)")
            #expect(mechanisms.allSatisfy { !($0["summary"] ?? "").isEmpty }, "\(h.id)")
            #expect(entry["placements"] as? [String] == h.placements.map(\.rawValue), "\(h.id)")
            #expect(entry["claims"] as? [String] == h.claims, "\(h.id)")
            let options = try #require(entry["options"] as? [[String: String]], "\(h.id)")
            #expect(options.map { $0["flag"] } == h.declaredOptions.map(\.flag), "\(h.id)")
            #expect(entry["included_in_all"] as? Bool == h.includedInAll, "\(h.id)")
        }
    }

    /// A harness that leaves itself out of `--all` says so in the listing; the others say they are in.
    @Test func theListingSaysWhetherAllRunsEachHarness() throws {
        struct Aside: Harness {
            let info = HarnessInfo("aside", claims: [], summary: "a harness --all leaves out", mechanisms: [("m", "one mechanism")])
            var includedInAll: Bool { false }
            func plan(_ options: RunOptions) -> [CaseSpec] { [] }
            func run(_ spec: CaseSpec, context: RunContext) throws -> [Record] { [] }
        }
        let doc = try Self.object(Listing.json([Aside()] + Registry.harnesses))
        let harnesses = try #require(doc["harnesses"] as? [[String: Any]])
        let flags = Dictionary(uniqueKeysWithValues: harnesses.map { ($0["id"] as? String ?? "", $0["included_in_all"] as? Bool) })
        #expect(flags["aside"] == false)
        for h in Registry.all { #expect(flags[h.id] == true, "\(h.id)") }
    }

    /// Each kind names a harness and a mechanism the listing has, and a label in both languages.
    @Test func everySwitchKindNamesAListedHarnessAndMechanism() throws {
        let doc = try Self.object(Listing.json())
        let harnesses = try #require(doc["harnesses"] as? [[String: Any]])
        var mechanisms: [String: Set<String>] = [:]
        for h in harnesses {
            let id = try #require(h["id"] as? String)
            mechanisms[id] = Set(((h["mechanisms"] as? [[String: String]]) ?? []).compactMap { $0["id"] })
        }
        let kinds = try #require(doc["switch_kinds"] as? [[String: Any]])
        #expect(!kinds.isEmpty)
        #expect(Set(kinds.compactMap { $0["id"] as? String }).count == kinds.count, "ids are unique")
        for k in kinds {
            let harness = try #require(k["harness"] as? String), mechanism = try #require(k["mechanism"] as? String)
            #expect(mechanisms[harness]?.contains(mechanism) == true, "\(k)")
            // per call for the system call, per switch for the others (the anatomy pairs' `thread_switch`, `process_switch`)
            let metric = k["metric"] as? String ?? ""
            #expect(metric == "per_call" || metric.hasSuffix("switch"), "\(k)")
            let label = try #require(k["label"] as? [String: String])
            #expect(!(label["en"] ?? "").isEmpty && !(label["zh"] ?? "").isEmpty, "\(k)")
        }
    }
}

/// The binary prints that listing, and refuses a format it does not have.
extension ProcessSpawningTests.CLITests {
    @Test func listFormatJSONPrintsTheListing() throws {
        let (r, _) = try Self.run(["list", "--format", "json"])
        #expect(r.status == 0)
        #expect(r.stdout == Listing.json())
        let (t, _) = try Self.run(["list"])
        #expect(t.status == 0 && !t.stdout.hasPrefix("{"), "text stays the default")
    }

    @Test func listRefusesAnUnknownFormatInOneLine() throws {
        let (r, _) = try Self.run(["list", "--format", "csv"])
        #expect(r.status == 2)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.hasPrefix("switchbench: error: unknown format 'csv'") && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    }
}
