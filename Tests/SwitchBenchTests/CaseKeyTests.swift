import Foundation
import Testing
@testable import SwitchBench

/// One case key: rows that differ in any key field never share a key or a label, including the
/// cross-cpu rows of a machine with several kinds of CPU pair.
@Suite struct CaseKeyTests {
    /// Two SMT siblings sharing an LLC with two more CPUs, a CPU of another LLC, one on another node.
    static let server = Topology(cpus: [
        0: .init(id: 0, core: [0, 1], llc: [0, 1, 2, 3], node: 0),
        1: .init(id: 1, core: [0, 1], llc: [0, 1, 2, 3], node: 0),
        2: .init(id: 2, core: [2, 3], llc: [0, 1, 2, 3], node: 0),
        3: .init(id: 3, core: [2, 3], llc: [0, 1, 2, 3], node: 0),
        4: .init(id: 4, core: [4], llc: [4], node: 0),
        8: .init(id: 8, core: [8], llc: [8], node: 1),
    ])

    @Test func crossCPURelationsGetDistinctKeysAndLabels() throws {
        let ctx = RunContext(options: RunOptions(), environment: ReportFixture.environment(),
                             allowedCPUs: [0, 1, 2, 3, 4, 8], topology: Self.server)
        let assignments = ctx.assignments(for: .crossCPU, tasks: 2)
        #expect(assignments.count == 4)   // SMT siblings, same LLC, different LLC, other NUMA node
        let records = assignments.map {
            Record(harness: "process", mechanism: "pipe", placement: "cross-cpu", cpus: $0.cpus,
                   tasks: 2, metric: "round_trip", samples: ReportFixture.samples(70_000), opsPerSample: 100)
        }
        #expect(Set(records.map(\.key)).count == 4)
        #expect(Set(records.map(\.label)).count == 4)
        #expect(Set(records.map(\.key.id)).count == 4)
        // compare sees four cases, not one (it used to label them alike)
        let run = ReportFixture.run(records)
        let loaded = try ReportFixture.loaded(run)
        let c = try Comparison.make(baseline: loaded, baselineSource: "a", current: loaded, currentSource: "a")
        #expect(c.cases.count == 4)
        #expect(c.duplicates.isEmpty)
        #expect(Set(c.cases.map(\.label)).count == 4)
        // and the benchmark-action names stay unique
        #expect(Set(BenchmarkActionExporter.entries(run).map(\.name)).count == 4)
    }

    @Test func everyFieldChangesTheLabel() {
        let base = CaseKey(harness: "tlb", mechanism: "4k", placement: "same-cpu", cpus: [0], tasks: 1,
                           footprintBytes: 0, pageSizeBytes: 4096, workingSetPages: 64, metric: "ns_per_access")
        var variants: [CaseKey] = []
        func vary(_ f: (inout CaseKey) -> Void) { var k = base; f(&k); variants.append(k) }
        vary { $0.harness = "pollution" }
        vary { $0.mechanism = "2m" }
        vary { $0.placement = "cross-cpu" }
        vary { $0.cpus = [1] }
        vary { $0.tasks = 2 }
        vary { $0.footprintBytes = 4096 }
        vary { $0.pageSizeBytes = 2 << 20 }
        vary { $0.pageSizeBytes = nil }
        vary { $0.workingSetPages = 128 }
        vary { $0.workingSetPages = nil }
        vary { $0.metric = "touch_overhead" }
        let all = [base] + variants
        #expect(Set(all).count == all.count)
        #expect(Set(all.map(\.label)).count == all.count)
        #expect(Set(all.map(\.id)).count == all.count)
        #expect(base.with(metric: "x").metric == "x" && base.with(metric: "x").harness == base.harness)
    }
}

/// Case parameters (`CaseParameter`): part of the key, a CSV column each, never in a metric name; a
/// run written before they existed (the parameter in the metric name) loads under the new key.
@Suite struct CaseParameterTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/runs")

    @Test func aParameterChangesTheKeyAndHasItsColumn() throws {
        let k1 = CaseKey(harness: "events", mechanism: "thread", placement: "same-cpu", tasks: 10,
                         parameters: [CaseParameter(.burst, 1)], metric: "per_event")
        var k16 = k1
        k16.parameters[.burst] = 16
        #expect(k1 != k16 && k1.label != k16.label && k1.id != k16.id)
        #expect(k16.label == "events thread same-cpu tasks=10 burst=16 per_event")
        for name in CaseParameter.Name.allCases { #expect(CSVExporter.columns.contains(name.column)) }
        // written and read back: the value in its column, the metric plain
        let r = Record(harness: "events", mechanism: "thread", placement: "same-cpu", cpus: [0], tasks: 10,
                       parameters: [CaseParameter(.burst, 16)], metric: "per_event", samples: [1, 2, 3], opsPerSample: 1)
        let text = CSVExporter.render(ReportFixture.run([r]))
        let header = try CSV.parse(text)[0], row = try CSV.parse(text)[1]
        #expect(row[header.firstIndex(of: "burst")!] == "16" && row[header.firstIndex(of: "metric")!] == "per_event")
        #expect(try CSVExporter.read(text)[0].record.key == r.key)
    }

    @Test func oldMetricNamesLoadUnderTheNewKey() {
        let old: [(String, String, String, CaseParameter)] = [
            ("blocking", "max_gap_blocking", "max_gap", .readMode(.blocking)),
            ("blocking", "max_gap_nonblocking", "max_gap", .readMode(.nonblocking)),
            ("blocking", "turns_during_read_blocking", "turns_during_read", .readMode(.blocking)),
            ("blocking", "turns_during_read_nonblocking", "turns_during_read", .readMode(.nonblocking)),
            ("events", "per_event_k16", "per_event", CaseParameter(.burst, 16)),
            ("events", "per_burst_k1", "per_burst", CaseParameter(.burst, 1)),
            ("tlb", "reach_l2_pages", "reach_pages", CaseParameter(.tlbLevel, 2)),
            ("tlb", "reach_l1_bytes", "reach_bytes", CaseParameter(.tlbLevel, 1)),
            ("tlb", "miss_l3_extra_ns", "miss_extra_ns", CaseParameter(.tlbLevel, 3)),
        ]
        for (h, metric, new, p) in old {
            let k = CaseKey(harness: h, mechanism: "m", placement: "same-cpu", metric: metric).upgraded
            #expect(k.metric == new && k.parameters == [p], "\(metric)")
        }
        // other metrics (and other harnesses' look-alikes) stay as they are
        for (h, metric) in [("events", "ring_round_trip"), ("tlb", "ns_per_access"), ("ring", "per_event_k1")] {
            #expect(CaseKey(harness: h, mechanism: "m", placement: "same-cpu", metric: metric).upgraded.metric == metric)
        }
    }

    /// Every stored run (written before the parameter columns) loads with no parameter left in a
    /// metric name, and a run compares with itself case for case.
    @Test func storedRunsLoadWithoutParametersInMetricNames() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.fixtures.path).filter { !$0.hasSuffix(".md") }
        #expect(!names.isEmpty)
        for name in names {
            let path = Self.fixtures.appendingPathComponent(name).appendingPathComponent("results.csv").path
            let rows = try CSVExporter.read(String(contentsOfFile: path, encoding: .utf8), source: name)
            #expect(!rows.isEmpty)
            for (r, _) in rows {
                #expect(r.metric.range(of: #"_k[0-9]+$|_l[0-9]+_|_(non)?blocking$"#, options: .regularExpression) == nil, "\(name): \(r.label)")
                #expect((r.harness == "blocking") == (r.readMode != nil), "\(name): \(r.label)")
            }
            #expect(Set(rows.map(\.record.key)).count == rows.count, "\(name): two rows share a key")
        }
    }

    /// results.json: a key written before the parameters (the mode in the metric, no `parameters`) decodes
    /// under the new key; a new key (a word value) round-trips as written.
    @Test func resultsJSONKeysLoadUnderTheNewKey() throws {
        let old = #"{"harness":"blocking","mechanism":"asm","placement":"same-cpu","cpus":[0],"tasks":4,"footprintBytes":0,"metric":"turns_during_read_nonblocking"}"#
        let k = try JSONDecoder().decode(CaseKey.self, from: Data(old.utf8))
        #expect(k.metric == "turns_during_read" && k.parameters == [.readMode(.nonblocking)])
        let new = CaseKey(harness: "blocking", mechanism: "asm", placement: "same-cpu", cpus: [0], tasks: 4,
                          parameters: [.readMode(.blocking)], metric: "max_gap")
        let text = String(decoding: try JSONEncoder().encode(new), as: UTF8.self)
        #expect(text.contains(#""value":"blocking""#), "\(text)")
        #expect(try JSONDecoder().decode(CaseKey.self, from: Data(text.utf8)) == new)
        let burst = CaseKey(harness: "events", mechanism: "thread", placement: "same-cpu", parameters: [CaseParameter(.burst, 16)], metric: "per_event")
        #expect(try JSONDecoder().decode(CaseKey.self, from: JSONEncoder().encode(burst)) == burst)
    }

    /// A read-mode cell that is not one of the mode's words is refused in one line, naming the column.
    @Test func aReadModeCellMustBeOneOfItsWords() throws {
        let r = Record(harness: "blocking", mechanism: "asm", placement: "same-cpu", cpus: [0], tasks: 4,
                       parameters: [.readMode(.blocking)], metric: "max_gap", samples: [1, 2, 3], opsPerSample: 1)
        let text = CSVExporter.render(ReportFixture.run([r]))
        let back = try CSVExporter.read(text)[0].record
        #expect(back.key == r.key && back.readMode == .blocking)
        #expect(text.contains(",blocking\n"), "read_mode is the last column")
        let bad = text.replacingOccurrences(of: ",blocking\n", with: ",sometimes\n")
        #expect(throws: SwitchBenchError.self) { try CSVExporter.read(bad) }
        do { _ = try CSVExporter.read(bad) } catch {
            #expect("\(error)".contains("read_mode 'sometimes' is not one of blocking, nonblocking"), "\(error)")
        }
    }
}
