import Foundation
import Testing
@testable import SwitchBench

/// Per-machine facts: which placements the allowed CPUs can honour, the machine id that names a CI
/// baseline, the online CPU count in the CSV, and compare across machines (exit 3 unless asked).
enum MachineFixtures {
    /// The repository root, from this file's path (Tests/SwitchBenchTests/<file>).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    /// Unedited results.csv files of two other machines (switchbench 0.1.0, before online_cpus existed).
    static let xeon16 = root + "/Tests/SwitchBenchTests/Fixtures/runs/xeon-16vcpu-kvm/results.csv"
    static let epyc2 = root + "/Tests/SwitchBenchTests/Fixtures/runs/epyc-2vcpu-kvm/results.csv"

    /// A synthetic run whose environment differs from ReportFixture's in the given ways.
    static func run(_ records: [Record], cpuModel: String = "Test CPU", online: Int? = 2, kernel: String = "6.1.0-test") -> RunResult {
        var r = ReportFixture.run(records, kernel: kernel)
        r.environment.cpuModel = cpuModel
        r.environment.onlineCPUCount = online
        return r
    }

    /// ReportFixture.basic with the process round trip 30 % slower: one clear regression.
    static var slowerRecords: [Record] {
        var records = ReportFixture.basic.records
        let i = records.firstIndex { $0.harness == "process" && $0.metric == "round_trip" }!
        records[i] = ReportFixture.record("process", "pipe", metric: "round_trip", 5000 * 1.3)
        return records
    }
}

/// A harness that measures nothing: one row per case it is asked to run, so a test sees which ran.
struct PlacementProbeHarness: Harness {
    let info = HarnessInfo("probe", claims: [], summary: "test only", mechanisms: [("m", "test")])
    var placements: [Placement] { [.sameCPU, .crossCPU, .unpinned] }
    func plan(_ options: RunOptions) -> [CaseSpec] {
        selectedPlacements(options).map { CaseSpec(harness: id, mechanism: "m", placement: $0, tasks: 2) }
    }
    func run(_ spec: CaseSpec, context: RunContext) throws -> [Record] {
        let cpus = context.cpus(for: spec.placement, tasks: spec.tasks).cpus
        return [Record(harness: id, mechanism: "m", placement: spec.placement.rawValue, cpus: cpus, tasks: 2,
                       metric: "x", samples: [1, 2, 3], opsPerSample: 1)]
    }
}

@Suite struct PlacementHonouredTests {
    static func context(allowed: [Int]) -> RunContext {
        RunContext(options: RunOptions(), environment: ReportFixture.environment(), allowedCPUs: allowed,
                   topology: Topology(cpus: [:]))
    }

    @Test func crossCPUNeedsTwoDistinctCPUs() {
        let one = Self.context(allowed: [0])
        #expect(one.unhonourable(.crossCPU)?.contains("cross-cpu needs at least 2 distinct CPUs") == true)
        #expect(one.unhonourable(.sameCPU) == nil)
        #expect(one.unhonourable(.unpinned) == nil)
        #expect(Self.context(allowed: [0, 1]).unhonourable(.crossCPU) == nil)
        #expect(Self.context(allowed: [3, 5]).unhonourable(.crossCPU) == nil)
    }

    @Test func runnerSkipsWhatCannotBeHonouredWithOneLine() {
        var result = RunResult.start(environment: ReportFixture.environment())
        var lines: [String] = []
        Runner(context: Self.context(allowed: [0]), progress: { lines.append($0) }).run([PlacementProbeHarness()], into: &result)
        #expect(Set(result.records.map(\.placement)) == ["same-cpu", "unpinned"])
        #expect(result.skipped.count == 1)
        #expect(result.skipped.first?.contains("probe m cross-cpu") == true)
        #expect(lines.filter { $0.contains("skipped") }.count == 1)
        let md = MarkdownExporter.render(result)
        #expect(md.split(separator: "\n").filter { $0.contains("Not measured") && $0.contains("cross-cpu") }.count == 1)
        // and on two CPUs nothing is skipped
        var two = RunResult.start(environment: ReportFixture.environment())
        Runner(context: Self.context(allowed: [0, 1])).run([PlacementProbeHarness()], into: &two)
        #expect(two.skipped.isEmpty)
        #expect(two.records.contains { $0.placement == "cross-cpu" && $0.key.cpusText == "0-1" })
        #expect(!MarkdownExporter.render(two).contains("Not measured"))
    }

    /// The ring itself refuses a cross-cpu assignment on one CPU (last line of defence).
    @Test func ringRefusesOneCPUCrossAssignment() {
        let ctx = Self.context(allowed: [0])
        let spec = CaseSpec(harness: "thread", mechanism: "futex", placement: .crossCPU, tasks: 2)
        #expect(throws: SwitchBenchError.self) {
            _ = try TokenRingHarness(kind: .thread).run(spec, context: ctx)
        }
    }

    @Test func skippedSurvivesJSONAndOldJSONLoads() throws {
        var run = ReportFixture.basic
        run.skipped = ["skipped 1 case(s) (x): why"]
        #expect(try JSONExporter.decode(JSONExporter.render(run)).skipped == run.skipped)
        // results.json written before `skipped` existed
        var old = try #require(try JSONSerialization.jsonObject(with: Data(JSONExporter.render(ReportFixture.basic).utf8)) as? [String: Any])
        old.removeValue(forKey: "skipped")
        let text = String(decoding: try JSONSerialization.data(withJSONObject: old), as: UTF8.self)
        #expect(try JSONExporter.decode(text).skipped == [])
    }
}
