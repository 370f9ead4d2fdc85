import Foundation
import Testing
@testable import SwitchBench

/// The CLI as a user meets these rules: exit codes, one line, nothing measured or written.
extension ProcessSpawningTests {
@Suite struct MachinesCLITests {
    @Test func explicitCrossCPUOnOneCPUIsExitTwo() throws {
        let dir = CLITests.tempDir()
        let (r, _) = try CLITests.run(["run", "process", "--cpus", "0", "--placement", "cross-cpu", "--output", dir])
        #expect(r.status == 2)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("switchbench: error: --placement cross-cpu cannot be honoured"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir), "nothing written")
    }

    @Test func runWithoutPlacementOnOneCPUSkipsCrossCPU() throws {
        let dir = CLITests.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (r, _) = try CLITests.run(["run", "thread", "--cpus", "0", "--mechanism", "futex", "--quick", "--samples", "3",
                                       "--format", "csv", "--output", dir])
        #expect(r.status == 0, "\(r.stderr)")
        let csv = try String(contentsOfFile: dir + "/results.csv", encoding: .utf8)
        #expect(!csv.contains(",cross-cpu,"))
        #expect(csv.contains(",same-cpu,"))
        #expect(r.stderr.split(separator: "\n").filter { $0.contains("skipped") && $0.contains("cross-cpu") }.count == 1, "\(r.stderr)")
        let md = try String(contentsOfFile: dir + "/results.md", encoding: .utf8)
        #expect(md.split(separator: "\n").filter { $0.contains("Not measured") }.count == 1)
    }

    /// An output directory that cannot be written is found before the first case: exit 2, one line.
    @Test(arguments: ["/proc/switchbench-x", "/proc/self", "FILE", "FILE/sub"])
    func unwritableOutputFailsBeforeMeasuring(output: String) throws {
        let dir = CLITests.tempDir()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "not a directory".write(toFile: dir + "/file", atomically: true, encoding: .utf8)
        let out = output.replacingOccurrences(of: "FILE", with: dir + "/file")
        let (r, _) = try CLITests.run(["run", "process", "--mechanism", "pipe", "--quick", "--output", out])
        #expect(r.status == 2, "\(output): \(r.stderr)")
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("switchbench: error: "), "\(output): nothing measured first: \(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test func envPrintsTheMachineID() throws {
        let (r, _) = try CLITests.run(["env", "--machine-id"])
        #expect(r.status == 0)
        #expect(r.stdout == Environment.read().machineID + "\n")
    }

    @Test func compareAcrossMachinesExitsThreeUnlessAsked() throws {
        let dir = try CompareCLITests.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try CSVExporter.render(MachineFixtures.run(ReportFixture.basic.records, cpuModel: "Intel(R) Xeon(R) Processor"))
            .write(toFile: dir + "/a.csv", atomically: true, encoding: .utf8)
        try CSVExporter.render(MachineFixtures.run(MachineFixtures.slowerRecords, cpuModel: "AMD EPYC"))
            .write(toFile: dir + "/b.csv", atomically: true, encoding: .utf8)
        let (r, _) = try CLITests.run(["compare", dir + "/a.csv", dir + "/b.csv"])
        #expect(r.status == 3, "\(r.stderr)")
        #expect(r.stdout.contains("NOT COMPARABLE") && r.stdout.contains("| class |"))
        #expect(r.stderr.contains("cpu_model"))
        let (g, _) = try CLITests.run(["compare", dir + "/a.csv", dir + "/b.csv", "--across-machines"])
        #expect(g.status == 1, "\(g.stderr)")
    }
}
}
