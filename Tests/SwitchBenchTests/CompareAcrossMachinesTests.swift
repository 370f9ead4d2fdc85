import Foundation
import Testing
@testable import SwitchBench

@Suite struct CompareAcrossMachinesTests {
    func compare(_ a: RunResult, _ b: RunResult, across: Bool = false) throws -> Comparison {
        try Comparison.make(baseline: ReportFixture.loaded(a), baselineSource: "a", current: ReportFixture.loaded(b),
                            currentSource: "b", acrossMachines: across)
    }

    @Test func anotherCPUModelIsNotComparable() throws {
        let base = MachineFixtures.run(ReportFixture.basic.records, cpuModel: "Intel(R) Xeon(R) Processor")
        let cur = MachineFixtures.run(MachineFixtures.slowerRecords, cpuModel: "AMD EPYC")
        let c = try compare(base, cur)
        #expect(!c.comparable)
        #expect(c.exitCode == 3)
        #expect(c.machineChanges.map(\.fact) == ["cpu_model"])
        #expect(c.warnings.first?.hasPrefix("NOT COMPARABLE") == true)
        #expect(c.summaryLine.hasPrefix("not comparable"))
        let md = c.markdown()
        #expect(md.contains("NOT COMPARABLE") && md.contains("| class |"), "the table and the difference are printed")
        // with the flag: gated as today
        let g = try compare(base, cur, across: true)
        #expect(g.exitCode == 1)
        #expect(g.regressions.count == 1)
        #expect(g.warnings.first?.hasPrefix("DIFFERENT MACHINES") == true)
    }

    /// A count one run did not record is unknown, not the same (issue 24): exit 3, naming it.
    @Test func anotherOrAnUnrecordedOnlineCPUCountIsNotComparable() throws {
        let records = MachineFixtures.slowerRecords
        #expect(try compare(MachineFixtures.run(ReportFixture.basic.records, online: 16), MachineFixtures.run(records, online: 2)).exitCode == 3)
        let unknown = try compare(MachineFixtures.run(ReportFixture.basic.records, online: nil), MachineFixtures.run(records, online: 2))
        #expect(unknown.exitCode == 3)
        #expect(unknown.machineChanges.map(\.fact) == ["online_cpus"])
        #expect(unknown.warnings.first?.contains("online_cpus not recorded in the baseline") == true, "\(unknown.warnings)")
        #expect(try compare(MachineFixtures.run(ReportFixture.basic.records, online: 2), MachineFixtures.run(records, online: 2)).exitCode == 1)
    }

    @Test func kernelOnlyStillGatesWithTheWarning() throws {
        let c = try compare(MachineFixtures.run(ReportFixture.basic.records, kernel: "6.8.0-old"),
                            MachineFixtures.run(MachineFixtures.slowerRecords, kernel: "6.18.0-new"))
        #expect(c.comparable)
        #expect(c.exitCode == 1)
        #expect(c.regressions.count == 1)
        #expect(c.warnings.first?.contains("ENVIRONMENT DIFFERS") == true && c.warnings.first?.contains("kernel") == true)
    }

    /// The two real runs (Intel Xeon 16 vCPUs, AMD EPYC 2 vCPUs): not comparable, nothing gated.
    @Test func realRunsOfTwoMachines() throws {
        let x = try RunLoader.load(MachineFixtures.xeon16), e = try RunLoader.load(MachineFixtures.epyc2)
        let c = try Comparison.make(baseline: x, baselineSource: "xeon", current: e, currentSource: "epyc")
        #expect(c.exitCode == 3)
        #expect(c.machineChanges.map(\.fact) == ["cpu_model"])
        let g = try Comparison.make(baseline: x, baselineSource: "xeon", current: e, currentSource: "epyc", acrossMachines: true)
        #expect(g.exitCode == (g.regressions.isEmpty ? 0 : 1))
        #expect(!g.regressions.isEmpty, "a 16-vCPU Xeon and a 2-vCPU EPYC differ: gated anyway, something regresses")
    }
}
