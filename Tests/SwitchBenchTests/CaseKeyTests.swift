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
            Record(harness: "process", mechanism: "pipe", placement: "cross-cpu", cpus: CPUList.format($0.cpus),
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
        let base = CaseKey(harness: "tlb", mechanism: "4k", placement: "same-cpu", cpus: "0", tasks: 1,
                           footprintBytes: 0, pageSizeBytes: 4096, workingSetPages: 64, metric: "ns_per_access")
        var variants: [CaseKey] = []
        func vary(_ f: (inout CaseKey) -> Void) { var k = base; f(&k); variants.append(k) }
        vary { $0.harness = "pollution" }
        vary { $0.mechanism = "2m" }
        vary { $0.placement = "cross-cpu" }
        vary { $0.cpus = "1" }
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
