import Foundation
import Testing
@testable import SwitchBench

@Suite struct MachineIDTests {
    @Test(arguments: [
        ("Intel(R) Xeon(R) Processor", 2, "KVM", "intel-xeon-2cpu-kvm"),
        ("AMD EPYC", 2, "KVM", "amd-epyc-2cpu-kvm"),
        ("Intel(R) Core(TM) i7-8700K CPU @ 3.70GHz", 12, "none", "intel-core-i7-8700k-12cpu-metal"),
        ("AMD EPYC 7B13 64-Core Processor", 16, "Microsoft Corporation", "amd-epyc-7b13-64-core-16cpu-microsoft-corporation"),
        ("", 4, "", "unknown-cpu-4cpu-unknown-virt"),
    ])
    func derivation(model: String, count: Int, virt: String, expected: String) {
        #expect(Environment.machineID(cpuModel: model, onlineCPUCount: count, virtualization: virt) == expected)
    }

    @Test func safeSlugNeverTheHost() {
        var env = ReportFixture.environment()
        env.host = "build-host-42"
        env.cpuModel = "Weird/CPU \"x\" ../../etc"
        env.onlineCPUCount = 8
        let id = env.machineID
        #expect(!id.contains("build-host"))
        #expect(id.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" }, "\(id)")
        #expect(!id.hasPrefix("-") && !id.hasSuffix("-") && !id.contains("--") && id.count <= 80)
        #expect(id == "weird-cpu-x-etc-8cpu-kvm")
    }

    @Test func thisMachineHasAnID() {
        let env = Environment.read()
        let n = try? #require(env.onlineCPUCount)
        #expect(env.machineID.contains("-\(n ?? -1)cpu-"))
        #expect(env.lines.contains { $0.0 == "machine_id" && $0.1 == env.machineID })
    }

    /// The committed CI baselines are named by the machine they were made on, as derived from their
    /// own rows (the count is left out of the check when a baseline predates the online_cpus column).
    @Test func committedBaselinesAreNamedByTheirMachine() throws {
        let dir = MachineFixtures.root + "/results/baselines"
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".csv") }
        #expect(!files.isEmpty)
        for f in files {
            let (run, fields) = try RunLoader.load(dir + "/" + f)
            #expect(Set(fields.map { $0["cpu_model"] ?? "" }).count == 1, "\(f): one machine per baseline")
            let e = run.environment
            let name = String(f.dropLast(4))
            if e.onlineCPUCount != nil {
                #expect(name == e.machineID, "\(f)")
            } else {
                let model = Environment.machineID(cpuModel: e.cpuModel, onlineCPUCount: nil, virtualization: e.virtualization)
                let virt = model.split(separator: "-").last.map(String.init) ?? ""
                #expect(name.hasPrefix(String(model.dropLast(virt.count + 1)) + "-") && name.hasSuffix("cpu-" + virt), "\(f)")
            }
        }
    }
}

@Suite struct OnlineCPUsColumnTests {
    @Test func appendedAfterSampleValuesAndRoundTrips() throws {
        // The first column appended after the contract's extras (docs/csv.md gives the order).
        #expect(CSVExporter.columns.firstIndex(of: "online_cpus")! == CSVExporter.columns.firstIndex(of: "sample_values")! + 1)
        var run = ReportFixture.basic
        run.environment.onlineCPUCount = 16
        let loaded = try RunLoader.parse(CSVExporter.render(run), source: "t.csv")
        #expect(loaded.run.environment.onlineCPUCount == 16)
        #expect(loaded.fields.allSatisfy { $0["online_cpus"] == "16" })
    }

    @Test func realRunsWithoutTheColumnLoad() throws {
        for path in [MachineFixtures.xeon16, MachineFixtures.epyc2] {
            let (run, fields) = try RunLoader.load(path)
            #expect(!run.records.isEmpty)
            #expect(fields.first?["online_cpus"] == nil)
            #expect(run.environment.onlineCPUCount == nil)
            #expect(run.environment.host == "vm")   // both hosts are called vm: the host name tells nothing
        }
    }
}
