import Foundation
import Testing
@testable import SwitchBench

/// The silicon in the fingerprint (issue 24): vendor, family, model, stepping, caches; a fact one run did
/// not record is unknown, not the same.
@Suite struct MachineIdentityTests {
    static let xeon2 = MachineFixtures.root + "/Tests/SwitchBenchTests/Fixtures/runs/xeon-2vcpu-kvm/results.csv"

    /// A fixture CSV with the silicon columns added (an edited copy: every row gets the same values).
    static func withSilicon(_ path: String, vendor: String = "GenuineIntel", family: String = "6", model: String,
                            stepping: String = "2", caches: String = "L1d=48K L1i=32K L2=2048K L3=327680K") throws -> String {
        var rows = try CSV.parse(String(contentsOfFile: path, encoding: .utf8)).filter { !($0.count == 1 && $0[0].isEmpty) }
        rows[0] += ["cpu_vendor", "cpu_family", "cpu_model_number", "cpu_stepping", "cpu_caches"]
        for i in rows.indices.dropFirst() { rows[i] += [vendor, family, model, stepping, caches] }
        return rows.map(CSV.line).joined(separator: "\n") + "\n"
    }

    @Test func cpuinfoAndSysfsAreRead() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sb-cpuid-\(getpid())").path + "/"
        defer { try? FileManager.default.removeItem(atPath: root) }
        for (i, (level, type, size)) in [("1", "Data", "48K"), ("1", "Instruction", "32K"), ("2", "Unified", "2048K"), ("3", "Unified", "327680K")].enumerated() {
            let d = root + "sys/devices/system/cpu/cpu0/cache/index\(i)"
            try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
            for (f, v) in [("level", level), ("type", type), ("size", size)] { try (v + "\n").write(toFile: "\(d)/\(f)", atomically: true, encoding: .utf8) }
        }
        let cpuinfo = "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 207\nmodel name\t: Intel(R) Xeon(R) Processor\nstepping\t: 2\n\nprocessor\t: 1\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 143\n"
        let id = CPUIdentity.read(cpuinfo: cpuinfo, root: root)
        #expect(id == CPUIdentity(vendor: "GenuineIntel", family: "6", model: "207", stepping: "2", caches: "L1d=48K L1i=32K L2=2048K L3=327680K"))
        // ARM: no family or stepping line, no cache directory: recorded as absent, not left unrecorded
        let arm = CPUIdentity.read(cpuinfo: "processor\t: 0\nCPU implementer\t: 0x41\n", root: root + "none/")
        #expect(arm.family == "n/a" && arm.vendor == "n/a" && arm.caches == "n/a")
    }

    @Test(arguments: [
        ("Intel(R) Xeon(R) Processor", "6", "207", 2, "KVM", "intel-xeon-6-207-2cpu-kvm"),
        ("AMD EPYC", "25", "17", 2, "KVM", "amd-epyc-25-17-2cpu-kvm"),
        ("Intel(R) Xeon(R) Processor", "6", "143", 2, "KVM", "intel-xeon-6-143-2cpu-kvm"),
        ("Neoverse", "n/a", "n/a", 4, "none", "neoverse-4cpu-metal"),
        ("AMD EPYC", "", "", 2, "KVM", "amd-epyc-2cpu-kvm"),
    ])
    func idNamesTheSilicon(model: String, family: String, number: String, count: Int, virt: String, expected: String) {
        #expect(Environment.machineID(cpuModel: model, family: family, model: number, onlineCPUCount: count, virtualization: virt) == expected)
    }

    @Test func microarchitectureTable() {
        #expect(CPUIdentity.microarchitecture(vendor: "AuthenticAMD", family: "25", model: "17") == "Zen 4")
        #expect(CPUIdentity.microarchitecture(vendor: "AuthenticAMD", family: "25", model: "1") == "Zen 3")
        #expect(CPUIdentity.microarchitecture(vendor: "GenuineIntel", family: "6", model: "207") == "Emerald Rapids")
        #expect(CPUIdentity.microarchitecture(vendor: "GenuineIntel", family: "6", model: "143") == "Sapphire Rapids")
        #expect(CPUIdentity.microarchitecture(vendor: "GenuineIntel", family: "6", model: "85", stepping: "7") == "Cascade Lake")
        #expect(CPUIdentity.microarchitecture(vendor: "GenuineIntel", family: "6", model: "999") == nil)
        var e = ReportFixture.environment()
        (e.cpuVendor, e.cpuFamily, e.cpuModelNumber, e.cpuStepping) = ("AuthenticAMD", "25", "17", "1")
        #expect(EnvironmentText.machine(e, lang: .en).hasPrefix("`Test CPU` (`Zen 4`, family 25 model 17 stepping 1)"))
        #expect(EnvironmentText.machine(e, lang: .zh).hasPrefix("`Test CPU`（`Zen 4`，系列 25 型号 17 步进 1）"))
        e.cpuModelNumber = "250"   // not in the table: the numbers
        #expect(EnvironmentText.line(e, lang: .en).contains("`Test CPU` (family 25 model 250 stepping 1)"))
        e.cpuFamily = ""           // not recorded: nothing added
        #expect(EnvironmentText.machine(e, lang: .en).hasPrefix("`Test CPU`, "))
    }

    @Test func siliconColumnsRoundTripAndOldCSVsLoadUnrecorded() throws {
        var run = ReportFixture.basic
        (run.environment.cpuVendor, run.environment.cpuFamily, run.environment.cpuModelNumber) = ("GenuineIntel", "6", "207")
        (run.environment.cpuStepping, run.environment.cpuCaches) = ("2", "L1d=48K L2=2048K")
        let e = try RunLoader.parse(CSVExporter.render(run), source: "t.csv").run.environment
        #expect(e.machineFacts == run.environment.machineFacts)
        // results.json: the facts survive, and a file written before them loads them as not recorded
        #expect(try JSONExporter.decode(JSONExporter.render(run)).environment.machineFacts == run.environment.machineFacts)
        var json = try #require(try JSONSerialization.jsonObject(with: Data(JSONExporter.render(run).utf8)) as? [String: Any])
        var env = try #require(json["environment"] as? [String: Any])
        for k in ["cpuVendor", "cpuFamily", "cpuModelNumber", "cpuStepping", "cpuCaches"] { env.removeValue(forKey: k) }
        json["environment"] = env
        let oldJSON = String(decoding: try JSONSerialization.data(withJSONObject: json), as: UTF8.self)
        #expect(try JSONExporter.decode(oldJSON).environment.cpuFamily == "")
        let old = try RunLoader.load(MachineFixtures.xeon16).run.environment
        #expect(old.cpuFamily.isEmpty && old.cpuCaches.isEmpty)
        for column in ["cpu_vendor", "cpu_family", "cpu_model_number", "cpu_stepping", "cpu_caches"] {
            #expect(CSVExporter.columns.contains(column))
        }
    }

    /// Two CSVs that differ only in the CPU model number (the same model string, an edited copy of a fixture).
    @Test func anotherModelNumberIsNotComparable() throws {
        let emerald = try RunLoader.parse(Self.withSilicon(MachineFixtures.xeon16, model: "207"), source: "emerald.csv")
        let sapphire = try RunLoader.parse(Self.withSilicon(MachineFixtures.xeon16, model: "143"), source: "sapphire.csv")
        let c = try Comparison.make(baseline: sapphire, baselineSource: "sapphire.csv", current: emerald, currentSource: "emerald.csv")
        #expect(c.exitCode == 3)
        #expect(c.machineChanges.map(\.fact) == ["cpu_model_number"])
        #expect(c.warnings.first?.contains("cpu_model_number '143' → '207'") == true, "\(c.warnings)")
        let family = try RunLoader.parse(Self.withSilicon(MachineFixtures.xeon16, family: "25", model: "207"), source: "f.csv")
        #expect(try Comparison.make(baseline: family, baselineSource: "f", current: emerald, currentSource: "e").machineChanges.map(\.fact) == ["cpu_family"])
        // machines.md: two machine numbers
        let cols = [emerald.run, sapphire.run].map { MachineColumn(run: $0) }
        #expect(MachinesReport.labels(cols) == ["M1", "M2"])
        #expect(MachinesReport.render(cols).contains("(`Emerald Rapids`)"))
        // the same copy twice: one machine, comparable
        #expect(try Comparison.make(baseline: emerald, baselineSource: "a", current: emerald, currentSource: "b").exitCode == 0)
    }

    /// A CSV without the new columns beside one with them: unknown, not the same.
    @Test func aCSVWithoutTheColumnsIsNotComparable() throws {
        let old = try RunLoader.load(MachineFixtures.xeon16)
        let new = try RunLoader.parse(Self.withSilicon(MachineFixtures.xeon16, model: "207"), source: "new.csv")
        let c = try Comparison.make(baseline: old, baselineSource: "old.csv", current: new, currentSource: "new.csv")
        #expect(c.exitCode == 3)
        #expect(c.machineChanges.map(\.fact) == ["cpu_vendor", "cpu_family", "cpu_model_number", "cpu_stepping", "cpu_caches"])
        #expect(c.warnings.first?.contains("cpu_family not recorded in the baseline (current '6')") == true, "\(c.warnings)")
        #expect(c.markdown(lang: .zh).contains("基线没有记录 `cpu_family`"))
        #expect(try Comparison.make(baseline: old, baselineSource: "o", current: new, currentSource: "n", acrossMachines: true).exitCode != 3)
        #expect(MachinesReport.labels([old.run, new.run].map { MachineColumn(run: $0) }) == ["M1", "M2"])
    }

    /// The case: the 16-vCPU Xeon run against a 2-vCPU Xeon guest of the same model string, the
    /// first without a CPU count: exit 3, not five "regressions".
    @Test func theSixteenVCPUXeonAgainstATwoVCPUXeonIsNotComparable() throws {
        let x16 = try RunLoader.load(MachineFixtures.xeon16), x2 = try RunLoader.load(Self.xeon2)
        #expect(x16.run.environment.cpuModel == x2.run.environment.cpuModel)
        let c = try Comparison.make(baseline: x16, baselineSource: "xeon16", current: x2, currentSource: "xeon2")
        #expect(c.exitCode == 3)
        #expect(c.machineChanges.map(\.fact) == ["online_cpus"])
        #expect(c.warnings.first?.contains("online_cpus not recorded in the baseline (current '2')") == true, "\(c.warnings)")
    }
}
