import Foundation
import Testing
@testable import SwitchBench

/// `switchbench compare` and `switchbench report` as a user runs them: exit codes and one-line errors.
/// They start the binary, so they run with the other process-spawning tests, one at a time.
extension ProcessSpawningTests {
@Suite struct CompareCLITests {
    static func tempDir() throws -> String {
        let dir = NSTemporaryDirectory() + "sb-compare-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    func write(_ text: String, _ path: String) throws { try text.write(toFile: path, atomically: true, encoding: .utf8) }

    @Test func exitCodesOfCompare() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let base = ReportFixture.basic
        var slower = base
        // The process round trip 30 % slower, and its per_switch (round trip ÷ tasks) with it: one
        // change, gated once (per_switch is derived from the round trip, shown, not counted).
        for metric in ["round_trip", "per_switch"] {
            guard let i = slower.records.firstIndex(where: { $0.harness == "process" && $0.metric == metric }) else { continue }
            let old = slower.records[i]
            slower.records[i] = Record(harness: old.harness, mechanism: old.mechanism, placement: old.placement, cpus: old.cpus,
                                       tasks: old.tasks, metric: old.metric, samples: old.sampleValues.map { $0 * 1.3 },
                                       opsPerSample: old.opsPerSample)
        }
        try write(CSVExporter.render(base), dir + "/a.csv")
        try write(CSVExporter.render(slower), dir + "/b.csv")

        let (same, _) = try CLITests.run(["compare", dir + "/a.csv", dir + "/a.csv", "--format", "csv"])
        #expect(same.status == 0)
        #expect(same.stdout.split(separator: "\n").dropFirst().allSatisfy { $0.hasPrefix("unchanged,") })

        let (diff, _) = try CLITests.run(["compare", dir + "/a.csv", dir + "/b.csv", "--format", "csv"])
        #expect(diff.status == 1)
        let regressions = diff.stdout.split(separator: "\n").filter { $0.hasPrefix("regression,") }
        #expect(regressions.count == 1)
        #expect(regressions.first?.hasPrefix("regression,process,pipe,same-cpu,0,2,0,,,round_trip,") == true)

        // --confirm: a rerun that reads the baseline's value clears the change (exit 0); one that is
        // slower again keeps it (exit 1).
        let (cleared, _) = try CLITests.run(["compare", dir + "/a.csv", dir + "/b.csv", "--confirm", dir + "/a.csv", "--format", "csv"])
        #expect(cleared.status == 0)
        #expect(cleared.stdout.contains("not confirmed"))
        let (kept, _) = try CLITests.run(["compare", dir + "/a.csv", dir + "/b.csv", "--confirm", dir + "/b.csv", "--format", "csv"])
        #expect(kept.status == 1)
        #expect(kept.stdout.contains("confirmed by 1 rerun"))
        let (badRerun, _) = try CLITests.run(["compare", dir + "/a.csv", dir + "/b.csv", "--confirm", dir + "/missing.csv"])
        #expect(badRerun.status == 2)

        let (json, _) = try CLITests.run(["compare", dir + "/a.csv", dir + "/b.csv", "--format", "json"])
        #expect(json.status == 1)
        #expect((try? JSONSerialization.jsonObject(with: Data(json.stdout.utf8))) != nil)

        // bad input: each exits 2 with one line
        let header = CSVExporter.columns.joined(separator: ",")
        try write("", dir + "/empty.csv")
        try write(header + "\n", dir + "/header.csv")
        try write(header + ",bogus\n", dir + "/unknown.csv")
        try write("x,y\n1,2\n", dir + "/garbage.csv")
        try FileManager.default.createDirectory(atPath: dir + "/nodata", withIntermediateDirectories: true)
        let other = ReportFixture.run([ReportFixture.record("tlb", "4k", metric: "ns_per_access", 2, tasks: 1, pages: 8)])
        try write(CSVExporter.render(other), dir + "/other.csv")
        for bad in ["empty.csv", "header.csv", "unknown.csv", "garbage.csv", "nodata", "missing.csv", "other.csv"] {
            let args: [String] = ["compare", dir + "/a.csv", dir + "/" + bad]
            let (r, _) = try CLITests.run(args)
            #expect(r.status == 2, "\(bad)")
            let lines: [Substring] = r.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(bad): \(r.stderr)")
            #expect(lines.first?.hasPrefix("switchbench: error: ") == true, "\(bad)")
        }
        let (fmt, _) = try CLITests.run(["compare", dir + "/a.csv", dir + "/a.csv", "--format", "xml"])
        #expect(fmt.status == 2)
    }

    /// `compare --require-gate PCT` as CI runs it: exit 4 and the first stdout line naming the groups when the
    /// baseline's runs disagree by ±30 %; exit 0 when they agree; bad values exit 2 with one line.
    @Test func requireGateExitCode() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func run(_ factor: Double) -> RunResult {
            ReportFixture.run((0..<8).map { ReportFixture.record("thread", "m\($0)", metric: "per_switch", 1000 * Double($0 + 1) * factor, spread: 0.005) })
        }
        try write([0.7, 1.0, 1.3].map { CSVExporter.render(run($0)) }.joined(), dir + "/noisy.csv")
        try write([0.99, 1.0, 1.01].map { CSVExporter.render(run($0)) }.joined(), dir + "/quiet.csv")
        try write(CSVExporter.render(run(1)), dir + "/cur.csv")
        let (blind, _) = try CLITests.run(["compare", dir + "/noisy.csv", dir + "/cur.csv", "--require-gate", "25%"])
        #expect(blind.status == 4, "\(blind.stderr)")
        let first = blind.stdout.split(separator: "\n").first.map(String.init) ?? ""
        #expect(first.hasPrefix("🚫 **CANNOT GATE a +25 % slowdown") && first.contains("`thread same-cpu` from +"), "\(first)")
        #expect(blind.stderr.contains("switchbench: 🚫 CANNOT GATE a +25 % slowdown"))
        let (seeing, _) = try CLITests.run(["compare", dir + "/quiet.csv", dir + "/cur.csv", "--require-gate", "25"])
        #expect(seeing.status == 0, "\(seeing.stderr)")
        #expect(seeing.stdout.hasPrefix("✅ **Every group can gate a +25 % slowdown**"))
        let (json, _) = try CLITests.run(["compare", dir + "/noisy.csv", dir + "/cur.csv", "--require-gate", "25%", "--format", "json"])
        #expect(json.status == 4)
        let obj = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(obj?["cannotGate"] as? Bool == true && (obj?["blindGroups"] as? [Any])?.count == 1)
        for bad in ["5%", "abc", "-3", "2000"] {   // below the 10 % threshold, not a number, out of range
            let (r, _) = try CLITests.run(["compare", dir + "/quiet.csv", dir + "/cur.csv", "--require-gate=\(bad)"])
            #expect(r.status == 2 && r.stderr.hasPrefix("switchbench: error: --require-gate"), "\(bad): \(r.stderr)")
        }
    }

    @Test func reportRegeneratesFromCSV() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try write(CSVExporter.render(ReportFixture.basic), dir + "/results.csv")
        let (r, _) = try CLITests.run(["report", dir, "--output", dir + "/out"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("## C1:"))
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/out").sorted()
        #expect(files == ["notes.md", "report.md", "switch-cost.svg"])
    }

    @Test func reportAndCompareRenderAnEnglishCSVInChinese() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try write(CSVExporter.render(ReportFixture.basic), dir + "/results.csv")
        let (r, _) = try CLITests.run(["report", dir, "--output", dir + "/zh", "--lang", "zh"])
        #expect(r.status == 0)
        let md = try String(contentsOfFile: dir + "/zh/report.md", encoding: .utf8)
        #expect(md.hasPrefix("# switchbench 结论报告"))
        #expect(LeakCheck.leaks(md).isEmpty, "\(LeakCheck.leaks(md).prefix(5))")
        #expect(try String(contentsOfFile: dir + "/zh/switch-cost.svg", encoding: .utf8).contains("各种切换的代价"))
        let (c, _) = try CLITests.run(["compare", dir + "/results.csv", dir + "/results.csv", "--lang", "zh"])
        #expect(c.status == 0)
        #expect(c.stdout.contains("## switchbench 对比"))
        let (bad, _) = try CLITests.run(["report", dir, "--output", dir + "/x", "--lang", "fr"])
        #expect(bad.status == 2)
    }
}
}
